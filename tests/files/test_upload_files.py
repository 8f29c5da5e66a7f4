"""Upload Leads with real files: every workbook kind, protected and hostile workbooks, damage in new rows,
the CLI's contract, and any text surviving Download → Upload unchanged."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.files.downloads import download
from leadgate.files.uploads import upload_file
from leadgate.leads.models import Lead, LeadEvent
from leadgate.leads.services import process_leads
from tests.conftest import good_lead
from tests.files.calc import SaveAs, require_calc

HEADER = ["email", "first_name", "job_level", "country", "phone", "opt_in"]


def workbook(path, rows, header=HEADER):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_xls_and_ods_workbooks_upload_like_xlsx(summit, tmp_path):
    calc = require_calc()
    source = workbook(
        tmp_path / "leads.xlsx",
        [["ann@acme-corp.com", "Ann", "VP", "Germany", "+49 30 1234567", "yes"]],
    )
    for save_as in (SaveAs("xls", "xls", "MS Excel 97"), SaveAs("ods", "ods", "calc8")):
        kind = save_as.name
        out = tmp_path / kind
        out.mkdir()
        path = calc.resave(source, out, save_as)
        upload = upload_file(summit, path, dry_run=True)
        assert (upload.format, upload.created, upload.accepted, upload.error) == (kind, 1, 1, {}), kind


def test_a_password_protected_workbook_is_refused_unread(summit, tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = workbook(tmp_path / "plain.xlsx", [["ann@acme-corp.com", "Ann", "VP", "DE", "", "yes"]])
    with plain.open("rb") as fh, (tmp_path / "locked.xlsx").open("wb") as out:
        OOXMLFile(fh).encrypt("secret", out)
    upload = upload_file(summit, tmp_path / "locked.xlsx")
    assert upload.error["code"] == "encrypted_workbook"
    assert "password" in upload.error["message"]
    assert Lead.objects.count() == 0


def test_a_decompression_bomb_is_refused_before_inflating(summit, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))  # 20 MB of nothing
    assert bomb.stat().st_size < 100_000
    upload = upload_file(summit, bomb)
    assert upload.error["code"] == "decompression_bomb"


def test_a_zip_that_is_not_a_workbook_is_named(summit, tmp_path):
    other = tmp_path / "photos.csv"  # the name says CSV; the content decides
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("a.jpg", b"\xff\xd8\xff")
    assert upload_file(summit, other).error["code"] == "unsupported_file"


def test_damage_in_new_rows_is_named_in_the_warnings(tmp_path, db):
    from leadgate.sources.definition_file import apply_definition
    from leadgate.sources.models import Source

    apply_definition(
        "sources:\n  - slug: expo\n    name: Expo\n    status: live\n    fields:\n"
        "      - {key: email, type: email}\n      - {key: name, type: text}\n"
        "      - {key: country, type: country}\n      - {key: zip, label: ZIP Code, type: text}\n"
        "      - {key: phone, type: phone}\n      - {key: visited, type: date}\n"
    )
    expo = Source.objects.get(slug="expo")
    path = tmp_path / "expo.csv"
    path.write_text(
        "email,name,country,zip,phone,visited\n"
        "a@acme-corp.com,M?ller,Germany,1067,+49 30 1234567,2026-03-14\n"
        "b@acme-corp.com,Jos?,United States,2134,4.91301E+11,04/03/2026\n"
        "c@acme-corp.com,Ann,France,75001,+33 1 23 45 67 89,2026-03-14\n",
        encoding="utf-8",
    )
    upload = upload_file(expo, path)
    text = " ".join(upload.warnings)
    assert "ZIP Code: 2 value(s) look like postal codes whose leading zeros a spreadsheet dropped" in text
    assert 'row 2: "1067"' in text and 'row 3: "2134"' in text
    assert 'Name: 2 value(s) have letters replaced by "?"' in text
    second = Lead.objects.get(values__email="b@acme-corp.com")
    assert "scientific notation" in second.custom_reason  # the phone, named in the lead's reason
    assert "ambiguous" in second.custom_reason  # the locale's date


def test_a_date_a_spreadsheet_rewrote_is_not_an_edit(tmp_path, db):
    from leadgate.sources.definition_file import apply_definition
    from leadgate.sources.models import Source

    apply_definition(
        "sources:\n  - slug: expo\n    name: Expo\n    status: live\n    fields:\n"
        "      - {key: email, type: email, required: true}\n      - {key: visited, type: date}\n"
        "      - {key: code, type: text, max_length: 2}\n"
    )
    expo = Source.objects.get(slug="expo")
    lead = process_leads(expo, [{"email": "a@acme-corp.com", "visited": "2026-03-04", "code": "too long"}])[0]
    path = tmp_path / "back.csv"
    path.write_text(f"LeadID,email,visited,code\n{lead.lead_id},a@acme-corp.com,3/4/2026,too long\n")
    upload = upload_file(expo, path)
    assert (upload.updated, upload.unchanged) == (0, 1)
    assert Lead.objects.get(pk=lead.pk).values["visited"] == "2026-03-04"
    assert any("rewrote the dates" in w for w in upload.warnings)
    assert LeadEvent.objects.filter(lead=lead).count() == 1


def test_cli_upload_prints_the_spec_json(summit, tmp_path, capsys):
    from leadgate.cli import main

    path = tmp_path / "leads.csv"
    path.write_text("email,first_name,job_level,country,opt_in\nann@acme-corp.com,Ann,VP,DE,yes\n")
    main(["upload", "data-summit-2026", str(path), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["state"] == "done" and result["created"] == 1 and result["accepted"] == 1
    assert (result["format"], result["encoding"], result["delimiter"]) == ("csv", "utf-8", ",")
    assert list(result) == [
        "upload", "state", "dry_run", "format", "encoding", "delimiter", "rows", "created", "updated",
        "unchanged", "skipped", "errors", "accepted", "rejected", "row_errors", "warnings",
    ]  # fmt: skip
    path.write_bytes(b"")
    with pytest.raises(SystemExit) as exit_:
        main(["upload", "data-summit-2026", str(path), "--json"])
    assert exit_.value.code == 1
    assert json.loads(capsys.readouterr().out) == {
        "error": {"code": "empty_file", "message": "The file is empty."}
    }


# Any text a lead holds: every plane of Unicode but the surrogates, and the characters XML 1.0 cannot hold
# (an XLSX cell cannot carry them, so leadgate never stores them: the API and the forms drop them too).
TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\x00\x0b\x0c\ufffe\uffff", min_codepoint=1
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s and "\r" not in s)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(note=TEXT, fmt=st.sampled_from(["csv", "csv-semicolon", "xlsx"]))
def test_any_text_survives_download_then_upload_unchanged(summit, note, fmt):
    """The seed's promise: a download followed by an unedited upload changes nothing, whatever the text."""
    Lead.objects.all().delete()
    lead = process_leads(summit, [good_lead(email="x@", first_name=note)])[0]
    stored = Lead.objects.get(pk=lead.pk).values["first_name"]
    buffer = io.BytesIO()
    download(summit, buffer, format=fmt)
    name = f"leads.{'xlsx' if fmt == 'xlsx' else 'csv'}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(buffer.getvalue())
        upload = upload_file(summit, path)
    assert upload.error == {}, upload.error
    assert (upload.created, upload.updated, upload.unchanged, upload.errors) == (0, 0, 1, 0)
    assert Lead.objects.get(pk=lead.pk).values["first_name"] == stored
