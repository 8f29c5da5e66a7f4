"""Phone checks: E.164, the lead's country as default region, spreadsheet damage, fast path vs library."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from leadgate.rules import catalogue, phones
from leadgate.rules.values import Failure


def verdict(value: str, region: str | None) -> str:
    result = phones.check_phone(value, region)
    return result if isinstance(result, str) else result.what


@pytest.mark.parametrize(
    ("value", "region", "e164"),
    [
        ("+1 415-555-0132", None, "+14155550132"),
        ("+1 (415) 555.0132", "DE", "+14155550132"),
        ("030 1234567", "DE", "+49301234567"),
        ("0049 30 1234567", "DE", "+49301234567"),
        ("+49 (0)30 1234567", None, "+49301234567"),
        ("(415) 555-0132", "US", "+14155550132"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+39 06 1234 5678", None, "+390612345678"),
        ("+1 415 555 0132 ext. 12", None, "+14155550132"),
    ],
)
def test_valid_numbers_are_cleaned_to_e164(value: str, region: str | None, e164: str) -> None:
    assert phones.check_phone(value, region) == e164


def test_a_national_number_needs_the_country() -> None:
    failure = phones.check_phone("030 1234567", None)
    assert isinstance(failure, Failure)
    assert failure.code == catalogue.INVALID_PHONE
    assert "no country code" in failure.what


@pytest.mark.parametrize("value", ["4.41632E+11", "4.41632e11", "4,41632E+11", "1.23457E+12"])
def test_scientific_notation_is_called_spreadsheet_damage(value: str) -> None:
    failure = phones.check_phone(value, "GB")
    assert isinstance(failure, Failure)
    assert failure.what == (
        "is not a valid phone number: a spreadsheet turned it into a number in scientific notation and digits"
        " were lost; re-enter it as text"
    )


def test_a_trailing_point_zero_is_called_spreadsheet_damage_with_the_fix() -> None:
    failure = phones.check_phone("4930123456.0", None)
    assert isinstance(failure, Failure)
    assert 'added ".0"' in failure.what
    assert failure.suggestion == "+4930123456"


def test_a_lost_leading_plus_is_named_with_the_fix() -> None:
    failure = phones.check_phone("442079460958", None)
    assert isinstance(failure, Failure)
    assert 'leading "+"' in failure.what
    assert failure.suggestion == "+442079460958"


def test_a_lost_leading_zero_is_named_with_the_fix() -> None:
    # Italian numbers keep their leading 0 after the country code, so losing it breaks the number.
    failure = phones.check_phone("612345678", "IT")
    assert isinstance(failure, Failure)
    assert "leading 0" in failure.what
    assert failure.suggestion == "+390612345678"


@pytest.mark.parametrize(
    ("value", "region", "reason"),
    [
        ("+1 415", None, "too short"),
        ("+999 1234567", None, "country calling code is unknown"),
        ("+49 30 12345678901234567", None, "too long"),
        ("+1 123 456 7890", None, "numbering plan of +1"),
        ("call me maybe", "US", "is not a valid phone number"),
    ],
)
def test_invalid_numbers_say_why(value: str, region: str | None, reason: str) -> None:
    assert reason in verdict(value, region)


# --- the fast path agrees with phonenumbers --------------------------------------------------------

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = [t for t in range(11) if t != PhoneNumberType.UNKNOWN]
EXAMPLES = [
    (region, number)
    for region in REGIONS
    for number_type in TYPES
    if (number := phonenumbers.example_number_for_type(region, number_type)) is not None
]
FORMATS = [PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL]
SEPARATORS = [" ", "-", ".", "/", "(", ")", "  ", " - "]


def library(value: str, region: str | None) -> str | None:
    return phones.library_e164(value, region)


def assert_fast_agrees(value: str, region: str | None) -> bool:
    fast = phones.fast_e164(value, region)
    if fast is None:
        return False
    assert (fast or None) == library(value, region), (value, region, fast)
    return True


def test_fast_path_agrees_on_every_example_number_and_answers_most() -> None:
    answered = total = 0
    for region, number in EXAMPLES:
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        for fmt in FORMATS:
            text = phonenumbers.format_number(number, fmt)
            for value in (text, text.replace(" ", "-"), "00" + e164[1:]):
                for default in (None, region, "US", "DE"):
                    total += 1
                    answered += assert_fast_agrees(value, default)
    assert answered > 0.8 * total  # the fast path must be the common path, not a rarity


@st.composite
def phone_inputs(draw: st.DrawFn) -> tuple[str, str | None]:
    region, number = draw(st.sampled_from(EXAMPLES))
    text = phonenumbers.format_number(number, draw(st.sampled_from(FORMATS)))
    chars = list(text)
    for _ in range(draw(st.integers(0, 3))):  # digit mutations: replace, delete, insert
        i = draw(st.integers(0, max(len(chars) - 1, 0)))
        op = draw(st.sampled_from(["replace", "delete", "insert"]))
        digit = draw(st.sampled_from("0123456789"))
        if op == "replace" and chars:
            chars[i] = digit
        elif op == "delete" and len(chars) > 1:
            del chars[i]
        else:
            chars.insert(i, digit)
    for _ in range(draw(st.integers(0, 3))):  # separators anywhere
        chars.insert(draw(st.integers(0, len(chars))), draw(st.sampled_from(SEPARATORS)))
    value = "".join(chars)
    prefix = draw(st.sampled_from(["", "", "+", "00", "0", "011", "+0"]))
    if prefix and value.startswith("+"):
        value = prefix + value[1:] if prefix != "+" else value
    elif prefix:
        value = prefix + value
    default = draw(st.one_of(st.none(), st.just(region), st.sampled_from(REGIONS)))
    return value, default


@settings(max_examples=4000, deadline=None)
@given(phone_inputs())
@example(("+49 030 1234567", None))
@example(("0049 030 1234567", "DE"))
@example(("+1 1 415 555 0132", None))
@example(("1 415 555 0132", "US"))
@example(("5551234", "AG"))
@example(("+800 1234 5678", None))
@example(("+39 06 1234 5678", "IT"))
@example(("00", "DE"))
def test_fast_path_agrees_with_phonenumbers(case: tuple[str, str | None]) -> None:
    assert_fast_agrees(*case)


@settings(max_examples=1500, deadline=None)
@given(
    st.text(alphabet="+0123456789 ().-/x#e,;", max_size=25), st.one_of(st.none(), st.sampled_from(REGIONS))
)
def test_fast_path_agrees_on_arbitrary_digit_strings(value: str, region: str | None) -> None:
    value = value.strip()
    if value:
        assert_fast_agrees(value, region)
        phones.check_phone(value, region)  # never raises
