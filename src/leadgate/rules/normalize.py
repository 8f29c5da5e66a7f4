"""Text normalisation shared by picklist and geography matching.

Two strengths:

- ``fold`` (picklists, SPEC §1 "Picklist"): Unicode NFKC, case folding (optional) and whitespace collapsed.
  It keeps accents and punctuation, because on a picklist "Résumé" and "Resume" or "C-Level" and "C Level"
  may be different values someone chose on purpose; aliases cover the rest.
- ``loose_key`` (countries and subdivisions): additionally drops accents, dots and apostrophes, turns other
  punctuation into spaces and "&" into "and", so "U.S.A.", "Österreich"/"Osterreich" and "Côte
  d'Ivoire"/"Cote dIvoire" meet. Place names are a closed, known set, so the looser key cannot merge two
  different places by accident without the index noticing (collisions are resolved explicitly when the index
  is built).

NFKC rather than NFC: NFKC also folds compatibility forms — full-width letters typed with East Asian input
methods ("ＶＰ"), ligatures ("ﬁ"), non-breaking and other odd spaces — which people never mean as a different
value. Every NFC-equivalent pair is also NFKC-equivalent, so this is a superset of what the SPEC asks for.

Both functions are idempotent (a property test checks this) and cost a few microseconds, so callers that run
per lead cache their results.
"""

from __future__ import annotations

import unicodedata

# Removed outright: "U.S.A." -> "usa", "Côte d'Ivoire" -> "cote divoire". Other punctuation becomes a space.
_DROPPED = frozenset(".'’‘`´ʼ")

# Invisible format characters that copy-paste and spreadsheets leave inside values and nobody means: soft
# hyphen, zero-width spaces and joiners, direction marks, word joiners, byte-order mark.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x061C, 0x180E, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070), 0xFEFF]
)


def collapse_whitespace(value: str) -> str:
    """Strip and collapse runs of any Unicode whitespace to one space."""
    return " ".join(value.split())


def fold(value: str, *, case_sensitive: bool = False) -> str:
    """The picklist matching key: NFKC, invisible characters dropped, whitespace collapsed, and case folded
    unless ``case_sensitive``."""
    text = unicodedata.normalize("NFKC", value.translate(_INVISIBLE))
    if not case_sensitive:
        # upper() first so that "I" meets the dotless "ı" (Turkish names typed on other keyboards); casefold()
        # can leave text that is not NFKC, and NFKC can make foldable text, hence the repeated passes.
        text = unicodedata.normalize("NFKC", text.upper()).casefold()
        text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return collapse_whitespace(text)


def strip_accents(value: str) -> str:
    """Drop combining marks (``é`` -> ``e``, ``ü`` -> ``u``) and return NFC text."""
    decomposed = unicodedata.normalize("NFKD", value)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn"))


def loose_key(value: str) -> str:
    """The place-name matching key: case, accents, punctuation, "&"/"and" and whitespace are ignored."""
    text = strip_accents(value.translate(_INVISIBLE).casefold()).casefold()
    out: list[str] = []
    for ch in text:
        if ch in _DROPPED:
            continue
        if ch == "&":
            out.append(" and ")
        elif unicodedata.category(ch)[0] in "PSZC":  # punctuation, symbols, separators, controls
            out.append(" ")
        else:
            out.append(ch)
    return strip_accents(collapse_whitespace("".join(out)))
