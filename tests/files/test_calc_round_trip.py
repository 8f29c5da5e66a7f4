"""The real-client test (issue 4): downloads opened and saved again by LibreOffice Calc, then uploaded.

A user downloads the leads, opens the file in their spreadsheet, saves it — as XLSX, as a Windows-1252
CSV, as a UTF-8 CSV with semicolons, as UTF-16 tab-separated text — and uploads it without having changed
anything. Whatever Calc did to the values on the way, the upload must change nothing: no lead created, no
lead's decision or values touched, no history written, and every value that came back damaged (a phone
turned into a number, a postal code without its leading zero, a character replaced by ``?``) named in the
upload's warnings, with the stored value kept.

The first tests check the harness itself: that each way of saving writes the encoding and delimiter it
names, and that Calc damages values the way ``tests/files/calc.py`` records.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from pathlib import Path

import pytest

from leadgate.files.downloads import download
from leadgate.files.guard import unguard
from leadgate.files.uploads import upload_file
from leadgate.leads.models import Lead, LeadEvent, ReceivedVia
from leadgate.leads.services import Actor, process_leads
from leadgate.sources.definition_file import apply_definition
from leadgate.sources.models import Source
from tests.files import calc as calc_harness
from tests.files.calc import (
    CSV_UTF8_SEMICOLON,
    CSV_WINDOWS_1252,
    SAVE_AS,
    TXT_UTF16_TAB,
    XLSX,
    SaveAs,
    cell_types,
    read_rows,
    require_calc,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def calc():
    return require_calc()


# --- the harness ------------------------------------------------------------------------------------------

# A CSV as leadgate writes one: UTF-8 with a BOM, comma, CRLF, the formula guard's quote.
SAMPLE_HEADER = ["name", "company", "notes", "phone", "postal_code", "registered_on", "employees", "opt_in"]
SAMPLE_ROW = [
    "Zoë Ærøskøbing",
    "株式会社サンプル",
    "🎉 keynote",
    "07400123456",
    "01067",
    "2026-03-14",
    "1,200",
    "1",
]
SAMPLE_GUARDED = [
    "'=HYPERLINK(1)",
    "'-- call back",
    "'+1 for the demo",
    "'+441632960000",
    "SW1A 1AA",
    "",
    "42",
    "TRUE",
]


def _leadgate_like_csv(path: Path) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([SAMPLE_HEADER, SAMPLE_ROW, SAMPLE_GUARDED])
    path.write_bytes(codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8"))
    return path


@pytest.mark.parametrize("as_", [CSV_WINDOWS_1252, CSV_UTF8_SEMICOLON, TXT_UTF16_TAB], ids=str)
def test_each_text_save_writes_the_encoding_and_delimiter_it_names(calc, tmp_path, as_):
    saved = calc.resave(_leadgate_like_csv(tmp_path / "sample.csv"), tmp_path / "out", as_)
    data = saved.read_bytes()
    if as_ is TXT_UTF16_TAB:
        assert data.startswith(codecs.BOM_UTF16_LE)
        text = data.decode("utf-16")
    else:
        assert not data.startswith(codecs.BOM_UTF8)  # Calc 7.4 writes no BOM in either CSV
        text = data.decode(as_.encoding)
    if as_ is CSV_WINDOWS_1252:
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # "ë" is one byte, 0xEB: really Windows-1252, not UTF-8
    assert text.splitlines()[0] == as_.delimiter.join(SAMPLE_HEADER)
    rows = read_rows(saved, as_)
    assert rows[0] == SAMPLE_HEADER
    if as_ is CSV_WINDOWS_1252:
        assert rows[1][:3] == ["Zoë Ærøskøbing", "????????", "? keynote"]
    else:
        assert rows[1][:3] == SAMPLE_ROW[:3]


def test_xlsx_save_writes_a_workbook(calc, tmp_path):
    saved = calc.resave(_leadgate_like_csv(tmp_path / "sample.csv"), tmp_path / "out", XLSX)
    with zipfile.ZipFile(saved) as archive:
        assert "xl/workbook.xml" in archive.namelist()
    assert read_rows(saved, XLSX)[0] == SAMPLE_HEADER


def test_calc_damages_a_csv_as_the_harness_records(calc, tmp_path):
    """What a double-clicked CSV becomes (the table in calc.py): numbers and dates are converted, the rest
    stays text, the guard's quote stays part of the text."""
    saved = calc.resave(_leadgate_like_csv(tmp_path / "sample.csv"), tmp_path / "out", XLSX)
    rows = read_rows(saved, XLSX)
    types = cell_types(saved)
    assert rows[1] == [
        "Zoë Ærøskøbing",
        "株式会社サンプル",
        "🎉 keynote",
        "7400123456",
        "1067",
        "2026-03-14",
        "1200",
        "1",
    ]
    assert types[1] == ["s", "s", "s", "n", "n", "d", "n", "n"]
    assert rows[2] == [*SAMPLE_GUARDED[:5], "", "42", "TRUE"]
    assert types[2][:5] == ["s"] * 5
    semicolon = read_rows(calc.resave(saved, tmp_path / "again", CSV_UTF8_SEMICOLON), CSV_UTF8_SEMICOLON)
    assert semicolon[1][3:7] == ["7400123456", "1067", "2026-03-14", "1200"]


def test_calc_keeps_text_cells_of_a_workbook(calc, tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (SAMPLE_HEADER, SAMPLE_ROW, [unguard(v) for v in SAMPLE_GUARDED]):
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            cell.data_type, cell.number_format = "s", "@"
    workbook.save(tmp_path / "sample.xlsx")
    saved = calc.resave(tmp_path / "sample.xlsx", tmp_path / "out", CSV_UTF8_SEMICOLON)
    assert read_rows(saved, CSV_UTF8_SEMICOLON)[1:] == [SAMPLE_ROW, [unguard(v) for v in SAMPLE_GUARDED]]


def test_without_calc_these_tests_skip_unless_ci_requires_calc(monkeypatch):
    monkeypatch.setattr(calc_harness, "find_soffice", lambda: None)
    monkeypatch.delenv(calc_harness.REQUIRE_CALC, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"system-packages\.sh"):
        require_calc()
    monkeypatch.setenv(calc_harness.REQUIRE_CALC, "1")
    with pytest.raises(pytest.fail.Exception, match="LEADGATE_REQUIRE_CALC is set"):
        require_calc()


# --- the round trip ---------------------------------------------------------------------------------------

DEFINITION = """
picklists:
  - key: job_level
    name: Job Level
    values: [C-Level, VP, Director, Manager, Individual Contributor, Other]
  - key: topics
    name: Topics
    values: [AI, Analytics, Cloud, Security]
domain_lists:
  - {key: free_email, builtin: free}
sources:
  - slug: calc-expo
    name: Calc Expo 2026
    kind: event
    status: live
    timezone: Europe/Berlin
    fields:
      - {key: email, label: Email, type: email, required: true,
         domain_lists: [{list: free_email, mode: exclude}]}
      - {key: first_name, label: First Name, type: text, required: true, max_length: 40}
      - {key: last_name, label: Last Name, type: text, max_length: 40}
      - {key: company, label: Company, type: text, max_length: 80}
      - {key: notes, label: Notes, type: text, max_length: 500}
      - {key: job_level, label: Job Level, type: picklist, picklist: job_level}
      - {key: interests, label: Interests, type: multi_picklist, picklist: topics}
      - {key: country, label: Country, type: country, required: true}
      - {key: state, label: State, type: state}
      - {key: postal_code, label: Postal Code, type: text, max_length: 12}
      - {key: phone, label: Phone, type: phone}
      - {key: mobile, label: Mobile, type: phone}
      - {key: registered_on, label: Registered On, type: date}
      - {key: meeting_at, label: Meeting At, type: datetime}
      - {key: employees, label: Employees, type: number, integer: true}
      - {key: budget, label: Budget, type: number}
      - {key: customer, label: Existing Customer, type: boolean}
      - {key: opt_in, label: Opt-in, type: consent, required: true}
      - {key: website, label: Website, type: url}
"""

# Leads as an event app sent them, each with the decision it gets. Some leave fields out, some send "".
LEADS = [
    (
        "ACCEPT_LEAD",
        {
            "email": "zoe.aeroskobing@beispiel-gmbh.de",
            "first_name": "Zoë",
            "last_name": "Ærøskøbing-Müller",
            "company": "Société Générale",
            "notes": "Met at booth 12; wants a demo",
            "job_level": "VP",
            "interests": "AI;Cloud",
            "country": "Germany",
            "state": "Sachsen",
            "postal_code": "01067",
            "phone": "+49 30 1234567",
            "mobile": "+4915123456789",
            "registered_on": "2026-03-14",
            "meeting_at": "2026-03-14T09:30:00+01:00",
            "employees": "1,200",
            "budget": "2500.50",
            "customer": "yes",
            "opt_in": "yes",
            "website": "https://beispiel-gmbh.de",
        },
    ),
    (
        "ACCEPT_LEAD",
        {
            "email": "misaki.sato@sample.co.jp",
            "first_name": "美咲",
            "last_name": "佐藤",
            "company": "株式会社サンプル",
            "notes": "🎉 Loved the keynote\nFollow up in April",
            "job_level": "Manager",
            "interests": "Analytics",
            "country": "Japan",
            "postal_code": "100-0001",
            "phone": "+81 3-1234-5678",
            "mobile": "",
            "registered_on": "2026-03-15",
            "employees": "250",
            "customer": "no",
            "opt_in": "true",
            "website": "www.sample.co.jp",
        },
    ),
    (
        "ACCEPT_LEAD",
        {
            "email": "oliver.obrien@example.co.uk",
            "first_name": "Oliver",
            "last_name": "O'Brien-Smith",
            "company": 'Smith & Sons "Holdings"',
            "notes": "-- call back after 3pm",
            "job_level": "Director",
            "country": "United Kingdom",
            "postal_code": "SW1A 1AA",
            "phone": "+442079460958",
            "mobile": "07400123456",
            "registered_on": "14/03/2026",
            "employees": "42",
            "opt_in": "1",
            "website": "http://example.co.uk/path?a=1&b=2",
        },
    ),
    (
        "ACCEPT_LEAD",
        {
            "email": "jane.doe@acme-widgets.com",
            "first_name": "Jane",
            "last_name": "Doe",
            "company": "Acme, Inc.",
            "notes": "",
            "job_level": "C-Level",
            "interests": "Security",
            "country": "United States",
            "state": "MA",
            "postal_code": "02134",
            "phone": "+1 617 555 0123",
            "mobile": "+1 (212) 555-0199",
            "registered_on": "2026-12-01",
            "employees": "15000",
            "budget": "3.5",
            "customer": "TRUE",
            "opt_in": "Yes",
            "website": "acme-widgets.com",
        },
    ),
    (
        "REJECT_LEAD_INVALID_LIST_VALUE",
        {
            "email": "pierre.dupont@exemple.fr",
            "first_name": "Pierre",
            "last_name": "Dupont",
            "company": '=HYPERLINK("http://evil.example","click")',
            "notes": "+1 for the demo; call on Tuesday",
            "job_level": "Chief Executive",
            "interests": "AI",
            "country": "France",
            "postal_code": "75008",
            "phone": "+33 1 42 68 53 00",
            "registered_on": "2026-03-14",
            "employees": "80",
            "opt_in": "oui",
            "website": "https://exemple.fr",
        },
    ),
    (
        "REJECT_LEAD_INVALID_EMAIL",
        {
            "email": "ann.lee@acme-corp",
            "first_name": "Ann",
            "last_name": "Lee",
            "company": "@Acme Labs",
            "job_level": "VP",
            "country": "Germany",
            "postal_code": "80331",
            "phone": "08912345678",
            "opt_in": "yes",
        },
    ),
    (
        "REJECT_LEAD_INVALID_PHONE",
        {
            "email": "raj.patel@example.in",
            "first_name": "Raj",
            "last_name": "Patel",
            "company": "Patel Consulting, Ltd.",
            "job_level": "Manager",
            "country": "United Kingdom",
            "postal_code": "EC1A 1BB",
            "phone": "+441632960000",
            "registered_on": "2026-03-14",
            "opt_in": "yes",
        },
    ),
    (
        "REJECT_LEAD_INVALID_VALUE",
        {
            "email": "li.wei@example.cn",
            "first_name": "伟",
            "last_name": "李",
            "company": "华为技术",
            "country": "China",
            "postal_code": "100000",
            "phone": "+86 10 1234 5678",
            "registered_on": "2026-03-16",
            "budget": "1e5",
            "opt_in": "yes",
        },
    ),
    (
        "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN",
        {
            "email": "sam.someone@gmail.com",
            "first_name": "Sam",
            "last_name": "Someone",
            "country": "Germany",
            "postal_code": "01234",
            "opt_in": "yes",
        },
    ),
]


@pytest.fixture
def expo(db) -> Source:
    apply_definition(DEFINITION)
    source = Source.objects.get(slug="calc-expo")
    leads = process_leads(
        source, [values for _, values in LEADS], received_via=ReceivedVia.EVENT_APP, actor=Actor("booth app")
    )
    assert [lead.disposition_code for lead in leads] == [code for code, _ in LEADS], [
        (lead.disposition_code, lead.custom_reason) for lead in leads
    ]
    return source


def _present(values: dict) -> dict:
    """Values without the empty ones: a field left out and a field sent as "" mean the same."""
    return {key: value for key, value in values.items() if value not in (None, "")}


def snapshot(source: Source) -> tuple[dict, int, int]:
    """Everything an upload that changes nothing must leave as it is."""
    leads = {
        lead.lead_id: {
            "status": lead.status,
            "disposition_code": lead.disposition_code,
            "custom_reason": lead.custom_reason,
            "values": _present(lead.values),
            "clean": lead.clean,
            "problems": lead.problems,
        }
        for lead in Lead.objects.filter(source=source)
    }
    return leads, LeadEvent.objects.filter(lead__source=source).count(), Lead.objects.count()


def changed_leads(before: dict, after: dict) -> dict:
    """Lead → what changed: {"status": (before, after)}, and for values {"values.phone": (before, after)}."""
    changes = {}
    for lead_id, state in before.items():
        now = after.get(lead_id, {})
        diff = {}
        for name, old in state.items():
            new = now.get(name)
            if isinstance(old, dict) and isinstance(new, dict):
                for key in old.keys() | new.keys():
                    if old.get(key) != new.get(key):
                        diff[f"{name}.{key}"] = (old.get(key), new.get(key))
            elif old != new:
                diff[name] = (old, new)
        if diff:
            changes[lead_id] = diff
    return changes


def damaged_cells(
    path: Path, as_: SaveAs, source: Source, *, csv_download: bool
) -> dict[str, dict[int, str]]:
    """Field label → {row: lead status} for each row (header = row 1) whose cell no longer holds the stored
    value."""
    rows = read_rows(path, as_)
    header = rows[0]
    assert "" not in header, f"Calc split cells into columns the header does not have: {header}"
    labels = {f.key: f.label for f in source.fields.all()}
    stored = {lead.lead_id: lead for lead in Lead.objects.filter(source=source)}
    damaged: dict[str, dict[int, str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        lead = stored[row[header.index("LeadID")]]
        for column, key in enumerate(header):
            if key not in labels:
                continue
            # The CSV download's guard quote stays in the text Calc saves; uploading takes it off again.
            cell = unguard(row[column]) if csv_download else row[column]
            if cell != (lead.values.get(key) or ""):
                damaged.setdefault(labels[key], {})[number] = lead.status
    return damaged


def split_rows(path: Path, as_: SaveAs) -> list[int]:
    """Rows with a cell beyond the header's last column: Calc split a cell of the download in two."""
    rows = read_rows(path, as_)
    width = len(rows[0]) - len(list(itertools.takewhile(lambda name: name == "", reversed(rows[0]))))
    return [number for number, row in enumerate(rows[1:], start=2) if any(row[width:])]


def rows_named(warning: str) -> set[int]:
    """The row numbers a damage warning lists: "… (rows 2, 5, 7)."."""
    return {int(n) for n in re.findall(r"\d+", warning.rpartition("(rows ")[2])}


UPLOAD_FORMATS = {
    XLSX: ("xlsx", "", ""),
    CSV_WINDOWS_1252: ("csv", "windows-1252", ","),
    CSV_UTF8_SEMICOLON: ("csv", "utf-8", ";"),
    TXT_UTF16_TAB: ("csv", "utf-16", "\t"),
}


# Each way of saving by a user of Calc in English; the semicolon CSV also by a German user, whose Calc reads
# "1,200" as one point two.
WAYS = [*((as_, "en-US") for as_ in SAVE_AS), (CSV_UTF8_SEMICOLON, "de-DE")]


@pytest.mark.parametrize(("as_", "locale"), WAYS, ids=[f"{as_}-{locale}" for as_, locale in WAYS])
@pytest.mark.parametrize("download_format", ["xlsx", "csv", "csv-semicolon"])
def test_a_download_saved_again_by_calc_uploads_without_changing_anything(
    expo, calc, tmp_path, download_format, as_, locale
):
    downloaded = tmp_path / f"calc-expo-leads.{download_format.partition('-')[0]}"
    with downloaded.open("wb") as out:
        download(expo, out, format=download_format)
    saved = calc.with_locale(locale).resave(downloaded, tmp_path / "saved-by-calc", as_)
    split = split_rows(saved, as_)
    before = snapshot(expo)

    upload = upload_file(expo, saved)

    after = snapshot(expo)
    changes = changed_leads(before[0], after[0])
    assert changes == {}, "the upload changed leads:\n" + "\n".join(
        [
            *(
                f"  {lead_id} {name}: {old!r} → {new!r}"
                for lead_id, diff in changes.items()
                for name, (old, new) in diff.items()
                if name != "problems"
            ),
            f"  (Calc split a cell in rows {split}: a separator it reads was not quoted in the download)"
            if split
            else "",
        ]
    )
    assert after[1:] == before[1:], "the upload created leads or wrote history"
    assert (upload.state, upload.error, upload.row_errors) == ("done", {}, [])
    assert (upload.format, upload.encoding if as_.is_text else "", upload.delimiter) == UPLOAD_FORMATS[as_]
    assert (upload.rows, upload.created, upload.updated, upload.errors) == (len(LEADS), 0, 0, 0)
    assert upload.unchanged + upload.skipped == len(LEADS)

    # Every value Calc damaged in a lead the upload decides again is named in the warnings, by field label
    # and row. Accepted leads are left alone (skipped): their damaged cells must not read as edits either.
    damaged = damaged_cells(saved, as_, expo, csv_download=download_format != "xlsx")
    for label, rows in damaged.items():
        decided = {row for row, status in rows.items() if status != "accepted"}
        named = set().union(*(rows_named(w) for w in upload.warnings if w.startswith(f"{label}:")))
        assert decided <= named, f"{label}: rows {sorted(decided)} came back damaged: {upload.warnings}"
    assert not [w for w in upload.warnings if "update-accepted" in w], "nothing was edited"
    if download_format == "xlsx" and as_ is not CSV_WINDOWS_1252:
        assert damaged == {}, "Calc keeps the XLSX download's text cells as they are"
