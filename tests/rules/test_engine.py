"""The engine: every disposition code it decides, problems, messages, dedupe, allocation and robustness."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from leadgate.rules import catalogue
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
from leadgate.rules.engine import Engine, decide, message, shown
from leadgate.rules.outcome import Decision, LeadInput, MemoryDedupeIndex

JOB_LEVEL = Picklist(
    "job_level",
    "Job Level",
    ("C-Level", "VP", "Director", "Manager", "Individual Contributor", "Other"),
    {"Vice President": "VP"},
)
INTERESTS = Picklist("interests", "Interests", ("Cloud", "Data", "AI", "Security"), {"ML": "AI"})

EMAIL = FieldRule("email", "Email", FieldType.EMAIL, required=True)
FIRST_NAME = FieldRule("first_name", "First Name", required=True, max_length=40)
COUNTRY = FieldRule("country", "Country", FieldType.COUNTRY)
STATE = FieldRule("state", "State", FieldType.STATE)
PHONE = FieldRule("phone", "Phone", FieldType.PHONE)
JOB = FieldRule("job_level", "Job Level", FieldType.PICKLIST, picklist=JOB_LEVEL)
OPT_IN = FieldRule("opt_in", "Opt-in", FieldType.CONSENT, required=True)


def rules(*fields: FieldRule, **options: Any) -> SourceRules:
    return SourceRules("data-summit-2026", fields or (EMAIL, FIRST_NAME), **options)


def lead(lead_id: str = "LD-1", check_live: bool = True, **values: Any) -> LeadInput:
    return LeadInput(lead_id, values, check_live)


def one(source: SourceRules, **values: Any) -> Decision:
    return decide(source, [lead(**values)])[0]


def codes(decision: Decision) -> list[str]:
    return [p.code for p in decision.problems]


# --- accepted ------------------------------------------------------------------------------------


def test_a_clean_lead_is_accepted_with_clean_values() -> None:
    source = rules(EMAIL, FIRST_NAME, COUNTRY, STATE, PHONE, JOB, OPT_IN)
    decision = one(
        source,
        email=" Ann@Example.COM ",
        first_name="  Ann ",
        country="deutschland",
        state="BE",
        phone="030 1234567",
        job_level="vice president",
        opt_in="Yes",
    )
    assert decision.status is Status.ACCEPTED and decision.accepted
    assert decision.disposition_code == catalogue.ACCEPT_LEAD
    assert decision.custom_reason == ""
    assert decision.problems == ()
    assert dict(decision.clean) == {
        "email": "Ann@example.com",
        "first_name": "Ann",
        "country": "Germany",
        "state": "Berlin",
        "phone": "+49301234567",
        "job_level": "VP",
        "opt_in": True,
    }
    assert list(decision.clean) == [f.key for f in source.fields]  # field order
    assert dict(decision.dedupe_keys) == {"email": "ann@example.com", "phone": "+49301234567"}


def test_empty_optional_fields_are_none_and_defaults_apply() -> None:
    source = rules(
        EMAIL,
        FieldRule("company", "Company"),
        FieldRule("country", "Country", FieldType.COUNTRY, default="US"),
        FieldRule("level", "Job Level", FieldType.PICKLIST, picklist=JOB_LEVEL, default="Other"),
        PHONE,
    )
    decision = one(source, email="ann@example.com", company="   ", level=None, phone="(415) 555-0132")
    assert decision.accepted, decision.custom_reason
    assert decision.clean["company"] is None
    assert decision.clean["country"] == "United States"
    assert decision.clean["level"] == "Other"
    assert decision.clean["phone"] == "+14155550132"  # the default country is the phone's region too


def test_alpha2_format_for_country_and_state() -> None:
    country = dataclasses.replace(COUNTRY, country_format="alpha2")
    state = dataclasses.replace(STATE, country_format="alpha2")
    decision = one(
        rules(EMAIL, country, state), email="a@example.com", country="United States", state="california"
    )
    assert (decision.clean["country"], decision.clean["state"]) == ("US", "CA")
    decision = one(rules(EMAIL, country, state), email="a@example.com", country="US", state="US-NY")
    assert decision.clean["state"] == "NY"


def test_non_text_values_from_json_are_converted() -> None:
    source = rules(
        EMAIL,
        FieldRule("seats", "Seats", FieldType.NUMBER, integer=True),
        FieldRule("vip", "VIP", FieldType.BOOLEAN),
        OPT_IN,
    )
    decision = one(source, email="a@example.com", seats=12, vip=False, opt_in=True)
    assert decision.accepted, decision.custom_reason
    assert (decision.clean["seats"], decision.clean["vip"], decision.clean["opt_in"]) == (12, False, True)


def test_idn_emails_are_accepted() -> None:
    decisions = decide(
        rules(),
        [
            lead("LD-1", email="jürgen@müller.de", first_name="Jürgen"),
            lead("LD-2", email="用户@例子.广告", first_name="用户"),
        ],
    )
    assert [d.disposition_code for d in decisions] == [catalogue.ACCEPT_LEAD, catalogue.ACCEPT_LEAD]
    assert decisions[1].clean["email"] == "用户@例子.广告"


# --- every engine disposition code ---------------------------------------------------------------


def test_source_not_live_unless_check_live_is_off() -> None:
    source = rules(live=False)
    decision = one(source, email="ann@example.com", first_name="Ann")
    assert decision.disposition_code == catalogue.SOURCE_NOT_LIVE
    assert decision.problems[0].field is None
    reprocessed = decide(source, [lead(check_live=False, email="ann@example.com", first_name="Ann")])[0]
    assert reprocessed.accepted


def test_missing_required_field() -> None:
    decision = one(rules(), email="ann@example.com", first_name=" \t ")
    assert decision.disposition_code == catalogue.MISSING_REQUIRED_FIELD
    assert decision.problems[0].field == "first_name"
    assert decision.custom_reason == "First Name: is required but empty"


def test_required_consent_not_given_counts_as_missing() -> None:
    for value in ("no", "", "false", None):
        decision = one(rules(EMAIL, OPT_IN), email="ann@example.com", opt_in=value)
        assert decision.disposition_code == catalogue.MISSING_REQUIRED_FIELD, value
        assert "consent was not given" in decision.custom_reason


def test_invalid_email() -> None:
    decision = one(rules(), email="ann@@example.com", first_name="Ann")
    assert decision.disposition_code == catalogue.INVALID_EMAIL
    assert decision.custom_reason.startswith('Email: "ann@@example.com" is not a valid email address: ')
    assert decision.clean["email"] is None


class FakeResolver:
    def __init__(self, dead: set[str]) -> None:
        self.dead = dead
        self.asked: list[str] = []

    def undeliverable_reason(self, ascii_domain: str, domain: str) -> str | None:
        self.asked.append(ascii_domain)
        return f"the domain name {domain} does not exist" if ascii_domain in self.dead else None


def test_undeliverable_email_only_when_the_field_asks_and_once_per_domain() -> None:
    checked = dataclasses.replace(EMAIL, check_deliverability=True)
    resolver = FakeResolver({"nowhere.example"})
    engine = Engine(rules(checked, FIRST_NAME), resolver=resolver)
    decisions = engine.decide(
        [
            lead("LD-1", email="ann@nowhere.example", first_name="Ann"),
            lead("LD-2", email="bob@nowhere.example", first_name="Bob"),
            lead("LD-3", email="cy@example.com", first_name="Cy"),
        ]
    )
    assert [d.disposition_code for d in decisions] == [
        catalogue.UNDELIVERABLE_EMAIL,
        catalogue.UNDELIVERABLE_EMAIL,
        catalogue.ACCEPT_LEAD,
    ]
    assert resolver.asked == ["nowhere.example", "example.com"]
    unchecked = FakeResolver({"nowhere.example"})
    assert (
        Engine(rules(), resolver=unchecked)
        .decide([lead(email="a@nowhere.example", first_name="A")])[0]
        .accepted
    )
    assert unchecked.asked == []


FREE = DomainList("free_email", builtin="free")
DISPOSABLE = DomainList("disposable_email", builtin="disposable")
COMPETITORS = DomainList("competitors", ("rival.com", "competitor.*", "*.rival.net"))
ABM = DomainList("abm_accounts", ("acme.com", "*.acme.com", "müller.de"))


@pytest.mark.parametrize(
    ("email", "list_key"),
    [
        ("ann@gmail.com", "free_email"),
        ("ann@GMAIL.COM", "free_email"),
        ("ann@mailinator.com", "disposable_email"),
        ("ann@rival.com", "competitors"),
        ("ann@competitor.co.uk", "competitors"),
        ("ann@eu.rival.net", "competitors"),
    ],
)
def test_blocked_email_domain(email: str, list_key: str) -> None:
    field = dataclasses.replace(
        EMAIL,
        domain_rules=tuple(DomainRule(d, DomainMode.EXCLUDE) for d in (FREE, DISPOSABLE, COMPETITORS)),
    )
    decision = one(rules(field, FIRST_NAME), email=email, first_name="Ann")
    assert decision.disposition_code == catalogue.BLOCKED_EMAIL_DOMAIN
    assert f'exclude list "{list_key}"' in decision.custom_reason
    assert decision.clean["email"] is not None  # the address itself is valid


def test_domain_not_allowed_and_allowed() -> None:
    field = dataclasses.replace(EMAIL, domain_rules=(DomainRule(ABM, DomainMode.ALLOW),))
    source = rules(field, FIRST_NAME)
    assert one(source, email="ann@acme.com", first_name="Ann").accepted
    assert one(source, email="ann@eu.acme.com", first_name="Ann").accepted
    assert one(source, email="ann@xn--mller-kva.de", first_name="Ann").accepted
    decision = one(source, email="ann@globex.com", first_name="Ann")
    assert decision.disposition_code == catalogue.DOMAIN_NOT_ALLOWED
    assert 'is not on the allow list "abm_accounts"' in decision.custom_reason


def test_invalid_list_value_names_the_closest_value() -> None:
    decision = one(rules(EMAIL, JOB), email="ann@example.com", job_level="Chief")
    assert decision.disposition_code == catalogue.INVALID_LIST_VALUE
    assert decision.custom_reason == 'Job Level: "Chief" is not on picklist "Job Level" — closest: "C-Level"'
    assert decision.problems[0].suggestion == "C-Level"
    assert decision.problems[0].value == "Chief"


def test_disallowed_list_value() -> None:
    field = dataclasses.replace(JOB, allowed_values=("C-Level", "VP"))
    decision = one(rules(EMAIL, field), email="ann@example.com", job_level="manager")
    assert decision.disposition_code == catalogue.DISALLOWED_LIST_VALUE
    assert decision.clean["job_level"] == "Manager"
    assert one(rules(EMAIL, field), email="ann@example.com", job_level="vice president").accepted


def test_multi_picklist_all_and_any() -> None:
    all_mode = FieldRule("interests", "Interests", FieldType.MULTI_PICKLIST, picklist=INTERESTS)
    decision = one(rules(EMAIL, all_mode), email="a@example.com", interests="data; ml;Data ;; cloud")
    assert decision.clean["interests"] == "Data;AI;Cloud"
    decision = one(rules(EMAIL, all_mode), email="a@example.com", interests="Data;Blockchain")
    assert decision.disposition_code == catalogue.INVALID_LIST_VALUE
    assert '"Blockchain"' in decision.custom_reason
    any_mode = dataclasses.replace(all_mode, multi_mode="any", separator=",")
    decision = one(rules(EMAIL, any_mode), email="a@example.com", interests="Data, Blockchain, AI")
    assert decision.accepted and decision.clean["interests"] == "Data,AI"
    decision = one(rules(EMAIL, any_mode), email="a@example.com", interests="Blockchain, Web3")
    assert decision.disposition_code == catalogue.INVALID_LIST_VALUE
    allowed = dataclasses.replace(all_mode, allowed_values=("Data",))
    decision = one(rules(EMAIL, allowed), email="a@example.com", interests="Data;Cloud")
    assert decision.disposition_code == catalogue.DISALLOWED_LIST_VALUE


def test_invalid_phone_says_when_a_spreadsheet_damaged_it() -> None:
    decision = one(rules(EMAIL, PHONE), email="a@example.com", phone="4.41632E+11")
    assert decision.disposition_code == catalogue.INVALID_PHONE
    assert decision.custom_reason == (
        'Phone: "4.41632E+11" is not a valid phone number: a spreadsheet turned it into a number in'
        " scientific notation and digits were lost; re-enter it as text"
    )


def test_phone_uses_the_leads_country_as_default_region() -> None:
    source = rules(EMAIL, COUNTRY, PHONE)
    assert one(source, email="a@example.com", country="Germany", phone="030 1234567").clean["phone"] == (
        "+49301234567"
    )
    no_country = one(source, email="a@example.com", country="", phone="030 1234567")
    assert no_country.disposition_code == catalogue.INVALID_PHONE
    unknown_country = one(source, email="a@example.com", country="Atlantis", phone="+49 30 1234567")
    assert codes(unknown_country) == [catalogue.INVALID_COUNTRY]
    assert unknown_country.clean["phone"] == "+49301234567"


def test_invalid_country() -> None:
    decision = one(rules(EMAIL, COUNTRY), email="a@example.com", country="Wakanda")
    assert decision.disposition_code == catalogue.INVALID_COUNTRY
    assert decision.custom_reason == 'Country: "Wakanda" is not a known country'


def test_invalid_state_only_where_subdivisions_are_known() -> None:
    source = rules(EMAIL, COUNTRY, STATE)
    decision = one(source, email="a@example.com", country="US", state="Bavaria")
    assert decision.disposition_code == catalogue.INVALID_STATE
    assert decision.custom_reason == 'State: "Bavaria" is not a state or province of United States'
    assert one(source, email="a@example.com", country="Germany", state="Bavaria").clean["state"] == "Bayern"
    assert one(source, email="a@example.com", country="", state=" Somewhere ").clean["state"] == "Somewhere"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (FieldRule("seats", "Seats", FieldType.NUMBER, max_value=10), "11"),
        (FieldRule("visit", "Visit", FieldType.DATE), "03/04/2026"),
        (FieldRule("at", "At", FieldType.DATETIME), "tomorrow"),
        (FieldRule("vip", "VIP", FieldType.BOOLEAN), "maybe"),
        (FieldRule("site", "Website", FieldType.URL), "not a website"),
    ],
)
def test_invalid_value(field: FieldRule, value: str) -> None:
    decision = one(rules(EMAIL, field), email="a@example.com", **{field.key: value})
    assert decision.disposition_code == catalogue.INVALID_VALUE
    assert decision.custom_reason.startswith(f'{field.label}: "{value}" ')


def test_field_too_long_counts_characters() -> None:
    field = FieldRule("first_name", "First Name", max_length=3)
    assert one(rules(EMAIL, field), email="a@example.com", first_name="Zoë").accepted
    decision = one(rules(EMAIL, field), email="a@example.com", first_name="Zoëy")
    assert decision.disposition_code == catalogue.FIELD_TOO_LONG


def test_suppressed_by_email_and_by_domain() -> None:
    suppression = SuppressionList(
        "do_not_contact", emails=("CEO@Example.com",), domains=("*.blocked.example",)
    )
    source = rules(suppression_lists=(suppression,))
    by_email = one(source, email="ceo@EXAMPLE.com", first_name="Ceo")
    assert by_email.disposition_code == catalogue.SUPPRESSED
    assert 'suppression list "do_not_contact"' in by_email.custom_reason
    by_domain = one(source, email="ann@eu.blocked.example", first_name="Ann")
    assert by_domain.disposition_code == catalogue.SUPPRESSED
    assert one(source, email="ann@example.com", first_name="Ann").accepted


# --- dedupe --------------------------------------------------------------------------------------


def dedupe_rules(key: DedupeKey) -> SourceRules:
    return rules(EMAIL, FIRST_NAME, COUNTRY, PHONE, dedupe=DedupeRule(key))


def test_dedupe_on_email_within_a_batch_names_the_original() -> None:
    decisions = decide(
        dedupe_rules(DedupeKey.EMAIL),
        [
            lead("LD-A", email="ann@example.com", first_name="Ann"),
            lead("LD-B", email="ANN@example.com ", first_name="Ann"),
        ],
    )
    assert decisions[0].accepted
    assert decisions[1].disposition_code == catalogue.DUPLICATE
    assert decisions[1].custom_reason == "Duplicate of LD-A (same email ann@example.com)"


def test_dedupe_against_the_index_and_not_against_itself() -> None:
    index = MemoryDedupeIndex()
    index.add("email:ann@example.com", "LD-OLD")
    engine = Engine(dedupe_rules(DedupeKey.EMAIL), dedupe_index=index)
    decisions = engine.decide(
        [
            lead("LD-NEW", email="ann@example.com", first_name="Ann"),
            lead("LD-OLD", email="ann@example.com", first_name="Ann"),  # reprocessing the original
        ]
    )
    assert decisions[0].custom_reason == "Duplicate of LD-OLD (same email ann@example.com)"
    assert decisions[1].accepted


def test_dedupe_on_phone() -> None:
    decisions = decide(
        dedupe_rules(DedupeKey.PHONE),
        [
            lead("LD-A", email="a@example.com", first_name="A", phone="+49 30 1234567"),
            lead("LD-B", email="b@example.com", first_name="B", country="DE", phone="030 1234567"),
            lead("LD-C", email="c@example.com", first_name="C"),
            lead("LD-D", email="d@example.com", first_name="D"),  # no phone: no dedupe check
        ],
    )
    assert [d.disposition_code for d in decisions] == [
        catalogue.ACCEPT_LEAD,
        catalogue.DUPLICATE,
        catalogue.ACCEPT_LEAD,
        catalogue.ACCEPT_LEAD,
    ]
    assert decisions[1].custom_reason == "Duplicate of LD-A (same phone +49301234567)"
    assert decisions[1].problems[0].field == "phone"


def test_dedupe_on_email_or_phone_hits_on_either() -> None:
    decisions = decide(
        dedupe_rules(DedupeKey.EMAIL_OR_PHONE),
        [
            lead("LD-A", email="a@example.com", first_name="A", phone="+49 30 1234567"),
            lead("LD-B", email="b@example.com", first_name="B", phone="+49 30 1234567"),
            lead("LD-C", email="A@example.com", first_name="C", phone="+1 415 555 0132"),
            lead("LD-D", email="d@example.com", first_name="D", phone="+1 415 555 0199"),
        ],
    )
    assert [d.disposition_code for d in decisions] == [
        catalogue.ACCEPT_LEAD,
        catalogue.DUPLICATE,
        catalogue.DUPLICATE,
        catalogue.ACCEPT_LEAD,
    ]
    assert "LD-A" in decisions[1].custom_reason and "LD-A" in decisions[2].custom_reason


def test_dedupe_on_email_and_phone_needs_both() -> None:
    decisions = decide(
        dedupe_rules(DedupeKey.EMAIL_AND_PHONE),
        [
            lead("LD-A", email="a@example.com", first_name="A", phone="+49 30 1234567"),
            lead("LD-B", email="a@example.com", first_name="B", phone="+1 415 555 0132"),
            lead("LD-C", email="a@example.com", first_name="C", phone="+49 (30) 123-4567"),
        ],
    )
    assert [d.disposition_code for d in decisions] == [
        catalogue.ACCEPT_LEAD,
        catalogue.ACCEPT_LEAD,
        catalogue.DUPLICATE,
    ]
    assert (
        decisions[2].custom_reason == "Duplicate of LD-A (same email and phone a@example.com, +49301234567)"
    )


def test_a_rejected_lead_never_becomes_an_original() -> None:
    decisions = decide(
        dedupe_rules(DedupeKey.EMAIL),
        [
            lead("LD-A", email="ann@example.com", first_name=""),  # rejected: missing first name
            lead("LD-B", email="ann@example.com", first_name="Ann"),
        ],
    )
    assert [d.disposition_code for d in decisions] == [
        catalogue.MISSING_REQUIRED_FIELD,
        catalogue.ACCEPT_LEAD,
    ]


class RecordingIndex:
    """A database-like index: answers find in one call per batch."""

    def __init__(self, originals: Mapping[str, str]) -> None:
        self.originals = dict(originals)
        self.finds: list[list[str]] = []
        self.added: list[tuple[str, str]] = []

    def find(self, keys: Iterable[str]) -> Mapping[str, str]:
        wanted = list(keys)
        self.finds.append(wanted)
        return {k: self.originals[k] for k in wanted if k in self.originals}

    def add(self, key: str, lead_id: str) -> None:
        self.added.append((key, lead_id))


def test_the_index_is_asked_once_per_batch_for_leads_without_problems() -> None:
    index = RecordingIndex({"email:old@example.com": "LD-OLD"})
    engine = Engine(dedupe_rules(DedupeKey.EMAIL), dedupe_index=index)
    decisions = engine.decide(
        [
            lead("LD-1", email="old@example.com", first_name="Old"),
            lead("LD-2", email="new@example.com", first_name="New"),
            lead("LD-3", email="bad@example.com", first_name=""),
        ]
    )
    assert index.finds == [["email:old@example.com", "email:new@example.com"]]
    assert index.added == [("email:new@example.com", "LD-2")]
    assert [d.disposition_code for d in decisions] == [
        catalogue.DUPLICATE,
        catalogue.ACCEPT_LEAD,
        catalogue.MISSING_REQUIRED_FIELD,
    ]


# --- allocation ----------------------------------------------------------------------------------


def test_allocation_cap_carries_across_batches() -> None:
    engine = Engine(rules(allocation=3), allocation_used=1)
    first = engine.decide([lead(f"LD-{i}", email=f"a{i}@example.com", first_name="A") for i in range(2)])
    assert all(d.accepted for d in first)
    second = engine.decide(
        [
            lead("LD-X", email="bad", first_name="A"),
            lead("LD-Y", email="y@example.com", first_name="A"),
        ]
    )
    assert [d.disposition_code for d in second] == [catalogue.INVALID_EMAIL, catalogue.ALLOCATION_REACHED]
    assert second[1].custom_reason == "The source's allocation of 3 leads is reached"


# --- problems, messages and robustness -----------------------------------------------------------


def test_every_problem_is_kept_and_the_code_is_the_first_in_catalogue_order() -> None:
    source = rules(EMAIL, FIRST_NAME, COUNTRY, PHONE, JOB, OPT_IN, live=False)
    decision = one(
        source,
        email="not-an-email",
        first_name="",
        country="Wakanda",
        phone="4.41632E+11",
        job_level="Chief",
        opt_in="no",
    )
    assert codes(decision) == [
        catalogue.SOURCE_NOT_LIVE,
        catalogue.MISSING_REQUIRED_FIELD,  # first_name (position 1)
        catalogue.MISSING_REQUIRED_FIELD,  # opt_in (position 5)
        catalogue.INVALID_EMAIL,
        catalogue.INVALID_LIST_VALUE,
        catalogue.INVALID_PHONE,
        catalogue.INVALID_COUNTRY,
    ]
    assert [p.field for p in decision.problems][1:3] == ["first_name", "opt_in"]
    assert decision.disposition_code == catalogue.SOURCE_NOT_LIVE
    assert decision.status is Status.REJECTED
    assert decision.custom_reason == "; ".join(p.message for p in decision.problems)


def test_long_and_unprintable_values_are_cut_in_messages() -> None:
    assert shown("x" * 100) == "x" * 80 + "…"
    assert shown("a\x00b\nc") == "a\\x00b\\nc"
    text = message(
        "Job Level", "Chief", 'is not on picklist "Job Level"', catalogue.INVALID_LIST_VALUE, "C-Level"
    )
    assert text == 'Job Level: "Chief" is not on picklist "Job Level" — closest: "C-Level"'
    decision = one(rules(EMAIL, JOB), email="a@example.com", job_level="y" * 10_000)
    assert len(decision.custom_reason) < 200
    assert decision.problems[0].value == "y" * 10_000


class Exploding:
    def __str__(self) -> str:
        raise RuntimeError("boom")


def test_an_error_in_one_lead_fails_that_lead_only() -> None:
    engine = Engine(rules(dedupe=DedupeRule()))
    decisions = engine.decide(
        [
            lead("LD-1", email="a@example.com", first_name="A"),
            lead("LD-2", email=Exploding(), first_name="B"),
            lead("LD-3", email="c@example.com", first_name="C"),
        ]
    )
    assert [d.status for d in decisions] == [Status.ACCEPTED, Status.FAILED, Status.ACCEPTED]
    failed = decisions[1]
    assert failed.disposition_code == catalogue.FAILED_PROCESSING_ERROR
    assert failed.custom_reason == "Internal error while checking this lead: RuntimeError: boom"
    assert engine.allocation_used == 2


def test_an_index_that_fails_fails_the_leads_not_the_batch() -> None:
    class BrokenIndex:
        def find(self, keys: Iterable[str]) -> Mapping[str, str]:
            raise ConnectionError("database went away")

        def add(self, key: str, lead_id: str) -> None:
            raise AssertionError("never reached")

    engine = Engine(rules(dedupe=DedupeRule()), dedupe_index=BrokenIndex())
    decisions = engine.decide(
        [lead("LD-1", email="a@example.com", first_name="A"), lead("LD-2", email="bad", first_name="B")]
    )
    assert [d.disposition_code for d in decisions] == [
        catalogue.FAILED_PROCESSING_ERROR,
        catalogue.INVALID_EMAIL,
    ]
    assert "ConnectionError: database went away" in decisions[0].custom_reason


def test_a_picklist_field_without_a_picklist_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="without a picklist"):
        Engine(rules(EMAIL, FieldRule("level", "Level", FieldType.PICKLIST)))


def test_a_default_that_is_empty_to_its_check_counts_as_no_default() -> None:
    field = FieldRule(
        "interests", "Interests", FieldType.MULTI_PICKLIST, required=True, picklist=INTERESTS, default=";"
    )
    decision = one(rules(EMAIL, field), email="a@example.com", interests="")
    assert decision.disposition_code == catalogue.MISSING_REQUIRED_FIELD


def test_the_generated_field_checks_are_readable() -> None:
    engine = Engine(rules(EMAIL, FIRST_NAME, COUNTRY, PHONE))
    source = engine.field_checks_source
    assert source.startswith("def check_fields(get):")
    assert source.index("get('country')") < source.index("get('email')")  # the country comes first
    assert "return {'email': v0, 'first_name': v1, 'country': v2, 'phone': v3}, problems" in source


def test_the_fast_decision_constructor_makes_equal_decisions() -> None:
    from leadgate.rules.engine import _decision

    args = ("LD-1", Status.ACCEPTED, catalogue.ACCEPT_LEAD, "", (), {"email": "a@example.com"}, {})
    made = _decision(*args)
    assert type(made) is Decision
    assert made == Decision(*args)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.status = Status.REJECTED  # type: ignore[misc]
