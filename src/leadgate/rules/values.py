"""Checks for the context-free field types: text, number, date, datetime, boolean, consent and url.

Each check takes the stripped, non-empty text of one cell and answers a ``Verdict``: the clean value and
``None``, or ``None`` and a ``Failure`` that says what is wrong. The engine turns a failure into a
``Problem`` with the field's label and the offending value, and memoises verdicts per distinct value, so
these functions favour clarity over speed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from leadgate.rules import catalogue
from leadgate.rules.definitions import FieldRule


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed check before it is attached to a field: the code, what is wrong, and a suggestion.

    ``what`` continues the sentence ``<Label>: "<value>" …``, e.g. ``is not a valid date``.
    """

    code: str
    what: str
    suggestion: str | None = None


#: The clean value and no failure, or no clean value and the failure.
Verdict = tuple[Any, Failure | None]


def ok(clean: Any) -> Verdict:
    return (clean, None)


def fail(code: str, what: str, suggestion: str | None = None) -> Verdict:
    return (None, Failure(code, what, suggestion))


def quoted(values: list[str] | tuple[str, ...], limit: int = 5) -> str:
    """``"A", "B", "C"`` with at most ``limit`` values and a count of the rest."""
    shown = ", ".join(f'"{v}"' for v in values[:limit])
    rest = len(values) - limit
    return shown + (f" and {rest} more" if rest > 0 else "")


# --- text ----------------------------------------------------------------------------------------


def check_text(field: FieldRule, text: str) -> Verdict:
    """Text is kept as given (stripped); only its length in characters is checked."""
    limit = field.max_length
    if limit is not None and len(text) > limit:
        return fail(
            catalogue.FIELD_TOO_LONG,
            f"is {len(text)} characters long; the maximum is {limit}",
        )
    return ok(text)


# --- number --------------------------------------------------------------------------------------

# "1234", "1,234,567" (comma thousands), "-1.5", ".5"; no exponents, no "nan"/"inf", no underscores,
# which float() would all accept but no person types into a lead form.
_NUMBER = re.compile(r"([+-]?)(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d+))?", re.ASCII)
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d{1,2}", re.ASCII)
_MAX_NUMBER_DIGITS = 30


def check_number(field: FieldRule, text: str) -> Verdict:
    """A number with optional comma thousands separators and a decimal point, within min/max."""
    compact = text.replace(" ", "")
    match = _NUMBER.fullmatch(compact)
    if match is None or (match.group(2) is None and match.group(3) is None):
        if _DECIMAL_COMMA.fullmatch(compact):
            return fail(
                catalogue.INVALID_VALUE,
                "is not a number: use a point as the decimal separator",
                compact.replace(",", "."),
            )
        return fail(catalogue.INVALID_VALUE, "is not a number")
    sign, whole, fraction = match.groups()
    whole = (whole or "0").replace(",", "")
    if len(whole) + len(fraction or "") > _MAX_NUMBER_DIGITS:
        return fail(catalogue.INVALID_VALUE, f"has more than {_MAX_NUMBER_DIGITS} digits")
    number: int | float
    if fraction is None or not fraction.strip("0"):
        number = int(sign + whole)
    elif field.integer:
        return fail(catalogue.INVALID_VALUE, "is not a whole number")
    else:
        number = float(f"{sign}{whole}.{fraction}")
    if field.min_value is not None and number < field.min_value:
        return fail(catalogue.INVALID_VALUE, f"is below the minimum of {_plain(field.min_value)}")
    if field.max_value is not None and number > field.max_value:
        return fail(catalogue.INVALID_VALUE, f"is above the maximum of {_plain(field.max_value)}")
    return ok(number)


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


# --- date and datetime ---------------------------------------------------------------------------

_ISO_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", re.ASCII)
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", re.ASCII)
_SLASHED_DATE = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})", re.ASCII)
# What a spreadsheet leaves of a date or a datetime at midnight: "2026-03-14 00:00:00".
_MIDNIGHT = re.compile(r"(\d{4}-\d{2}-\d{2})[T ]00:00(?::00(?:\.0+)?)?", re.ASCII)
_SERIAL = re.compile(r"\d{5}(?:\.0+)?", re.ASCII)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _real_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def check_date(field: FieldRule, text: str) -> Verdict:
    """A calendar date, cleaned to ISO ``YYYY-MM-DD``.

    Accepted: ``YYYY-MM-DD``, ``YYYY/MM/DD``, ``DD.MM.YYYY``, and ``MM/DD/YYYY`` or ``DD/MM/YYYY`` when
    only one reading is possible (a part above 12, or day and month equal).
    """
    midnight = _MIDNIGHT.fullmatch(text)
    if midnight is not None:
        text = midnight.group(1)
    found: dt.date | None
    if match := _ISO_DATE.fullmatch(text):
        found = _real_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    elif match := _DOTTED_DATE.fullmatch(text):
        found = _real_date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    elif match := _SLASHED_DATE.fullmatch(text):
        first, second, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        month_first = _real_date(year, first, second)
        day_first = _real_date(year, second, first)
        if month_first and day_first and month_first != day_first:
            return fail(
                catalogue.INVALID_VALUE,
                f"is ambiguous ({_MONTHS[first - 1]} {second} or {second} {_MONTHS[second - 1]}?);"
                " use YYYY-MM-DD",
            )
        found = month_first or day_first
    elif _SERIAL.fullmatch(text) and 20000 <= float(text) <= 80000:
        serial = _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
        return fail(
            catalogue.INVALID_VALUE,
            "is not a date: a spreadsheet turned the date into its serial number; re-enter it as YYYY-MM-DD",
            serial.isoformat(),
        )
    else:
        return fail(catalogue.INVALID_VALUE, "is not a date; use YYYY-MM-DD")
    if found is None:
        return fail(catalogue.INVALID_VALUE, "is not a real calendar date")
    return ok(found.isoformat())


def check_datetime(field: FieldRule, text: str) -> Verdict:
    """An ISO 8601 date and time; with a zone it is cleaned to UTC, without one it stays as given."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return fail(
            catalogue.INVALID_VALUE, "is not a date and time; use ISO 8601 (2026-03-14T09:30:00+01:00)"
        )
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(dt.UTC)
        except OverflowError:
            return fail(catalogue.INVALID_VALUE, "is out of the range of dates that can be stored")
    return ok(moment.isoformat())


# --- boolean and consent -------------------------------------------------------------------------

_TRUE = frozenset(["true", "t", "yes", "y", "1", "on", "x", "ja", "j", "oui", "si", "sí", "wahr", "vrai"])
_FALSE = frozenset(["false", "f", "no", "n", "0", "off", "nein", "non", "falsch", "faux"])
# Consent check boxes in event apps and forms also send their own words.
_CONSENT_TRUE = _TRUE | {"agree", "agreed", "accept", "accepted", "granted", "opt-in", "opt in", "opted in"}
_CONSENT_FALSE = _FALSE | {"disagree", "declined", "denied", "opt-out", "opt out", "opted out"}


def parse_boolean(text: str, *, consent: bool = False) -> bool | None:
    """True, False, or None when ``text`` is not a yes/no answer (case-insensitive, several languages)."""
    key = " ".join(text.casefold().split())
    if key in (_CONSENT_TRUE if consent else _TRUE):
        return True
    if key in (_CONSENT_FALSE if consent else _FALSE):
        return False
    return None


def check_boolean(field: FieldRule, text: str) -> Verdict:
    answer = parse_boolean(text)
    if answer is None:
        return fail(catalogue.INVALID_VALUE, "is not a yes/no value (use true/false, yes/no or 1/0)")
    return ok(answer)


def check_consent(field: FieldRule, text: str) -> Verdict:
    """A boolean that must be true when the field is required (SPEC §2: that counts as missing)."""
    answer = parse_boolean(text, consent=True)
    if answer is None:
        if field.required:
            return fail(
                catalogue.MISSING_REQUIRED_FIELD,
                "is not a yes/no answer, so consent was not given",
            )
        return fail(catalogue.INVALID_VALUE, "is not a yes/no value (use true/false, yes/no or 1/0)")
    if not answer and field.required:
        return (
            False,
            Failure(catalogue.MISSING_REQUIRED_FIELD, "means consent was not given, and it is required"),
        )
    return ok(answer)


# --- url -----------------------------------------------------------------------------------------

# A host name with a dot and a letter top-level domain, or an IPv4 address; IDN hosts are allowed.
_HOST = re.compile(
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})\.?|\d{1,3}(?:\.\d{1,3}){3}",
    re.IGNORECASE,
)
_BARE_HOST = re.compile(r"[^\s/:?#@]+\.[^\W\d_]{2,63}(?:[/?#]\S*)?")


# The common shapes, decided without urlsplit: a plain ASCII host name (no port, no user) and an optional
# path, query or fragment. Anything else takes the general path below; tests/rules/test_values.py checks
# that both answer the same.
_PLAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_URL = re.compile(rf"[Hh][Tt][Tt][Pp][Ss]?://(?:{_PLAIN_LABEL}\.)+[A-Za-z]{{2,63}}\.?(?:[/?#]\S*)?")
_PLAIN_BARE_URL = re.compile(rf"(?:{_PLAIN_LABEL}\.)+[A-Za-z]{{2,63}}(?:[/?#]\S*)?")


def check_url(field: FieldRule, text: str) -> Verdict:
    """An http(s) URL with a host; a bare ``www.example.com`` is cleaned to ``https://www.example.com``."""
    if _PLAIN_URL.fullmatch(text):
        return ok(text)
    if "://" not in text and _PLAIN_BARE_URL.fullmatch(text):
        return ok("https://" + text)
    return check_url_in_full(field, text)


def check_url_in_full(field: FieldRule, text: str) -> Verdict:
    """check_url without its shortcut for the common shapes."""
    url = text
    if "://" not in url and _BARE_HOST.fullmatch(url):
        url = "https://" + url
    if any(c.isspace() for c in url):
        return fail(catalogue.INVALID_VALUE, "is not a web address (it contains spaces)")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return fail(catalogue.INVALID_VALUE, "is not a valid web address")
    if parts.scheme.lower() not in ("http", "https"):
        return fail(catalogue.INVALID_VALUE, "is not a web address (it must start with http:// or https://)")
    if not host or not _HOST.fullmatch(host):
        return fail(catalogue.INVALID_VALUE, "is not a web address (it has no valid host name)")
    return ok(url)
