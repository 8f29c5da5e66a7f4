"""Public identifiers that survive spreadsheets.

A LeadID is ``LD-`` followed by a ULID (26 Crockford base32 characters: 48 bits of milliseconds, then 80
random bits). The prefix and the letters make sure Excel or Calc never turn it into a number or a date, and
the time-ordered start keeps ids sortable by arrival.
"""

from __future__ import annotations

import os
import re
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LEAD_ID_PREFIX = "LD-"
LEAD_ID_RE = re.compile(r"^LD-[0-9A-HJKMNP-TV-Z]{26}$")


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def ulid(now_ms: int | None = None) -> str:
    """A ULID string: time-ordered, 26 characters."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    return _base32(ms, 10) + _base32(rand, 16)


def new_lead_id() -> str:
    return new_lead_ids(1)[0]


# A random byte's low five bits are a uniform base32 digit (256 is a multiple of 32): one C call maps a
# million random bytes to digits.
_DIGIT_OF_BYTE = bytes(ord(_ALPHABET[b % 32]) for b in range(256))


def new_lead_ids(count: int) -> list[str]:
    """``count`` LeadIDs at once (an upload makes a million): the same time part, and the random parts
    made in one C call rather than one Python loop per id (16 digits of 5 random bits: 80 bits each)."""
    prefix = LEAD_ID_PREFIX + _base32(int(time.time() * 1000), 10)
    text = os.urandom(16 * count).translate(_DIGIT_OF_BYTE).decode("ascii")
    return [prefix + text[i : i + 16] for i in range(0, 16 * count, 16)]


def normalize_lead_id(value: str) -> str | None:
    """The LeadID in canonical form, or None when the text is not a LeadID.

    Spreadsheets and people add spaces and lower-case letters; Crockford base32 reads O as 0 and I/L as 1.
    """
    text = value.strip().upper()
    if not text.startswith(LEAD_ID_PREFIX):
        return None
    body = text[len(LEAD_ID_PREFIX) :].replace("O", "0").replace("I", "1").replace("L", "1")
    candidate = LEAD_ID_PREFIX + body
    return candidate if LEAD_ID_RE.match(candidate) else None
