"""Context-free value checks: text, number, date, datetime, boolean, consent and url."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgate.rules import catalogue, values
from leadgate.rules.definitions import FieldRule, FieldType

TEXT = FieldRule("notes", "Notes", max_length=5)
NUMBER = FieldRule("seats", "Seats", FieldType.NUMBER)
BOUNDED = FieldRule("seats", "Seats", FieldType.NUMBER, min_value=1, max_value=1000, integer=True)
DATE = FieldRule("visit", "Visit", FieldType.DATE)
DATETIME = FieldRule("scanned_at", "Scanned At", FieldType.DATETIME)
BOOLEAN = FieldRule("vip", "VIP", FieldType.BOOLEAN)
CONSENT = FieldRule("opt_in", "Opt-in", FieldType.CONSENT, required=True)
OPTIONAL_CONSENT = FieldRule("opt_in", "Opt-in", FieldType.CONSENT)
URL = FieldRule("website", "Website", FieldType.URL)


def clean(verdict: values.Verdict) -> Any:
    assert verdict[1] is None, verdict[1]
    return verdict[0]


def code(verdict: values.Verdict) -> str:
    assert verdict[1] is not None, verdict
    return verdict[1].code


def test_text_length_counts_characters() -> None:
    assert clean(values.check_text(TEXT, "Zoë 🎉")) == "Zoë 🎉"
    assert code(values.check_text(TEXT, "Zoë 🎉!")) == catalogue.FIELD_TOO_LONG


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", 1234),
        ("1,234", 1234),
        ("1,234,567.5", 1234567.5),
        ("1.5", 1.5),
        ("-2", -2),
        (".5", 0.5),
        ("3.0", 3),
    ],
)
def test_numbers(text: str, expected: float) -> None:
    assert clean(values.check_number(NUMBER, text)) == expected


@pytest.mark.parametrize("text", ["abc", "1e5", "nan", "inf", "1_000", "12,34", "1.2.3", "", "-", "9" * 40])
def test_not_numbers(text: str) -> None:
    assert code(values.check_number(NUMBER, text)) == catalogue.INVALID_VALUE


def test_decimal_comma_gets_a_suggestion() -> None:
    verdict = values.check_number(NUMBER, "1,5")
    assert verdict[1] is not None and verdict[1].suggestion == "1.5"


def test_number_range_and_integer_flag() -> None:
    assert clean(values.check_number(BOUNDED, "1,000")) == 1000
    assert "above the maximum of 1000" in values.check_number(BOUNDED, "1001")[1].what  # type: ignore[union-attr]
    assert "below the minimum of 1" in values.check_number(BOUNDED, "0")[1].what  # type: ignore[union-attr]
    assert "whole number" in values.check_number(BOUNDED, "2.5")[1].what  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-03-14", "2026-03-14"),
        ("2026/3/14", "2026-03-14"),
        ("14.03.2026", "2026-03-14"),
        ("03/14/2026", "2026-03-14"),
        ("14/03/2026", "2026-03-14"),
        ("04/04/2026", "2026-04-04"),
        ("2026-03-14 00:00:00", "2026-03-14"),
    ],
)
def test_dates(text: str, iso: str) -> None:
    assert clean(values.check_date(DATE, text)) == iso


def test_ambiguous_date_is_rejected_with_the_iso_hint() -> None:
    verdict = values.check_date(DATE, "03/04/2026")
    assert code(verdict) == catalogue.INVALID_VALUE
    assert "ambiguous" in verdict[1].what and "YYYY-MM-DD" in verdict[1].what  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["2026-02-30", "31/31/2025", "yesterday", "2026-13-01", "14.3.26"])
def test_not_dates(text: str) -> None:
    assert code(values.check_date(DATE, text)) == catalogue.INVALID_VALUE


def test_spreadsheet_serial_date_is_named_with_the_date() -> None:
    verdict = values.check_date(DATE, "46095")
    assert verdict[1] is not None and "serial number" in verdict[1].what
    assert verdict[1].suggestion == "2026-03-14"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-03-14T09:30:00+01:00", "2026-03-14T08:30:00+00:00"),
        ("2026-03-14T09:30:00Z", "2026-03-14T09:30:00+00:00"),
        ("2026-03-14 09:30", "2026-03-14T09:30:00"),
        ("2026-03-14", "2026-03-14T00:00:00"),
    ],
)
def test_datetimes(text: str, iso: str) -> None:
    assert clean(values.check_datetime(DATETIME, text)) == iso


@pytest.mark.parametrize("text", ["14.03.2026 09:30", "soon", "2026-03-14T25:00"])
def test_not_datetimes(text: str) -> None:
    assert code(values.check_datetime(DATETIME, text)) == catalogue.INVALID_VALUE


@pytest.mark.parametrize(
    "text", ["true", "TRUE", "Yes", "y", "1", "on", "x", "X", "ja", "oui", "si", "sí", "Sí"]
)
def test_true_values(text: str) -> None:
    assert clean(values.check_boolean(BOOLEAN, text)) is True


@pytest.mark.parametrize("text", ["false", "No", "n", "0", "off", "nein", "non", "NON"])
def test_false_values(text: str) -> None:
    assert clean(values.check_boolean(BOOLEAN, text)) is False


def test_not_a_boolean() -> None:
    assert code(values.check_boolean(BOOLEAN, "maybe")) == catalogue.INVALID_VALUE


def test_required_consent_must_be_given() -> None:
    assert clean(values.check_consent(CONSENT, "agree")) is True
    not_given = values.check_consent(CONSENT, "no")
    assert code(not_given) == catalogue.MISSING_REQUIRED_FIELD
    assert "consent was not given" in not_given[1].what  # type: ignore[union-attr]
    assert code(values.check_consent(CONSENT, "maybe")) == catalogue.MISSING_REQUIRED_FIELD
    assert clean(values.check_consent(OPTIONAL_CONSENT, "no")) is False
    assert code(values.check_consent(OPTIONAL_CONSENT, "maybe")) == catalogue.INVALID_VALUE


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("https://example.com", "https://example.com"),
        ("http://example.com/path?q=1", "http://example.com/path?q=1"),
        ("www.example.com", "https://www.example.com"),
        ("example.co.uk/about", "https://example.co.uk/about"),
        ("https://müller.de", "https://müller.de"),
        ("HTTPS://EXAMPLE.COM", "HTTPS://EXAMPLE.COM"),
        ("http://192.0.2.1:8080/x", "http://192.0.2.1:8080/x"),
    ],
)
def test_urls(text: str, url: str) -> None:
    assert clean(values.check_url(URL, text)) == url


@pytest.mark.parametrize(
    "text",
    [
        "not a website",
        "http://",
        "http://exa mple.com",
        "ftp://example.com",
        "javascript:alert(1)",
        "example",
        "https://x",
    ],
)
def test_not_urls(text: str) -> None:
    assert code(values.check_url(URL, text)) == catalogue.INVALID_VALUE


CHECKS = [
    (values.check_text, TEXT),
    (values.check_number, BOUNDED),
    (values.check_date, DATE),
    (values.check_datetime, DATETIME),
    (values.check_boolean, BOOLEAN),
    (values.check_consent, CONSENT),
    (values.check_url, URL),
]


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_checks_never_raise_and_answer_a_value_or_a_failure(text: str) -> None:
    for check, field in CHECKS:
        clean_value, failure = check(field, text)
        assert failure is None or failure.code in catalogue.BY_CODE
        if failure is None:
            assert clean_value is not None


url_like = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda scheme, host, rest: scheme + host + rest,
        st.sampled_from(["", "http://", "https://", "HTTP://", "ftp://", "http:/", "//"]),
        st.text(alphabet="abcXYZ09-._é:@[]", min_size=1, max_size=20),
        st.sampled_from(["", "/", "/a b", "?q=http://x", "#top", ":8080/x", ":99999", "/[", "\x00"]),
    ),
)


@settings(max_examples=2000, deadline=None)
@given(url_like)
def test_the_url_shortcut_agrees_with_the_full_check(text: str) -> None:
    text = text.strip()
    if text:
        assert values.check_url(URL, text) == values.check_url_in_full(URL, text)
