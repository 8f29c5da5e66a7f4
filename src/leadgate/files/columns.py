"""The columns of a lead file: platform columns A–K (SPEC §3), then one per source field.

An upload's headers are matched by name, never by position: a field's key, label or alias, ignoring case,
spaces, ``_``/``-`` and a BOM (``rules.headers``). The platform columns a download writes are recognised
and ignored, except ``LeadID``, which says which lead a row updates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from leadgate.rules.headers import FieldKeyMatcher, header_key

LEAD_ID = "LeadID"
#: Columns A–K, with the exact headers of SPEC §3: what a download writes first, what an upload ignores.
PLATFORM_COLUMNS = (
    LEAD_ID,
    "Status",
    "Disposition Code",
    "Custom Reason",
    "Source",
    "Received Via",
    "Submitted At",
    "Processed At",
    "Updated At",
    "Delivery Status",
    "Upload",
)
_PLATFORM = {header_key(name): name for name in PLATFORM_COLUMNS}


@dataclass
class ColumnMap:
    """What each column of an upload means."""

    fields: dict[int, str] = field(default_factory=dict)  # column index → field key
    lead_id: int | None = None  # the LeadID column
    platform: list[int] = field(default_factory=list)  # recognised and ignored
    unknown: list[int] = field(default_factory=list)  # reported, not fatal
    repeated: list[int] = field(default_factory=list)  # a second column for a field already matched

    def describe(self, header: Sequence[str]) -> dict[str, str | None]:
        """Header → what it matched (field key, "LeadID", "platform") or None, for the upload record."""
        out: dict[str, str | None] = {}
        for i, name in enumerate(header):
            label = name or _letter(i)
            if i in self.fields:
                out[label] = self.fields[i]
            elif i == self.lead_id:
                out[label] = LEAD_ID
            elif i in self.platform:
                out[label] = "platform"
            else:
                out[label] = None
        return out


def match_columns(header: Sequence[str], field_keys: Sequence[str], matcher: FieldKeyMatcher) -> ColumnMap:
    """Match each header to a field, LeadID or a platform column.

    A header that is exactly a field's key is that field (a field keyed ``source`` is not the platform
    column "Source"); otherwise platform names come first, then keys, labels and aliases.
    """
    columns = ColumnMap()
    keys = set(field_keys)
    for i, name in enumerate(header):
        if not name:
            columns.unknown.append(i)
            continue
        key = name if name in keys else None
        if key is None:
            platform = _PLATFORM.get(header_key(name))
            if platform == LEAD_ID and columns.lead_id is None:
                columns.lead_id = i
                continue
            if platform is not None:
                columns.platform.append(i)
                continue
            key = matcher.match(name)
        if key is None:
            columns.unknown.append(i)
        elif key in columns.fields.values():
            columns.repeated.append(i)
        else:
            columns.fields[i] = key
    return columns


def _letter(index: int) -> str:
    """The spreadsheet letter of a column: 0 → A, 26 → AA."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def column_name(header: Sequence[str], index: int) -> str:
    """A column as people see it: its header, or its letter when the header is empty."""
    return header[index] or f"column {_letter(index)}"
