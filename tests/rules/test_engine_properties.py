"""Properties of the engine over open-ended input (hypothesis)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.rules import catalogue, geo, phones, picklists
from leadgate.rules.catalogue import Status
from leadgate.rules.definitions import (
    DedupeKey,
    DedupeRule,
    DomainList,
    DomainMode,
    DomainRule,
    FieldRule,
    FieldType,
    Picklist,
    SourceRules,
    SuppressionList,
)
from leadgate.rules.emails import library_validate
from leadgate.rules.engine import Engine
from leadgate.rules.outcome import Decision, LeadInput

JOB_LEVEL = Picklist(
    "job_level", "Job Level", ("C-Level", "VP", "Director", "Manager"), {"Vice President": "VP"}
)
INTERESTS = Picklist("interests", "Interests", ("Cloud", "Data", "AI"))

EVERY_TYPE = SourceRules(
    "every-type",
    (
        FieldRule(
            "email",
            "Email",
            FieldType.EMAIL,
            required=True,
            domain_rules=(
                DomainRule(DomainList("free", builtin="free"), DomainMode.EXCLUDE),
                DomainRule(DomainList("abm", ("*.com", "*.de", "müller.*")), DomainMode.ALLOW),
            ),
        ),
        FieldRule("name", "Name", required=True, max_length=20),
        FieldRule("country", "Country", FieldType.COUNTRY),
        FieldRule("state", "State", FieldType.STATE),
        FieldRule("phone", "Phone", FieldType.PHONE),
        FieldRule("seats", "Seats", FieldType.NUMBER, min_value=0, max_value=100),
        FieldRule("visit", "Visit", FieldType.DATE),
        FieldRule("at", "At", FieldType.DATETIME),
        FieldRule("vip", "VIP", FieldType.BOOLEAN),
        FieldRule("opt_in", "Opt-in", FieldType.CONSENT, required=True),
        FieldRule("site", "Website", FieldType.URL),
        FieldRule(
            "level", "Job Level", FieldType.PICKLIST, picklist=JOB_LEVEL, allowed_values=("VP", "Director")
        ),
        FieldRule("interests", "Interests", FieldType.MULTI_PICKLIST, picklist=INTERESTS, multi_mode="any"),
    ),
    dedupe=DedupeRule(DedupeKey.EMAIL_OR_PHONE),
    allocation=1000,
    suppression_lists=(SuppressionList("dnc", ("ceo@example.com",), ("*.blocked.example",)),),
)
KEYS = [f.key for f in EVERY_TYPE.fields]

# Plausible values per field mixed with arbitrary text, so that both the valid and the invalid paths run.
PLAUSIBLE = {
    "email": [
        "ann@example.com",
        "ANN@Example.com",
        "bob@gmail.com",
        "jürgen@müller.de",
        "ceo@example.com",
        "x@y",
    ],
    "name": ["Ann", " Zoë ", "", "x" * 25],
    "country": ["Germany", "US", "deutschland", "Atlantis", ""],
    "state": ["CA", "Bayern", "ZZ", ""],
    "phone": ["+49 30 1234567", "030 1234567", "(415) 555-0132", "4.41632E+11", "4930123456.0", ""],
    "seats": ["12", "1,234", "-1", "abc"],
    "visit": ["2026-03-14", "03/04/2026", "14.03.2026"],
    "at": ["2026-03-14T09:30:00+01:00", "noon"],
    "vip": ["yes", "nein", "maybe"],
    "opt_in": ["yes", "no", ""],
    "site": ["www.example.com", "not a url"],
    "level": ["VP", "vice president", "Chief", "Manager"],
    "interests": ["Data;AI", "Blockchain", "data; ;cloud"],
}
any_text = st.text(max_size=30) | st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
values = st.fixed_dictionaries(
    {},
    optional={
        key: st.sampled_from(options) | any_text | st.none() | st.integers() | st.booleans() | st.floats()
        for key, options in PLAUSIBLE.items()
    },
)


def check_consistent(decision: Decision) -> None:
    codes = [p.code for p in decision.problems]
    assert decision.disposition_code == (codes[0] if codes else catalogue.ACCEPT_LEAD)
    assert decision.status is catalogue.BY_CODE[decision.disposition_code].status
    order = [catalogue.ORDER[c] for c in codes]
    assert order == sorted(order)
    assert decision.custom_reason == "; ".join(p.message for p in decision.problems)
    assert decision.status is not Status.FAILED, decision.custom_reason


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(values, min_size=1, max_size=6))
def test_engine_never_raises_nor_fails_on_arbitrary_values(batch: list[dict[str, object]]) -> None:
    leads = [LeadInput(f"LD-{i}", v) for i, v in enumerate(batch)]  # type: ignore[arg-type]
    decisions = Engine(EVERY_TYPE).decide(leads)
    assert [d.lead_id for d in decisions] == [lead.lead_id for lead in leads]
    for decision in decisions:
        check_consistent(decision)
        assert list(decision.clean) == KEYS


DEDUPE_FIELDS = (
    FieldRule("email", "Email", FieldType.EMAIL),
    FieldRule("name", "Name", required=True),
    FieldRule("phone", "Phone", FieldType.PHONE),
)
people = st.fixed_dictionaries(
    {
        "email": st.sampled_from(["ann@example.com", "ANN@example.com", "bob@example.com", "", "bad@"]),
        "name": st.sampled_from(["Ann", "Bob", ""]),
        "phone": st.sampled_from(["+49 30 1234567", "+49301234567", "+1 415 555 0132", "", "123"]),
    }
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(list(DedupeKey)),
    st.lists(people, max_size=12),
    st.integers(0, 12),
    st.none() | st.integers(0, 8),
)
def test_one_batch_or_two_gives_the_same_decisions(
    key: DedupeKey, batch: list[dict[str, str]], split: int, allocation: int | None
) -> None:
    source = SourceRules("s", DEDUPE_FIELDS, dedupe=DedupeRule(key), allocation=allocation)
    leads = [LeadInput(f"LD-{i}", v) for i, v in enumerate(batch)]  # type: ignore[arg-type]
    together = Engine(source).decide(leads)
    engine = Engine(source)
    apart = engine.decide(leads[:split]) + engine.decide(leads[split:])
    assert together == apart


@st.composite
def single_values(draw: st.DrawFn) -> tuple[str, str]:
    key = draw(st.sampled_from(["email", "country", "phone", "level"]))
    return key, draw(st.sampled_from(PLAUSIBLE[key]) | st.text(max_size=25))


_SPREADSHEET_DAMAGE = re.compile(r".*\d[.,]0+|.*[eE]\+?\d+")


@settings(max_examples=500, deadline=None)
@given(single_values())
def test_a_value_never_both_matches_and_is_reported_invalid(case: tuple[str, str]) -> None:
    key, value = case
    decision = Engine(EVERY_TYPE).decide([LeadInput("LD-1", {key: value})])[0]
    field_codes = {p.code for p in decision.problems if p.field == key}
    text = value.strip()
    if key == "email":
        valid = bool(text) and not hasattr(library_validate(text), "code")
        assert valid != (catalogue.INVALID_EMAIL in field_codes) or not text
    elif key == "country":
        assert (geo.resolve_country(text) is not None) != (
            catalogue.INVALID_COUNTRY in field_codes
        ) or not text
    elif key == "phone":
        if text and not _SPREADSHEET_DAMAGE.fullmatch(text):
            assert (phones.library_e164(text, None) is not None) != (catalogue.INVALID_PHONE in field_codes)
    else:
        matched = picklists.matcher_for(JOB_LEVEL).match(text) is not None
        assert matched != (catalogue.INVALID_LIST_VALUE in field_codes) or not text
    if field_codes & {catalogue.INVALID_EMAIL, catalogue.INVALID_COUNTRY, catalogue.INVALID_PHONE}:
        assert decision.clean[key] is None
