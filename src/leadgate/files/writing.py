"""Spreadsheet writers that stream: rows go out chunk by chunk, so memory stays flat however many there are.

Both writers take polars DataFrames of strings (null is an empty cell), one chunk at a time, and write bytes
to a binary stream that only needs ``write`` (a file, standard output, or a buffer a web response drains).

* :class:`CsvWriter` — UTF-8 with a BOM (Excel reads UTF-8 only when the file starts with one), comma or
  semicolon (the list separator of European Excel), CRLF line ends as RFC 4180 has them and Excel writes
  them itself (every spreadsheet reads them, and so does Notepad), every cell through the formula guard
  and quoted when it holds any separator a spreadsheet may split on.
* :class:`XlsxWriter` — an XLSX package with one sheet, "Leads", of text cells only: inline strings, never
  numbers or formulas, so a spreadsheet shows ``+49 30 1234567``, ``00123`` or ``=cmd`` exactly as written
  and evaluates nothing. The XLSX cells are therefore not guarded, and uploads unguard CSV/TXT files only.
  Each chunk of rows becomes sheet XML in polars, column-wise, and goes straight into a deflated zip entry.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable, Collection, Sequence
from typing import BinaryIO, Protocol

import polars as pl

from .guard import NEEDS_GUARD, guard_expr

UTF8_BOM = b"\xef\xbb\xbf"

#: An XLSX sheet has 1,048,576 rows; the header takes one.
XLSX_MAX_ROWS = 1_048_575
#: Excel refuses a cell longer than this (in characters); longer values are cut in XLSX (CSV keeps them).
#: Excel counts UTF-16 units, so 32,767 characters of emoji would still be too long: rare enough to leave.
XLSX_MAX_CELL = 32_767


def _header_row(header: Sequence[str]) -> pl.DataFrame:
    """The header as a one-row frame (its names may repeat, as in a file a user uploaded)."""
    return pl.DataFrame(
        {f"column_{i}": [name] for i, name in enumerate(header)},
        schema={f"column_{i}": pl.String for i in range(len(header))},
    )


class Writer(Protocol):
    """What the download service writes through."""

    def write(self, frame: pl.DataFrame) -> None: ...

    def close(self) -> None: ...


# --- CSV ----------------------------------------------------------------------------------------------------


# A cell is quoted when it holds a quote, a line break, or any separator a spreadsheet may split on: not
# only the file's own. Calc's import dialog splits on comma, semicolon *and* tab by default, so an
# unquoted "a; b" in the comma CSV would come back as two cells.
_NEEDS_QUOTES = [",", ";", "\t", '"', "\r", "\n"]


def _csv_cells(frame: pl.DataFrame, plain: Collection[str]) -> list[pl.Expr]:
    """The frame's columns as CSV cells: guarded, and quoted where needed.

    Guarding and quoting a column costs four times what testing it does, and most columns (emails,
    countries…) need neither: one pass per chunk finds the columns that do. ``plain`` columns (text
    leadgate makes itself: ids, codes, times) are not even tested.
    """
    guard = _flags(frame, plain, lambda text: text.str.contains(NEEDS_GUARD))
    quote = _flags(frame, plain, lambda text: text.str.contains_any(_NEEDS_QUOTES))
    cells = []
    for name in frame.columns:
        text = _text(name)
        if guard[name]:
            text = guard_expr(text)
        if quote[name]:
            quoted = pl.concat_str(pl.lit('"'), text.str.replace_all('"', '""', literal=True), pl.lit('"'))
            text = pl.when(~text.str.contains_any(_NEEDS_QUOTES)).then(text).otherwise(quoted)
        cells.append(text.alias(name))
    return cells


def _flags(
    frame: pl.DataFrame, plain: Collection[str], test: Callable[[pl.Expr], pl.Expr]
) -> dict[str, bool]:
    """Column name → whether ``test`` holds for any of its cells (never for ``plain`` columns)."""
    tested = [name for name in frame.columns if name not in plain]
    found = frame.select(test(_text(name)).any().fill_null(False) for name in tested).row(0) if tested else ()
    return {name: False for name in frame.columns} | dict(zip(tested, found, strict=True))


def _text(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String)


class CsvWriter:
    """CSV as Excel opens it right: UTF-8 with a BOM, CRLF, cells guarded against formulas."""

    def __init__(
        self, out: BinaryIO, header: Sequence[str], *, separator: str = ",", plain: Collection[str] = ()
    ) -> None:
        """``plain``: columns whose text never needs a guard or quotes (leadgate's ids, codes, times)."""
        self._out = out
        self._separator = separator
        self._plain = frozenset(plain)
        out.write(UTF8_BOM)
        self._write_rows(_header_row(header))

    def write(self, frame: pl.DataFrame) -> None:
        """Write a chunk of rows: the frame's columns, in order, all strings."""
        if frame.height:
            self._write_rows(frame)

    def _write_rows(self, frame: pl.DataFrame) -> None:
        cells = frame.select(_csv_cells(frame, self._plain))
        # Quoted above already: polars writes the cells as they are.
        cells.write_csv(
            self._out,
            include_header=False,
            separator=self._separator,
            line_terminator="\r\n",
            quote_style="never",
        )

    def close(self) -> None:
        """Nothing is held back: every row is written when given."""


# --- XLSX ---------------------------------------------------------------------------------------------------

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_CONTENT_TYPES = (
    _XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _XML_DECL + f'<Relationships xmlns="{_PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    _XML_DECL + f'<Relationships xmlns="{_PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Style 0, which every cell without a style takes, has the number format "@" (Text, built-in id 49): a
# value the user types into the sheet later (a phone number, a postal code with leading zeros) stays text
# too. Style 1 is the same in bold, for the header.
_STYLES = (
    _XML_DECL + f'<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2">'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)

# XML 1.0 cannot carry control characters other than tab, LF and CR, not even as character references.
# OOXML writes them as ``_xHHHH_``, which Excel, Calc and calamine (the upload's reader) decode; text that
# looks like such an escape gets its "_" escaped (``_x005F_``), as Excel does. The noncharacters U+FFFE
# and U+FFFF have no escape any reader decodes: they are dropped (only from XLSX cells).
_CONTROL = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))]
_NOT_XML = [*_CONTROL, "\ufffe", "\uffff"]
_NOT_XML_AS = [*(f"_x{ord(c):04X}_" for c in _CONTROL), "", ""]
_LOOKS_ESCAPED = r"_(x[0-9A-Fa-f]{4}_)"
# Text that needs escaping: markup characters, CR (XML readers turn a raw CR into LF) and the above.
_NEEDS_ESCAPE = r'[&<>"\r\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]|_x[0-9A-Fa-f]{4}_'
# Excel trims a cell's leading and trailing whitespace unless the text says to preserve it.
_EDGE_SPACE = r"^[ \t\n\r]|[ \t\n\r]$"


def column_letter(index: int) -> str:
    """The spreadsheet name of the 0-based column ``index``: A … Z, AA … ZZ, AAA …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _escape(text: pl.Expr) -> pl.Expr:
    """Text as a cell's XML character data, cut to what a cell holds."""
    return (
        text.str.slice(0, XLSX_MAX_CELL)
        .str.replace_all(_LOOKS_ESCAPED, "_x005F_${1}")
        .str.replace_many(_NOT_XML, _NOT_XML_AS)
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_all('"', "&quot;", literal=True)
        .str.replace_all("\r", "&#13;", literal=True)
    )


def _rows_xml(
    frame: pl.DataFrame, letters: Sequence[str], first_row: int, style: str = "", plain: Collection[str] = ()
) -> pl.DataFrame:
    """The frame's rows as sheet XML, one ``<row>`` per row, built column-wise.

    Escaping and the whitespace check cost more than the rest together, and most columns (emails,
    countries…) never need them: one pass per chunk finds the columns that do (``plain`` ones never do).
    """
    escape = _flags(
        frame,
        plain,
        lambda text: text.str.contains(_NEEDS_ESCAPE) | (text.str.len_chars() > XLSX_MAX_CELL),
    )
    edge_space = _flags(frame, plain, lambda text: text.str.contains(_EDGE_SPACE))
    row = pl.int_range(first_row, first_row + frame.height, dtype=pl.Int64).cast(pl.String)
    cells = []
    for name, letter in zip(frame.columns, letters, strict=True):
        value = _text(name)
        value = pl.when(value != "").then(value)  # empty → null: no cell at all, as the format allows
        space = pl.lit("")
        if edge_space[name]:
            space = (
                pl.when(value.str.contains(_EDGE_SPACE))
                .then(pl.lit(' xml:space="preserve"'))
                .otherwise(space)
            )
        cells.append(
            pl.concat_str(
                pl.lit(f'<c r="{letter}'),
                row,
                pl.lit(f'"{style} t="inlineStr"><is><t'),
                space,
                pl.lit(">"),
                _escape(value) if escape[name] else value,
                pl.lit("</t></is></c>"),
            )  # null when the value is: skipped below
        )
    return frame.select(
        pl.concat_str(pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>"), ignore_nulls=True)
    )


_XML_SLICE = 5_000


class XlsxWriter:
    """An XLSX workbook with one sheet, "Leads": text cells, the header row bold, frozen and filterable.

    The zip goes out as it is made (entries with data descriptors, so the stream is never sought), and
    the sheet entry is deflated chunk by chunk: what is held at any time is one chunk of rows.
    """

    SHEET_NAME = "Leads"

    def __init__(
        self,
        out: BinaryIO,
        header: Sequence[str],
        *,
        widths: Sequence[float] | None = None,
        large: bool = False,
        compresslevel: int = 1,
        plain: Collection[str] = (),
    ) -> None:
        """``plain``: columns whose text never needs escaping (leadgate's ids, codes, times).
        ``large``: the sheet may pass 2 GiB uncompressed (about a million rows of long values), so
        its zip entry needs the ZIP64 format, which must be chosen before the first byte is written.
        ``compresslevel`` 1: deflate is the slowest step; level 6 makes the file 15% smaller and the
        download twice as slow."""
        self._header = list(header)
        self._plain = frozenset(plain)
        self._letters = [column_letter(i) for i in range(len(self._header))]
        self._next_row = 1  # sheet rows count from 1
        self._zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self._zip.writestr("[Content_Types].xml", _CONTENT_TYPES)
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        self._zip.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        self._zip.writestr("xl/styles.xml", _STYLES)
        sheet = zipfile.ZipInfo("xl/worksheets/sheet1.xml", date_time=time.localtime()[:6])
        sheet.compress_type = zipfile.ZIP_DEFLATED
        sheet._compresslevel = compresslevel  # type: ignore[attr-defined]  # as ZipFile.open sets it
        self._sheet = self._zip.open(sheet, "w", force_zip64=large)
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{width:g}" customWidth="1"/>'
            for i, width in enumerate(widths or [], start=1)
        )
        self._sheet.write(
            (
                _XML_DECL + f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
                '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                "</sheetView></sheetViews>" + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>"
            ).encode()
        )
        self._write_rows(_header_row(self._header), style=' s="1"')

    def write(self, frame: pl.DataFrame) -> None:
        """Write a chunk of rows: the frame's columns, in the header's order, all strings."""
        if not frame.height:
            return
        if self._next_row + frame.height - 1 > XLSX_MAX_ROWS + 1:
            raise ValueError(f"an XLSX sheet holds {XLSX_MAX_ROWS:,} rows below its header")
        # The XML of a row is six times its text, and building it takes as much again: in slices,
        # so that what is held stays small whatever chunk the caller gives.
        for offset in range(0, frame.height, _XML_SLICE):
            self._write_rows(frame.slice(offset, _XML_SLICE))

    def _write_rows(self, frame: pl.DataFrame, style: str = "") -> None:
        if frame.width:
            xml = _rows_xml(frame, self._letters, self._next_row, style, self._plain)
            # polars writes the column's UTF-8 as it is: no Python string per row, nothing quoted.
            xml.write_csv(self._sheet, include_header=False, quote_style="never", line_terminator="")
        self._next_row += frame.height

    def close(self) -> None:
        """Finish the sheet (its filter covers the rows written) and the package."""
        last_column = self._letters[-1] if self._letters else "A"
        last_row = max(self._next_row - 1, 1)
        self._sheet.write(f'</sheetData><autoFilter ref="A1:{last_column}{last_row}"/></worksheet>'.encode())
        self._sheet.close()
        # The filter needs its defined name, known only now; the workbook part may follow the sheet.
        self._zip.writestr(
            "xl/workbook.xml",
            _XML_DECL + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            "<bookViews><workbookView/></bookViews>"
            f'<sheets><sheet name="{self.SHEET_NAME}" sheetId="1" r:id="rId1"/></sheets>'
            f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
            f"{self.SHEET_NAME}!$A$1:${last_column}${last_row}</definedName></definedNames>"
            "</workbook>",
        )
        self._zip.close()


# --- formats ------------------------------------------------------------------------------------------------

#: format → (file extension, content type)
FORMATS: dict[str, tuple[str, str]] = {
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("csv", "text/csv; charset=utf-8"),
    "csv-semicolon": ("csv", "text/csv; charset=utf-8"),
}


def open_writer(
    format: str,
    out: BinaryIO,
    header: Sequence[str],
    *,
    widths: Sequence[float] | None = None,
    large: bool = False,
    plain: Collection[str] = (),
) -> Writer:
    """The writer of ``format`` (a key of :data:`FORMATS`), with the header written. ``plain``: columns
    whose text leadgate makes itself and never needs a guard, quotes or escapes (a little faster)."""
    if format == "xlsx":
        return XlsxWriter(out, header, widths=widths, large=large, plain=plain)
    if format == "csv":
        return CsvWriter(out, header, separator=",", plain=plain)
    if format == "csv-semicolon":
        return CsvWriter(out, header, separator=";", plain=plain)
    raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
