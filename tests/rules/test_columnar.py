"""The columnar path (leadgate.rules.columnar) decides exactly as the row engine does."""

from __future__ import annotations

from collections import Counter

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.rules import default_rules
from leadgate.demo.generator import COLUMNS, generate_leads
from leadgate.rules.columnar import PY_WHITESPACE, decide_frame
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
from leadgate.rules.engine import Engine
from leadgate.rules.outcome import LeadInput


def frame_of(rows: list[dict[str, str | None]], keys: list[str]) -> pl.DataFrame:
    """A frame of string columns as read_csv(infer_schema=False) gives it: empty cells are null."""
    present = [k for k in keys if any(k in r for r in rows)] or keys[:1]  # a column nobody gave is left out
    return pl.DataFrame({k: pl.Series(k, [r.get(k) or None for r in rows], dtype=pl.String) for k in present})


def assert_same(rules: SourceRules, rows: list[dict[str, str | None]], keys: list[str]) -> None:
    ids = [f"LD-{i}" for i in range(len(rows))]
    row_engine = Engine(rules)
    expected = row_engine.decide([LeadInput(i, r) for i, r in zip(ids, rows, strict=True)])
    column_engine = Engine(rules)
    got = decide_frame(column_engine, frame_of(rows, keys), ids)
    assert len(got) == len(expected)
    for want, have in zip(expected, got, strict=True):
        assert have == want
    assert got.counts() == dict(Counter(d.disposition_code for d in expected))
    assert column_engine.allocation_used == row_engine.allocation_used


def test_generated_leads_decide_as_the_row_engine() -> None:
    rows: list[dict[str, str | None]] = list(generate_leads(20_000, seed=20260314))  # type: ignore[arg-type]
    # a second copy of some leads: duplicates of earlier ones in the same batch
    rows += rows[:500]
    assert_same(default_rules(), rows, list(COLUMNS))


def test_python_whitespace_is_what_str_strip_removes() -> None:
    assert "".join(sorted(PY_WHITESPACE)) == "".join(sorted({c for c in PY_WHITESPACE if not c.strip()}))
    assert "\x1c" in PY_WHITESPACE and "\u3000" in PY_WHITESPACE and "\u200b" not in PY_WHITESPACE


JOB_LEVEL = Picklist(
    "job_level", "Job Level", ("C-Level", "VP", "Director", "Manager"), {"Vice President": "VP"}
)
INTERESTS = Picklist("interests", "Interests", ("Cloud", "Data", "AI"))
FIELDS = (
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
    FieldRule("name", "Name", required=True, max_length=5),
    FieldRule("note", "Note"),
    FieldRule("title", "Title", default=" Mx ", max_length=3),
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
)
KEYS = [f.key for f in FIELDS]
PLAUSIBLE = {
    "email": [
        "ann@example.com",
        "ANN@Example.com",
        "bob@gmail.com",
        "jürgen@müller.de",
        "ceo@example.com",
        "x@y",
        "Postmaster@Example.COM",
        "o'neil+x@example.de",
        "a..b@example.com",
        " ann@example.com\x1c",
        "ann@müller.com",
    ],
    "name": ["Ann", " Zoë ", "", "x" * 7, "\x1cAnn\x1f", "\u3000Bo\u3000", "\u200bAnn"],
    "note": ["", " ", "\x85", "hi"],
    "title": ["", "Dr", "Prof", "\t"],
    "country": ["Germany", "US", "deutschland", "Atlantis", ""],
    "state": ["CA", "Bayern", "ZZ", ""],
    "phone": ["+49 30 1234567", "030 1234567", "(415) 555-0132", "4.41632E+11", ""],
    "seats": ["12", "1,234", "-1", "abc"],
    "visit": ["2026-03-14", "03/04/2026", "14.03.2026"],
    "at": ["2026-03-14T09:30:00+01:00", "noon"],
    "vip": ["yes", "nein", "maybe"],
    "opt_in": ["yes", "no", ""],
    "site": ["www.example.com", "not a url"],
    "level": ["VP", "vice president", "Chief", "Manager"],
    "interests": ["Data;AI", "Blockchain", "data; ;cloud"],
}
WHITESPACE = st.sampled_from([*PY_WHITESPACE, "\u200b", "\x00", "\u2060", "\ufeff"])
any_text = (
    st.text(max_size=12)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
    | st.builds(
        lambda a, b, c: a + b + c,
        st.text(WHITESPACE, max_size=3),
        st.text(max_size=8),
        st.text(WHITESPACE, max_size=3),
    )
)
rows_strategy = st.fixed_dictionaries(
    {},
    optional={key: st.sampled_from(options) | any_text | st.none() for key, options in PLAUSIBLE.items()},
)
rules_strategy = st.builds(
    lambda live, dedupe, allocation, suppress: SourceRules(
        "s",
        FIELDS,
        live=live,
        dedupe=DedupeRule(dedupe) if dedupe is not None else None,
        allocation=allocation,
        suppression_lists=(SuppressionList("dnc", ("ceo@example.com",), ("*.example",)),) if suppress else (),
    ),
    st.booleans().map(lambda b: b or True) | st.just(False),
    st.none() | st.sampled_from(list(DedupeKey)),
    st.none() | st.integers(0, 4),
    st.booleans(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules_strategy, st.lists(rows_strategy, min_size=1, max_size=8))
def test_arbitrary_values_decide_as_the_row_engine(
    rules: SourceRules, rows: list[dict[str, str | None]]
) -> None:
    assert_same(rules, rows, KEYS)


def test_suppressed_addresses_leave_the_fast_path_and_are_rejected_as_the_row_engine_does() -> None:
    rules = SourceRules(
        "s",
        FIELDS,
        suppression_lists=(SuppressionList("dnc", ("ceo@example.com",), ("blocked.com", "*.rival.com")),),
    )
    emails = [
        "ann@example.com",  # the fast path: a plain address, no list names it
        "ceo@example.com",
        "CEO@Example.COM",
        " ceo@example.com ",
        "x@blocked.com",
        "y@BLOCKED.com",
        "z@eu.rival.com",
        "z@rival.com.evil.de",
        "ok@notblocked.com",
    ]
    rows: list[dict[str, str | None]] = [
        {"email": email, "name": "Ann", "opt_in": "yes", "level": "VP"} for email in emails
    ]
    assert_same(rules, rows, KEYS)
    codes = decide_frame(Engine(rules), frame_of(rows, KEYS), [f"LD-{i}" for i in range(len(rows))]).codes
    assert codes.to_list().count("REJECT_LEAD_SUPPRESSED") == 6
