"""Download Leads, the service: columns and headers, values as last submitted, filters, both formats."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile

import fastexcel
import openpyxl
import polars as pl
import pytest
from django.utils import timezone

from leadgate.files import downloads
from leadgate.files.downloads import (
    PLATFORM_COLUMNS,
    DownloadError,
    download,
    lead_template,
    parse_time,
    prepare_download,
)
from leadgate.files.guard import unguard
from leadgate.files.models import Upload
from leadgate.leads.models import Lead
from leadgate.leads.services import Actor, process_leads, reprocess_leads
from tests.conftest import good_lead

SUMMIT_FIELDS = ["email", "first_name", "job_level", "country", "phone", "opt_in"]
HEADER = [*PLATFORM_COLUMNS, *SUMMIT_FIELDS]
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
BOM = b"\xef\xbb\xbf"

# Values people really send: scripts, emoji, right-to-left text, line breaks, formulas, edge spaces.
HARD_VALUES = [
    good_lead(first_name="Zoë 👩🏽‍💻", phone="+49 30 1234567"),
    good_lead(email="yael@acme-corp.com", first_name="יעל", country="Israel"),
    good_lead(email="li@acme-corp.com", first_name="李\n小龙", job_level="=cmd|' /C calc'!A0"),
    good_lead(email="o.brien@acme-corp.com", first_name=' "O\'Brien", Jr; ', phone="-"),
    good_lead(email="a@acme-corp.com", first_name="@admin\r\nline", country="Germany"),
]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def read_csv(data: bytes, separator: str = ",") -> list[list[str]]:
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data[len(BOM) :].decode("utf-8"), newline=""), delimiter=separator))


def download_bytes(source, **options) -> bytes:
    out = io.BytesIO()
    download(source, out, **options)
    return out.getvalue()


def as_dicts(rows: list[list[str]]) -> list[dict[str, str]]:
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


@pytest.fixture
def leads(summit):
    return process_leads(summit, HARD_VALUES, submitted_at=at("2026-03-14T09:30:00.250000"))


# --- columns and values -------------------------------------------------------------------------------------


def test_csv_has_the_exact_headers_then_the_field_keys_in_field_order(summit, leads):
    rows = read_csv(download_bytes(summit, format="csv"))
    assert rows[0] == HEADER
    assert len(rows) == 1 + len(HARD_VALUES)


def test_values_come_back_exactly_as_submitted(summit, leads):
    rows = as_dicts(read_csv(download_bytes(summit, format="csv")))
    by_id = {row["LeadID"]: row for row in rows}
    for lead in leads:
        row = by_id[lead.lead_id]
        assert {key: unguard(row[key]) for key in SUMMIT_FIELDS} == lead.values
    # The guard shows in the file itself: a spreadsheet never runs these as formulas.
    li = by_id[leads[2].lead_id]
    assert li["job_level"] == "'=cmd|' /C calc'!A0"
    assert by_id[leads[0].lead_id]["phone"] == "'+49 30 1234567"
    assert by_id[leads[4].lead_id]["first_name"] == "'@admin\r\nline"


def test_platform_columns(summit, leads):
    lead = Lead.objects.get(lead_id=leads[0].lead_id)
    upload = Upload.objects.create(source=summit, name="fair.csv", digest="0" * 64)
    Lead.objects.filter(pk=lead.pk).update(upload=upload)
    lead.refresh_from_db()
    row = next(
        r for r in as_dicts(read_csv(download_bytes(summit, format="csv"))) if r["LeadID"] == lead.lead_id
    )
    assert row["Status"] == lead.status == "accepted"
    assert row["Disposition Code"] == "ACCEPT_LEAD"
    assert row["Source"] == "data-summit-2026"
    assert row["Received Via"] == "api"
    assert row["Submitted At"] == "2026-03-14T09:30:00Z"  # ISO 8601 in UTC, to the second
    assert row["Processed At"] == lead.processed_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert row["Updated At"] == lead.updated_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(ISO_UTC.match(row[c]) for c in ("Submitted At", "Processed At", "Updated At"))
    assert row["Delivery Status"] == ""  # no deliveries yet (issue 6)
    assert row["Upload"] == upload.upload_id


def test_rejected_leads_carry_their_code_and_reason(summit):
    [lead] = process_leads(summit, [good_lead(job_level="Chief Executive Wizard")])
    [row] = as_dicts(read_csv(download_bytes(summit, format="csv")))
    assert (row["Status"], row["Disposition Code"]) == ("rejected", "REJECT_LEAD_INVALID_LIST_VALUE")
    assert row["Custom Reason"] == lead.custom_reason and "Chief Executive Wizard" in row["Custom Reason"]


def test_values_are_the_last_submitted_and_missing_ones_are_empty(summit, leads):
    lead = leads[1]
    reprocess_leads(summit, [lead.lead_id], actor=Actor("test"), edits={lead.lead_id: {"first_name": "Yaël"}})
    Lead.objects.create(source=summit, submitted_at=timezone.now(), values={"email": "new@acme-corp.com"})
    rows = {r["LeadID"]: r for r in as_dicts(read_csv(download_bytes(summit, format="csv")))}
    assert rows[lead.lead_id]["first_name"] == "Yaël"
    processing = next(r for r in rows.values() if r["Status"] == "processing")
    assert processing["email"] == "new@acme-corp.com"
    assert [processing[k] for k in SUMMIT_FIELDS[1:]] == [""] * 5
    assert processing["Processed At"] == "" and processing["Disposition Code"] == ""


def test_rows_are_in_arrival_order_across_chunks(summit, monkeypatch):
    monkeypatch.setattr(downloads, "CHUNK", 2)
    made = process_leads(summit, [good_lead(email=f"p{i}@acme-corp.com") for i in range(7)])
    rows = as_dicts(read_csv(download_bytes(summit, format="csv")))
    assert [r["LeadID"] for r in rows] == [lead.lead_id for lead in made]


# --- formats ------------------------------------------------------------------------------------------------


def test_csv_is_utf8_with_a_bom_and_crlf(summit, leads):
    data = download_bytes(summit, format="csv")
    assert data.startswith(BOM + b"LeadID,Status,Disposition Code,")
    assert data.count(BOM) == 1
    assert data.split(b"\r\n")[0].endswith(b"opt_in")
    assert "יעל".encode() in data and "👩🏽‍💻".encode() in data


def test_semicolon_csv_for_european_excel(summit, leads):
    data = download_bytes(summit, format="csv-semicolon")
    assert data.startswith(BOM + b"LeadID;Status;Disposition Code;")
    rows = read_csv(data, separator=";")
    assert rows[0] == HEADER
    row = dict(zip(rows[0], rows[4], strict=True))
    assert row["first_name"] == ' "O\'Brien", Jr; '  # quoted, so its ; and quotes stay in the cell


def test_csv_quotes_every_separator_a_spreadsheet_may_split_on(summit):
    # Calc's import dialog splits on comma, semicolon and tab at once, whatever the file uses.
    process_leads(
        summit, [good_lead(first_name="a; b"), good_lead(email="t@acme-corp.com", first_name="c\td")]
    )
    for format, separator in (("csv", b","), ("csv-semicolon", b";")):
        lines = download_bytes(summit, format=format).split(b"\r\n")
        assert separator + b'"a; b"' + separator in lines[1]
        assert separator + b'"c\td"' + separator in lines[2]
        assert b"LeadID" + separator + b"Status" in lines[0]  # and nothing else is quoted
        assert separator + b"accepted" + separator in lines[1]


def test_xlsx_is_text_cells_with_a_frozen_header(summit, leads, tmp_path):
    path = tmp_path / "leads.xlsx"
    with path.open("wb") as out:
        assert download(summit, out, format="xlsx") == len(HARD_VALUES)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Leads"]
    sheet = workbook["Leads"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:Q{1 + len(HARD_VALUES)}"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None]
    assert {cell.data_type for cell in cells} == {"s"}  # text, never a number or a formula
    assert {cell.number_format for cell in cells} == {"@"}  # and formatted as Text, as typing will be
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    by_id = {row[0]: dict(zip(HEADER, row, strict=True)) for row in rows[1:]}
    for lead in leads:
        row = by_id[lead.lead_id]
        # Not guarded: a text cell is never evaluated, so "=cmd…" and "+49…" go out as they are.
        assert {key: row[key] for key in SUMMIT_FIELDS} == lead.values
    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<v>" not in sheet_xml
    assert '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' in sheet_xml


def test_xlsx_reads_the_same_in_fastexcel(summit, leads, tmp_path):
    path = tmp_path / "leads.xlsx"
    with path.open("wb") as out:
        download(summit, out, format="xlsx")
    frame = fastexcel.read_excel(str(path)).load_sheet(0, dtypes="string").to_polars()
    assert frame.columns == HEADER
    csv_rows = as_dicts(read_csv(download_bytes(summit, format="csv")))
    expected = [{k: unguard(v) or None for k, v in row.items()} for row in csv_rows]
    assert frame.to_dicts() == expected


def test_xlsx_streamed_in_chunks_is_the_same_file(summit, leads, monkeypatch):
    monkeypatch.setattr(downloads, "CHUNK", 2)
    prepared = prepare_download(summit, format="xlsx")
    chunks = list(prepared.chunks())
    assert len(chunks) > 2  # it streams: bytes go out before the last lead is read
    streamed = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    written = zipfile.ZipFile(io.BytesIO(download_bytes(summit, format="xlsx")))
    assert streamed.namelist() == written.namelist()
    for name in written.namelist():
        assert streamed.read(name) == written.read(name)


def test_xlsx_keeps_what_xml_cannot_hold_and_cuts_what_excel_cannot(summit):
    long = "x" * 40_000
    values = {"email": "ctl@acme-corp.com", "first_name": "a\x0bb\x01", "job_level": "_x0041_", "phone": long}
    lead = Lead.objects.create(source=summit, submitted_at=timezone.now(), values=values)
    out = io.BytesIO()
    download(summit, out, format="xlsx")
    frame = fastexcel.read_excel(out.getvalue()).load_sheet(0, dtypes="string").to_polars()
    row = frame.row(0, named=True)
    assert row["LeadID"] == lead.lead_id
    assert row["first_name"] == "a\x0bb\x01"  # written as OOXML's _x000B_ escapes, read back as they were
    assert row["job_level"] == "_x0041_"
    assert row["phone"] == "x" * 32_767  # Excel's cell limit; the CSV keeps it whole
    assert unguard(as_dicts(read_csv(download_bytes(summit, format="csv")))[0]["phone"]) == long


def test_template_is_the_header_of_the_fields(summit, leads, tmp_path):
    out = io.BytesIO()
    lead_template(summit, out, format="csv")
    assert out.getvalue() == BOM + b"email,first_name,job_level,country,phone,opt_in\r\n"
    path = tmp_path / "template.xlsx"
    with path.open("wb") as fh:
        lead_template(summit, fh, format="xlsx")
    sheet = openpyxl.load_workbook(path)["Leads"]
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [SUMMIT_FIELDS]
    assert sheet.freeze_panes == "A2"


# --- filters ------------------------------------------------------------------------------------------------


@pytest.fixture
def mixed(summit):
    """Two accepted, two rejected (different codes), one in review, one processing; on two days."""
    day1, day2 = at("2026-03-14T10:00:00"), at("2026-03-15T10:00:00")
    accepted = process_leads(summit, [good_lead(), good_lead(email="b@acme-corp.com")], submitted_at=day1)
    rejected = process_leads(
        summit,
        [good_lead(email="nope"), good_lead(email="c@acme-corp.com", job_level="Wizard")],
        submitted_at=day2,
    )
    review = Lead.objects.create(
        source=summit, submitted_at=day2, status="in_review", disposition_code="ACCEPT_LEAD"
    )
    processing = Lead.objects.create(source=summit, submitted_at=day2)
    return {"accepted": accepted, "rejected": rejected, "in_review": [review], "processing": [processing]}


def lead_ids(source, **filters) -> set[str]:
    return {row["LeadID"] for row in as_dicts(read_csv(download_bytes(source, format="csv", **filters)))}


def ids(leads) -> set[str]:
    return {lead.lead_id for lead in leads}


def test_status_filter(summit, mixed):
    assert lead_ids(summit, statuses=["accepted"]) == ids(mixed["accepted"])
    assert lead_ids(summit, statuses=["rejected", "in review"]) == ids(mixed["rejected"] + mixed["in_review"])
    assert lead_ids(summit, statuses=["processing"]) == ids(mixed["processing"])
    assert len(lead_ids(summit, statuses=["all"])) == 6
    assert len(lead_ids(summit)) == 6


def test_code_filter_ignores_case(summit, mixed):
    invalid_email = ids(mixed["rejected"][:1])
    assert lead_ids(summit, codes=["reject_lead_invalid_email"]) == invalid_email
    assert lead_ids(summit, codes=["REJECT_LEAD_INVALID_EMAIL", "Reject_Lead_Invalid_List_Value"]) == ids(
        mixed["rejected"]
    )
    assert lead_ids(summit, statuses=["accepted"], codes=["reject_lead_invalid_email"]) == set()


def test_date_range_on_submitted_or_updated(summit, mixed):
    day2 = ids(mixed["rejected"] + mixed["in_review"] + mixed["processing"])
    assert lead_ids(summit, since=at("2026-03-15T00:00:00")) == day2
    assert lead_ids(summit, until=at("2026-03-15T00:00:00")) == ids(mixed["accepted"])
    assert lead_ids(summit, since=at("2026-03-14T10:00:00"), until=at("2026-03-14T10:00:01")) == ids(
        mixed["accepted"]
    )
    touched = mixed["accepted"][0]
    Lead.objects.filter(lead_id=touched.lead_id).update(updated_at=at("2030-01-01T00:00:00"))
    assert lead_ids(summit, since=at("2029-12-31T00:00:00"), time_field="updated") == {touched.lead_id}


def test_only_the_sources_own_leads(summit, mixed):
    from leadgate.sources.definition_file import apply_definition
    from leadgate.sources.models import Source

    apply_definition(
        "sources:\n  - slug: other\n    name: Other\n    status: live\n"
        "    fields:\n      - {key: email, label: Email, type: email}\n"
    )
    other = Source.objects.get(slug="other")
    process_leads(other, [{"email": "z@acme-corp.com"}])
    assert len(lead_ids(summit)) == 6
    assert read_csv(download_bytes(other, format="csv"))[0] == [*PLATFORM_COLUMNS, "email"]


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"statuses": ["acepted"]}, "invalid_status"),
        ({"codes": ["REJECT_LEAD_NOPE"]}, "invalid_code"),
        ({"format": "ods"}, "invalid_format"),
        ({"time_field": "created"}, "invalid_time_field"),
    ],
)
def test_bad_options_are_one_clear_error(summit, options, code):
    with pytest.raises(DownloadError) as raised:
        prepare_download(summit, **options)
    assert raised.value.code == code


def test_times_parse_as_iso_dates_or_times_in_utc():
    assert parse_time("2026-03-14") == at("2026-03-14T00:00:00")
    assert parse_time("2026-03-14T09:30Z") == at("2026-03-14T09:30:00")
    assert parse_time("2026-03-14T10:30:00+01:00") == at("2026-03-14T09:30:00")
    assert parse_time("2026-03-14 09:30") == at("2026-03-14T09:30:00")
    with pytest.raises(DownloadError) as raised:
        parse_time("last tuesday")
    assert raised.value.code == "invalid_time"


def test_more_leads_than_a_sheet_holds_fail_before_writing(summit, mixed, monkeypatch):
    monkeypatch.setattr(downloads, "XLSX_MAX_ROWS", 5)
    out = io.BytesIO()
    with pytest.raises(DownloadError) as raised:
        download(summit, out, format="xlsx")
    assert raised.value.code == "too_many_rows_for_xlsx"
    assert "CSV" in raised.value.message and "\n" not in raised.value.message
    assert out.getvalue() == b""  # nothing written
    assert download(summit, io.BytesIO(), format="xlsx", statuses=["rejected"]) == 2
    assert download(summit, io.BytesIO(), format="csv") == 6


def test_an_empty_download_is_the_header(summit):
    assert read_csv(download_bytes(summit, format="csv")) == [HEADER]
    out = io.BytesIO()
    assert download(summit, out, format="xlsx") == 0
    sheet = openpyxl.load_workbook(out)["Leads"]
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [HEADER]


def test_a_sheet_over_2_gib_is_zip64_and_still_reads(summit, mixed, monkeypatch):
    assert not prepare_download(summit, format="xlsx")._large()  # ZIP64 only when it must be
    monkeypatch.setattr(downloads, "_ZIP64_FROM", 100)  # as if these six leads made a 2 GiB sheet
    prepared = prepare_download(summit, format="xlsx")
    assert prepared._large()
    out = io.BytesIO()
    prepared.write_to(out)
    frame = fastexcel.read_excel(out.getvalue()).load_sheet(0, dtypes="string").to_polars()
    assert set(frame["LeadID"]) == {lead.lead_id for group in mixed.values() for lead in group}
    assert openpyxl.load_workbook(out)["Leads"].max_row == 7


def test_the_connections_page_cache_is_as_it_was(summit, mixed):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's page cache")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        download(summit, io.BytesIO(), format="xlsx")
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before


def test_sqlite_reads_each_chunk_by_id_without_sorting_the_source(summit, mixed):
    """What keeps a million leads at seconds: each chunk's query walks its window of ids along the primary
    key. (Through an index on source_id, SQLite without statistics sorted the whole source per chunk.)"""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's query planner")
    for options in ({}, {"statuses": ["rejected"]}, {"codes": ["accept_lead"]}, {"until": timezone.now()}):
        prepared = prepare_download(summit, format="csv", **options)
        sql, params = downloads._chunk_sql(prepared.pages, prepared.ids.start, prepared.ids.stop)
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " / ".join(row[-1] for row in cursor.fetchall())
        assert "SEARCH leads_lead USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
        assert sql.count('"leads_lead"."id" >') == 1, sql  # one lower bound: the window's


def test_lead_frames_give_the_rows_of_a_download(summit, mixed):
    frame = pl.concat(list(downloads.lead_frames(summit, statuses=["accepted"])))
    assert frame.columns == HEADER
    assert set(frame["LeadID"]) == ids(mixed["accepted"])
