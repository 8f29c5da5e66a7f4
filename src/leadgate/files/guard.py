"""The formula-injection guard of CSV downloads, and its exact reversal on upload (SPEC §3).

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and
some strip a leading tab or carriage return and then do the same), so a lead whose company is
``=HYPERLINK(…)`` could act in the marketer's spreadsheet. Downloads write such a cell with one leading
``'``: spreadsheets show it as text, and the upload removes that ``'`` again.

For the round trip to be lossless for *every* text, text that already starts with quotes followed by a
trigger (``'=x``, ``''+1``) gets one more quote too, and unguarding removes exactly one quote only from
text of that shape. So ``'hello`` and ``''`` stay as they are both ways, and ``unguard(guard(t)) == t``
for any ``t``.

Only CSV/TXT cells are guarded: XLSX downloads write text cells, which a spreadsheet never evaluates,
so XLSX cells go out as they are and the upload unguards CSV/TXT files only.
"""

from __future__ import annotations

import re

import polars as pl

#: What makes a spreadsheet read a CSV cell as a formula: its first character is one of these.
FORMULA_TRIGGERS = frozenset("=+-@\t\r")
GUARD_QUOTE = "'"

# The triggers as a regex class, which Python's and polars' (Rust's) regex dialects read alike.
_TRIGGER = r"[=+\-@\t\r]"
#: Text that :func:`guard` changes: quotes (possibly none), then a trigger.
NEEDS_GUARD = f"^'*{_TRIGGER}"
#: Text that :func:`unguard` changes: what :func:`guard` makes, one quote or more, then a trigger.
GUARDED = f"^''*{_TRIGGER}"
_NEEDS_GUARD = re.compile(NEEDS_GUARD)
_GUARDED = re.compile(GUARDED)


def guard(text: str) -> str:
    """``text`` as a CSV cell: with one ``'`` added when a spreadsheet would read it as a formula."""
    return GUARD_QUOTE + text if _NEEDS_GUARD.match(text) else text


def unguard(text: str) -> str:
    """A CSV cell's text without the one ``'`` that :func:`guard` added; any other text unchanged."""
    return text[1:] if _GUARDED.match(text) else text


def guard_expr(column: pl.Expr) -> pl.Expr:
    """:func:`guard` over a string column (nulls stay null)."""
    # Testing first and changing only what matches is 4× faster than a regex replace of every cell.
    # The first branch names the result: the column keeps its name.
    guarded = pl.concat_str(pl.lit(GUARD_QUOTE), column)
    return pl.when(~column.str.contains(NEEDS_GUARD)).then(column).otherwise(guarded)


def unguard_expr(column: pl.Expr) -> pl.Expr:
    """:func:`unguard` over a string column (nulls stay null)."""
    return pl.when(column.str.contains(GUARDED)).then(column.str.slice(1)).otherwise(column)
