"""Reading any file into a table: sniffing the format, the encoding and the delimiter; header matching."""

from __future__ import annotations

import codecs

import pytest

from leadgate.files.columns import LEAD_ID, match_columns
from leadgate.files.errors import FileError
from leadgate.files.reading import read_sheet
from leadgate.rules.definitions import FieldRule, FieldType
from leadgate.rules.headers import FieldKeyMatcher

LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_inflated_bytes": 50 * 1024 * 1024}


def read(tmp_path, content: bytes, name="f.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return read_sheet(path, **LIMITS)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize(
    ("encoding", "prefix", "reported"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-bom"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
    ],
)
def test_delimiter_and_encoding_are_told_by_the_content(tmp_path, delimiter, encoding, prefix, reported):
    text = delimiter.join(["email", "name", "city"]) + "\r\n" + delimiter.join(["a@b.co", "Zoë 李", "Köln"])
    sheet = read(tmp_path, prefix + text.encode(encoding), name="renamed.txt")
    assert (sheet.format, sheet.encoding, sheet.delimiter) == ("csv", reported, delimiter)
    assert sheet.header == ["email", "name", "city"]
    assert sheet.frame.row(0) == ("a@b.co", "Zoë 李", "Köln", 2)


def test_windows_1252_is_the_reported_fallback(tmp_path):
    sheet = read(tmp_path, "email;name\na@b.co;Müller – café\n".encode("cp1252"))
    assert (sheet.encoding, sheet.delimiter) == ("windows-1252", ";")
    assert sheet.frame.row(0)[:2] == ("a@b.co", "Müller – café")
    assert "Windows-1252" in sheet.warnings[0]


def test_excels_sep_line_names_the_delimiter(tmp_path):
    sheet = read(tmp_path, b"sep=;\nemail;note\na@b.co;one, two\n")
    assert sheet.delimiter == ";" and sheet.header == ["email", "note"]
    assert sheet.frame.row(0) == ("a@b.co", "one, two", 3)


def test_quoted_cells_keep_delimiters_and_line_breaks_and_row_numbers_follow_the_spreadsheet(tmp_path):
    sheet = read(tmp_path, b'\n\nemail,note\n"a@b.co","line 1\nline 2, still"\n,\nb@c.co,x\n')
    assert sheet.header == ["email", "note"]
    rows = sheet.frame.rows()
    assert rows == [("a@b.co", "line 1\nline 2, still", 4), ("b@c.co", "x", 6)]  # blank rows skipped


def test_rows_with_more_cells_than_the_header_are_marked(tmp_path):
    sheet = read(tmp_path, b"email,name\na@b.co,Ann\nb@c.co,Bob, Jr.\n")
    assert sheet.ragged == {3}
    assert sheet.header == ["email", "name"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"\r\n\r\n", "empty_file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 100, "binary_file"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "unreadable_text"),
        (b"PK\x03\x04garbage", "corrupt_workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "corrupt_workbook"),
    ],
)
def test_file_level_problems_are_one_clear_error(tmp_path, content, code):
    with pytest.raises(FileError) as error:
        read(tmp_path, content)
    assert error.value.code == code
    assert error.value.message.endswith(".")


def test_the_size_limit_is_checked_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"email\n" + b"a@b.co\n" * 1000)
    with pytest.raises(FileError) as error:
        read_sheet(path, max_bytes=1000, max_inflated_bytes=10)
    assert error.value.code == "file_too_large" and "LEADGATE_UPLOAD_MAX_MB" in error.value.message


FIELDS = [
    FieldRule("email", "Email", FieldType.EMAIL, aliases=("Email Address", "E-mail")),
    FieldRule("first_name", "First Name"),
    FieldRule("source", "Lead Source"),
]


def test_headers_match_by_key_label_or_alias_ignoring_case_spaces_and_dashes():
    header = ["\ufeffLead ID", "E-MAIL ADDRESS", "first name", "Status", "Disposition Code", "source", "Shoe"]
    columns = match_columns(header, [f.key for f in FIELDS], FieldKeyMatcher(FIELDS))
    assert columns.lead_id == 0
    assert columns.fields == {1: "email", 2: "first_name", 5: "source"}  # a field keyed "source" wins
    assert columns.platform == [3, 4]
    assert columns.unknown == [6]
    assert columns.describe(header)["\ufeffLead ID"] == LEAD_ID


def test_a_second_column_for_a_field_is_set_aside():
    columns = match_columns(["email", "Email Address"], ["email"], FieldKeyMatcher(FIELDS))
    assert (columns.fields, columns.repeated) == ({0: "email"}, [1])
