"""Exempt domain lists: the exceptions one source makes to its email field's allow and exclude lists."""

from __future__ import annotations

import dataclasses

import polars as pl

from leadgate.rules import catalogue
from leadgate.rules.columnar import decide_frame
from leadgate.rules.definitions import DomainList, DomainMode, DomainRule, SourceRules, SuppressionList
from leadgate.rules.engine import Engine
from leadgate.rules.outcome import LeadInput

from .test_engine import ABM, EMAIL, FIRST_NAME, FREE, one, rules

EXCEPTIONS = DomainList("data-summit-2026-allowed", ("gmail.com", "*.partner.io"))


def _source(*domain_rules: DomainRule, **options: object) -> SourceRules:
    return rules(dataclasses.replace(EMAIL, domain_rules=domain_rules), FIRST_NAME, **options)


def test_an_exempt_domain_passes_the_exclude_list_and_others_stay_blocked() -> None:
    source = _source(DomainRule(FREE, DomainMode.EXCLUDE), DomainRule(EXCEPTIONS, DomainMode.EXEMPT))
    assert one(source, email="pat@gmail.com", first_name="Pat").accepted
    assert one(source, email="pat@GMAIL.com", first_name="Pat").accepted
    blocked = one(source, email="pat@yahoo.com", first_name="Pat")
    assert blocked.disposition_code == catalogue.BLOCKED_EMAIL_DOMAIN


def test_an_exempt_domain_passes_the_allow_list_and_wildcards_work() -> None:
    source = _source(DomainRule(ABM, DomainMode.ALLOW), DomainRule(EXCEPTIONS, DomainMode.EXEMPT))
    assert one(source, email="ann@eu.partner.io", first_name="Ann").accepted
    assert one(source, email="ann@acme.com", first_name="Ann").accepted
    refused = one(source, email="ann@globex.com", first_name="Ann")
    assert refused.disposition_code == catalogue.DOMAIN_NOT_ALLOWED
    assert 'not on the allow list "abm_accounts"' in refused.custom_reason  # the exempt list is not named


def test_an_exempt_list_alone_does_not_make_the_field_allow_only() -> None:
    source = _source(DomainRule(EXCEPTIONS, DomainMode.EXEMPT))
    assert one(source, email="ann@globex.com", first_name="Ann").accepted


def test_suppression_still_applies_to_an_exempt_domain() -> None:
    suppressed = SuppressionList("dnc", domains=("gmail.com",))
    source = _source(DomainRule(EXCEPTIONS, DomainMode.EXEMPT), suppression_lists=(suppressed,))
    assert one(source, email="pat@gmail.com", first_name="Pat").disposition_code == catalogue.SUPPRESSED


def test_the_columnar_path_decides_exempt_domains_as_the_row_engine() -> None:
    source = _source(DomainRule(FREE, DomainMode.EXCLUDE), DomainRule(EXCEPTIONS, DomainMode.EXEMPT))
    emails = ["a@gmail.com", "b@yahoo.com", "c@x.partner.io", "d@acme.com"]
    ids = [f"LD-{i}" for i in range(len(emails))]
    rows = [{"email": e, "first_name": "Ann"} for e in emails]
    expected = Engine(source).decide([LeadInput(i, r) for i, r in zip(ids, rows, strict=True)])
    frame = pl.DataFrame({k: pl.Series(k, [r[k] for r in rows], dtype=pl.String) for k in rows[0]})
    got = decide_frame(Engine(source), frame, ids)
    assert list(got) == list(expected)
    assert [d.disposition_code for d in expected] == [
        catalogue.ACCEPT_LEAD,
        catalogue.BLOCKED_EMAIL_DOMAIN,
        catalogue.ACCEPT_LEAD,
        catalogue.ACCEPT_LEAD,
    ]
