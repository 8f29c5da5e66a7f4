"""Picklist matching, suggestions and configuration checks (leadgate.rules.picklists)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgate.rules.definitions import Picklist
from leadgate.rules.normalize import fold, loose_key
from leadgate.rules.picklists import PicklistMatcher, duplicates, matcher_for, validate

JOB_LEVEL = Picklist(
    key="job_level",
    name="Job Level",
    values=("C-Level", "VP", "Director", "Manager", "Individual Contributor", "Other"),
    aliases={"Chief": "C-Level", "Vice President": "VP"},
)
JOB_LEVEL_BARE = Picklist(key="job_level", name="Job Level", values=JOB_LEVEL.values)
SIZES = ("1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001-10000", "10000+")
COMPANY_SIZE = Picklist(key="size", name="Company Size", values=SIZES)
COMPANY_SIZE_GROUPED = Picklist(
    key="size",
    name="Company Size",
    values=("1-10", "11-50", "51-200", "201-500", "501-1,000", "1,001-5,000", "5,001-10,000", "10,001+"),
)


# Matching


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("VP", "VP"),
        ("vp", "VP"),
        ("  Vp ", "VP"),
        ("c-level", "C-Level"),
        ("individual   contributor", "Individual Contributor"),
        ("Individual\tContributor\n", "Individual Contributor"),
        ("Individual\u00a0Contributor", "Individual Contributor"),  # non-breaking space
        ("ＶＰ", "VP"),  # full-width letters (NFKC)
        ("VP\u200b", "VP"),  # zero-width space
        ("Chief", "C-Level"),  # alias
        ("CHIEF", "C-Level"),
        ("vice  president", "VP"),
    ],
)
def test_matches_values_and_aliases(typed: str, canonical: str) -> None:
    assert PicklistMatcher(JOB_LEVEL).match(typed) == canonical


@pytest.mark.parametrize(
    "typed", ["", " ", "V P", "VPs", "C Level", "Vice-President", "Chief Executive", "x"]
)
def test_does_not_match_anything_else(typed: str) -> None:
    matcher = PicklistMatcher(JOB_LEVEL)
    assert matcher.match(typed) is None
    assert not matcher.is_valid(typed)


def test_unicode_normalisation_differences_match() -> None:
    picklist = Picklist(key="c", name="C", values=("Café", "Ångström"))
    matcher = PicklistMatcher(picklist)
    assert matcher.match("Cafe\u0301") == "Café"  # NFD
    assert matcher.match("CAFÉ") == "Café"
    assert matcher.match("A\u030angstro\u0308m") == "Ångström"
    assert matcher.match("Cafe") is None  # accents are not ignored on a picklist


def test_dotless_i_meets_its_capital() -> None:
    matcher = PicklistMatcher(Picklist(key="c", name="C", values=("Diyarbakır",)))
    assert matcher.match("DIYARBAKIR") == "Diyarbakır"


def test_case_sensitive_picklist() -> None:
    picklist = Picklist(key="t", name="T", values=("VP", "vp", "Director"), case_sensitive=True)
    matcher = PicklistMatcher(picklist)
    assert matcher.match("VP") == "VP"
    assert matcher.match(" vp ") == "vp"
    assert matcher.match("Vp") is None
    assert matcher.match("director") is None
    assert matcher.match("Dir\u00adector") == "Director"  # a soft hyphen is invisible
    assert matcher.match("Ｄirector") == "Director"  # NFKC still applies
    assert matcher.suggest("director") == ["Director"]  # suggestions ignore case


def test_alias_to_a_value_not_on_the_list_is_ignored() -> None:
    picklist = Picklist(key="j", name="J", values=("VP",), aliases={"Boss": "CEO", "Veep": "VP"})
    matcher = PicklistMatcher(picklist)
    assert matcher.match("Boss") is None
    assert matcher.match("veep") == "VP"


def test_a_value_wins_over_an_alias_with_the_same_key() -> None:
    picklist = Picklist(key="j", name="J", values=("VP", "Director"), aliases={"vp": "Director"})
    assert PicklistMatcher(picklist).match("Vp") == "VP"


def test_repeated_calls_are_memoised_but_answer_the_same() -> None:
    matcher = PicklistMatcher(JOB_LEVEL)
    assert [matcher.match(" chief ") for _ in range(3)] == ["C-Level"] * 3
    assert [matcher.match("nope") for _ in range(3)] == [None] * 3


# matcher_for


def test_matcher_for_caches_per_picklist_object() -> None:
    assert matcher_for(JOB_LEVEL) is matcher_for(JOB_LEVEL)


def test_matcher_for_follows_a_rebuilt_picklist() -> None:
    first = Picklist(key="j", name="J", values=("VP",), aliases={"Veep": "VP"})
    assert matcher_for(first).match("Veep") == "VP"
    rebuilt = Picklist(key="j", name="J", values=("VP", "Director"), aliases={})
    assert matcher_for(rebuilt).match("Veep") is None
    assert matcher_for(rebuilt).match("director") == "Director"
    assert matcher_for(first).match("Veep") == "VP"


# Suggestions


@pytest.mark.parametrize(
    ("typed", "best"),
    [
        ("Chief", "C-Level"),
        ("CEO", "C-Level"),
        ("CTO", "C-Level"),
        ("Chief Technology Officer", "C-Level"),
        ("Founder & CEO", "C-Level"),
        ("Owner", "C-Level"),
        ("President", "C-Level"),
        ("Vice Pres", "VP"),
        ("SVP", "VP"),
        ("EVP Sales", "VP"),
        ("Senior Vice President", "VP"),
        ("VP of Engineering", "VP"),
        ("Directr", "Director"),
        ("Sr. Director", "Director"),
        ("Head of Marketing", "Director"),
        ("Team Lead", "Manager"),
        ("Supervisor", "Manager"),
        ("manger", "Manager"),
        ("Software Engineer", "Individual Contributor"),
        ("Analyst", "Individual Contributor"),
        ("Account Executive", "Individual Contributor"),
        ("Intern", "Other"),
        ("Student", "Other"),
        ("othr", "Other"),
    ],
)
def test_suggestions_for_job_levels(typed: str, best: str) -> None:
    assert PicklistMatcher(JOB_LEVEL_BARE).suggest(typed)[:1] == [best]


def test_head_of_suggests_director_then_vp() -> None:
    assert PicklistMatcher(JOB_LEVEL_BARE).suggest("Head of Sales") == ["Director", "VP"]


def test_synonyms_use_the_lists_own_wording() -> None:
    picklist = Picklist(
        key="s", name="S", values=("C-Suite", "Vice President", "Director", "Staff", "Student", "Other")
    )
    matcher = PicklistMatcher(picklist)
    assert matcher.suggest("CEO")[0] == "C-Suite"
    assert matcher.suggest("SVP")[0] == "Vice President"
    assert matcher.suggest("Engineer")[0] == "Staff"
    assert matcher.suggest("Intern")[0] == "Student"
    assert matcher.suggest("Team Lead") == []  # no manager level on this list, and nothing similar


@pytest.mark.parametrize("junk", ["", " ", "-", "x", "a", "N/A", "xyz", "asdf", "test", "12345", "?!"])
def test_junk_gets_no_suggestion(junk: str) -> None:
    assert PicklistMatcher(JOB_LEVEL).suggest(junk) == []


def test_an_alias_hit_suggests_its_canonical_value() -> None:
    picklist = Picklist(key="j", name="J", values=("VP", "Other"), aliases={"Vice President": "VP"})
    assert PicklistMatcher(picklist).suggest("Vice Presidnet") == ["VP"]


def test_suggest_respects_limit() -> None:
    matcher = PicklistMatcher(COMPANY_SIZE)
    assert len(matcher.suggest("between 5 and 5000", limit=2)) == 2
    assert matcher.suggest("50-200", limit=0) == []


@pytest.mark.parametrize(
    ("typed", "best"),
    [
        ("50-200", "51-200"),
        ("51 to 200", "51-200"),
        ("51 - 200", "51-200"),
        ("between 200 and 500", "201-500"),
        ("100 employees", "51-200"),
        ("100", "51-200"),
        ("5k", "1001-5000"),
        ("1.5k", "1001-5000"),
        ("7,500", "5001-10000"),
        ("7.500", "5001-10000"),
        ("10,001+", "10000+"),
        ("more than 10000", "10000+"),
        ("50000", "10000+"),
        ("<10", "1-10"),
        ("1000+", "501-1000"),
    ],
)
def test_company_size_suggestions(typed: str, best: str) -> None:
    assert PicklistMatcher(COMPANY_SIZE).suggest(typed)[0] == best


@pytest.mark.parametrize(
    ("typed", "best"),
    [("5k", "1,001-5,000"), ("6k", "5,001-10,000"), ("10000+", "10,001+"), ("1000", "501-1,000")],
)
def test_company_size_suggestions_with_grouped_digits(typed: str, best: str) -> None:
    assert PicklistMatcher(COMPANY_SIZE_GROUPED).suggest(typed)[0] == best


def test_numbers_are_not_sizes_on_other_lists() -> None:
    rating = Picklist(key="r", name="Rating", values=("1", "2", "3"))
    assert PicklistMatcher(rating).suggest("5k") == []
    assert PicklistMatcher(JOB_LEVEL).suggest("51-200") == []


# Configuration checks


def test_duplicates() -> None:
    picklist = Picklist(key="d", name="D", values=("VP", "Director", "vp ", "VP", "Ｄirector"))
    assert duplicates(picklist) == [("VP", "vp "), ("VP", "VP"), ("Director", "Ｄirector")]
    assert duplicates(Picklist(key="d", name="D", values=("VP", "vp"), case_sensitive=True)) == []
    assert duplicates(JOB_LEVEL) == []


def test_validate_reports_configuration_errors() -> None:
    picklist = Picklist(
        key="j",
        name="J",
        values=("VP", "Director", "VP", "Manager", "manager", " "),
        aliases={
            "Boss": "CEO",  # unknown value
            "vp": "VP",  # redundant
            "DIRECTOR": "Manager",  # can never apply
            "Head": "Director",
            "head": "Manager",  # clashes with "Head"
            "Veep": "VP",  # fine
        },
    )
    problems = validate(picklist)
    assert len(problems) == 7
    assert any('"VP" is listed twice' in p for p in problems)
    assert any('"Manager" and "manager"' in p for p in problems)
    assert any("#6 is blank" in p for p in problems)
    assert any('"Boss"' in p and '"CEO"' in p for p in problems)
    assert any('"vp"' in p and "not needed" in p for p in problems)
    assert any('"DIRECTOR"' in p and "never applies" in p for p in problems)
    assert any('"Head" and "head"' in p for p in problems)
    assert validate(JOB_LEVEL) == []


# Properties

# Title-casing the three Greek letters with both a perispomeni and an iota subscript (ᾷ ῇ ῷ) reorders their
# combining marks in a way case folding cannot undo; nobody types them on a picklist.
_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\u1fb7\u1fc7\u1ff7"),
    min_size=1,
    max_size=12,
)


@given(st.text())
def test_fold_is_idempotent(value: str) -> None:
    assert fold(fold(value)) == fold(value)
    assert fold(fold(value, case_sensitive=True), case_sensitive=True) == fold(value, case_sensitive=True)
    assert loose_key(loose_key(value)) == loose_key(value)


def _variants(value: str) -> list[str]:
    spaced = "  ".join(value.split(" "))
    return [
        value,
        value.upper(),
        value.lower(),
        value.swapcase(),
        value.casefold(),
        value.title(),
        unicodedata.normalize("NFD", value),
        unicodedata.normalize("NFC", value),
        f" \t{value}\u00a0\n",
        spaced,
    ]


@st.composite
def picklists(draw: st.DrawFn, case_sensitive: bool = False) -> Picklist:
    values = draw(st.lists(_text.filter(lambda v: fold(v).strip() != ""), min_size=1, max_size=8))
    targets = st.sampled_from([*values, "not on the list"])
    aliases = draw(st.dictionaries(_text, targets, max_size=6))
    return Picklist(key="p", name="P", values=tuple(values), aliases=aliases, case_sensitive=case_sensitive)


@settings(max_examples=200)
@given(picklists())
def test_every_variant_of_a_value_or_alias_matches_it(picklist: Picklist) -> None:
    matcher = PicklistMatcher(picklist)
    taken: dict[str, str] = {}
    for value in picklist.values:
        taken.setdefault(fold(value), value)
    for alias, target in picklist.aliases.items():
        if target in picklist.values:
            taken.setdefault(fold(alias), target)
    for label in [*picklist.values, *picklist.aliases]:
        expected = taken.get(fold(label))
        for variant in _variants(label):
            assert matcher.match(variant) == expected, (label, variant)


@settings(max_examples=200)
@given(picklists(), st.lists(_text, max_size=5))
def test_match_and_is_valid_agree_and_valid_values_are_not_corrected(
    picklist: Picklist, typed: list[str]
) -> None:
    matcher = PicklistMatcher(picklist)
    for value in [*typed, *picklist.values, *picklist.aliases]:
        canonical = matcher.match(value)
        assert matcher.is_valid(value) == (canonical is not None)
        if canonical is not None:
            assert canonical in picklist.values
            assert matcher.suggest(value) == [canonical]
        else:
            assert all(s in picklist.values for s in matcher.suggest(value))


@settings(max_examples=100)
@given(picklists(case_sensitive=True))
def test_case_sensitive_lists_match_each_value_exactly(picklist: Picklist) -> None:
    matcher = PicklistMatcher(picklist)
    for value in picklist.values:
        assert matcher.match(value) is not None
        assert matcher.match(f"  {value} ") == matcher.match(value)
