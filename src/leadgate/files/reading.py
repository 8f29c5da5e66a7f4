"""Reading an uploaded file into a table of text, whatever spreadsheet or program wrote it.

The format is told by the content, never by the name: people rename files, and Excel saves "CSV" files
that are really tab-separated UTF-16. A workbook is a ZIP (xlsx, ods) or an OLE compound file (xls, or an
encrypted workbook); anything else is text, whose encoding (BOM, then strict UTF-8, then Windows-1252, the
one Excel on Windows writes) and delimiter are detected. Every cell comes back as text: a spreadsheet's
numbers and dates are read as the text they show, so the rules, not the reader, decide what they mean.

Every file-level problem raises ``FileError`` before anything is stored.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .errors import FileError

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
DELIMITERS = ",;\t|"
_SAMPLE = 64 * 1024
# A ZIP member that inflates to more than this many times its size is a decompression bomb: real
# spreadsheets compress text about 5 to 20 times.
_MAX_RATIO = 100
_ROW = "_row"  # the column holding each data row's number as a spreadsheet shows it (the header is row 1)

FORMAT_NAMES = {"csv": "CSV or text", "xlsx": "Excel workbook", "xls": "Excel 97-2003 workbook", "ods": "ODS"}


@dataclass
class Sheet:
    """A file's table: its header, its data rows as text columns ``c0``, ``c1``… plus ``_row``."""

    format: str  # "csv" | "xlsx" | "xls" | "ods"
    header: list[str]
    frame: pl.DataFrame
    encoding: str = ""  # for text: "utf-8", "utf-8-bom", "utf-16", "windows-1252"
    ragged: set[int] = field(default_factory=set)  # rows with more cells than the header
    delimiter: str = ""  # for text
    warnings: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [f"c{i}" for i in range(len(self.header))]


def read_sheet(path: str | Path, *, max_bytes: int, max_inflated_bytes: int) -> Sheet:
    """The table in the file at ``path``; raises ``FileError`` for a file that cannot be taken in."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise FileError("empty_file", "The file is empty.")
    if size > max_bytes:
        raise FileError(
            "file_too_large",
            f"The file is {_megabytes(size)}; the limit is {_megabytes(max_bytes)}"
            " (LEADGATE_UPLOAD_MAX_MB). Split it into smaller files.",
        )
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(_ZIP):
        kind = _zip_kind(path, max_inflated_bytes)
        return _table(kind, _read_workbook(path, kind))
    if head.startswith(_OLE):
        _refuse_encrypted(path)
        return _table("xls", _read_workbook(path, "xls"))
    return _read_text(path)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


# --- workbooks -------------------------------------------------------------------------------------------


def _zip_kind(path: Path, max_inflated_bytes: int) -> str:
    """The workbook kind ("xlsx" or "ods"), once the ZIP directory shows that inflating it is safe."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            inflated = sum(m.file_size for m in members)
            ratio = max((m.file_size / max(m.compress_size, 1) for m in members), default=0)
            if inflated > max_inflated_bytes or (ratio > _MAX_RATIO and inflated > 10 * 1024 * 1024):
                raise FileError(
                    "decompression_bomb",
                    f"The workbook would inflate to {_megabytes(inflated)} (a decompression bomb?);"
                    " it was not opened.",
                )
            if "EncryptedPackage" in names:
                raise _encrypted()
            if "mimetype" in names and archive.read("mimetype").startswith(
                b"application/vnd.oasis.opendocument.spreadsheet"
            ):
                return "ods"
    except zipfile.BadZipFile:
        raise FileError("corrupt_workbook", "The workbook is damaged and cannot be read.") from None
    if "xl/workbook.xml" in names:
        return "xlsx"
    raise FileError(
        "unsupported_file",
        "The file is a ZIP archive but not a workbook; upload CSV, TXT, XLSX, XLS or ODS.",
    )


def _encrypted() -> FileError:
    return FileError(
        "encrypted_workbook",
        "The workbook is protected with a password; save it without one and upload it again.",
    )


def _refuse_encrypted(path: Path) -> None:
    import msoffcrypto

    try:
        with path.open("rb") as fh:
            office = msoffcrypto.OfficeFile(fh)
            encrypted = office.is_encrypted()
    except Exception:
        raise FileError("corrupt_workbook", "The workbook is damaged and cannot be read.") from None
    if encrypted:
        raise _encrypted()


def _read_workbook(path: Path, kind: str) -> list[pl.Series]:
    """The first sheet, or the sheet named "Leads", as text columns with no header taken yet."""
    import fastexcel

    try:
        workbook = fastexcel.read_excel(path)
        names = workbook.sheet_names
        if not names:
            raise FileError("no_header", "The workbook has no sheets.")
        wanted = next((n for n in names if n.strip().casefold() == "leads"), names[0])
        sheet = workbook.load_sheet(wanted, header_row=None, dtypes="string")
        frame = sheet.to_polars()
    except FileError:
        raise
    except Exception as error:
        raise FileError(
            "corrupt_workbook", f"The {FORMAT_NAMES[kind]} cannot be read ({_first_line(error)})."
        ) from None
    return [frame[c] for c in frame.columns]


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


# --- text ------------------------------------------------------------------------------------------------


def _read_text(path: Path) -> Sheet:
    text_bytes, encoding = decode_text(path.read_bytes())
    warnings: list[str] = []
    if encoding == "windows-1252":
        warnings.append(
            'The file is not UTF-8, so it was read as Windows-1252 (what Excel\'s plain "CSV" writes).'
            ' Characters outside Western European languages cannot survive that; save as "CSV UTF-8"'
            " or XLSX to keep them."
        )
    sample = text_bytes[:_SAMPLE].decode("utf-8", errors="ignore")
    delimiter, skip = _delimiter(sample)
    # One column more than the header has: a row that fills it has more cells than the header (a value
    # holding the delimiter, unquoted), and its cells cannot be trusted to be under the right headers.
    width = _header_width(sample, delimiter, skip) + 1
    try:
        frame = pl.read_csv(
            io.BytesIO(text_bytes),
            has_header=False,
            schema=dict.fromkeys((f"column_{i}" for i in range(width)), pl.String),
            missing_columns="insert",  # the extra column, when no row fills it
            separator=delimiter,
            skip_rows=skip,
            truncate_ragged_lines=True,
            quote_char='"',
        )
    except pl.exceptions.NoDataError:
        raise FileError("empty_file", "The file has no rows.") from None
    except Exception as error:
        raise FileError(
            "unreadable_text", f"The file cannot be read as CSV ({_first_line(error)})."
        ) from None
    *cells, extra = (frame[c] for c in frame.columns)
    sheet = _table("csv", [*cells, extra], first_row=1 + skip)
    overflow = sheet.frame.filter(pl.col(f"c{width - 1}").is_not_null() & (pl.col(f"c{width - 1}") != ""))
    sheet.ragged = set(overflow[_ROW].to_list())
    sheet.frame = sheet.frame.drop(f"c{width - 1}")
    sheet.header = sheet.header[: width - 1]
    sheet.encoding, sheet.delimiter = encoding, delimiter
    sheet.warnings[:0] = warnings
    return sheet


def _header_width(sample: str, delimiter: str, skip: int) -> int:
    """How many cells the header line has (the first line with any text after the skipped ones)."""
    lines = [line for line in sample.splitlines()[skip:] if line.strip()]
    if not lines:
        return 1
    return max(1, len(next(csv.reader([lines[0]], delimiter=delimiter))))


_SEP_LINE = re.compile(r"^sep=(.)\r?$", re.IGNORECASE)


def _delimiter(sample: str) -> tuple[str, int]:
    """The delimiter, and how many lines to skip: Excel's ``sep=;`` first line names it."""
    lines = sample.splitlines()
    if lines and (hint := _SEP_LINE.match(lines[0])) and hint.group(1) in DELIMITERS:
        return hint.group(1), 1
    header = next((line for line in lines if line.strip()), "")
    try:
        found = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=DELIMITERS).delimiter
        if found in header:
            return found, 0
    except csv.Error:
        pass
    # The header line decides: column names rarely hold a delimiter, and it always has most of them.
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return (best if counts[best] else ","), 0


def decode_text(data: bytes) -> tuple[bytes, str]:
    """A text file's bytes as UTF-8 (without BOM), and what it was: ``utf-8``, ``utf-8-bom``, ``utf-16``
    (with its BOM) or ``windows-1252`` (not UTF-8: what Excel's plain "CSV" writes). Raises FileError
    for binary data and for text in none of these."""
    if data.startswith(_UTF8_BOM):
        encoding, text_bytes = "utf-8-bom", data[len(_UTF8_BOM) :]
    elif data.startswith(_UTF16_BOMS):
        encoding = "utf-16"
        try:
            text_bytes = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise FileError("unreadable_text", "The file says it is UTF-16 but is not.") from None
    else:
        encoding, text_bytes = "utf-8", data
    _refuse_binary(text_bytes[:_SAMPLE])
    if encoding == "utf-8":
        try:
            text_bytes.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text_bytes = data.decode("cp1252").encode("utf-8")
            except UnicodeDecodeError:
                raise FileError(
                    "unreadable_text", "The file is not text in UTF-8, UTF-16 or Windows-1252."
                ) from None
            encoding = "windows-1252"
    return text_bytes, encoding


def _refuse_binary(sample: bytes) -> None:
    """Images, archives and programs hold NUL bytes, or mostly control bytes; a table of leads does not
    (though a lead's text may hold a few control characters, and a small file's share of them is high)."""
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in sample or controls > len(sample) // 3:
        raise FileError(
            "binary_file",
            "The file holds binary data, not a table; upload CSV, TXT, XLSX, XLS or ODS.",
        )


# --- the table -------------------------------------------------------------------------------------------


def _table(kind: str, columns: list[pl.Series], first_row: int = 1) -> Sheet:
    """Header and data rows from raw columns: the first row with any value is the header; rows with no
    value at all are dropped (spreadsheets leave them behind), keeping every row's spreadsheet number."""
    width = len(columns)
    if width == 0 or len(columns[0]) == 0:
        raise FileError("empty_file", "The file has no rows.")
    frame = pl.DataFrame([c.cast(pl.String).rename(f"c{i}") for i, c in enumerate(columns)]).with_row_index(
        _ROW, offset=first_row
    )
    names = [f"c{i}" for i in range(width)]
    blank = pl.all_horizontal([pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in names])
    frame = frame.filter(~blank)
    if frame.height == 0:
        raise FileError("empty_file", "The file has no values, only empty rows.")
    header = ["" if v is None else v.strip() for v in frame.row(0)[1:]]
    return Sheet(format=kind, header=header, frame=frame.slice(1).select([*names, _ROW]))
