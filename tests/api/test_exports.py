"""Download Leads over the API: the file streams with its name and type; every role may, keys may not."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from leadgate.leads.services import process_leads
from tests.conftest import good_lead

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def leads(summit):
    return process_leads(summit, [good_lead(), good_lead(email="bad@", first_name="=1+1")])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("role", ["admin", "manager", "viewer"])
def test_every_role_downloads_xlsx(personas, leads, role):
    response = personas[role].get("/sources/data-summit-2026/export")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert re.fullmatch(
        r'attachment; filename="data-summit-2026-leads-\d{8}T\d{6}Z\.xlsx"', response["Content-Disposition"]
    )
    assert response["Cache-Control"] == "no-store"
    sheet = openpyxl.load_workbook(io.BytesIO(body(response)))["Leads"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("LeadID", "Status", "Disposition Code")
    assert {row[0] for row in rows[1:]} == {lead.lead_id for lead in leads}


def test_csv_with_filters(personas, leads):
    response = personas["viewer"].get(
        "/sources/data-summit-2026/export",
        format="csv-semicolon",
        status="rejected",
        code="reject_lead_invalid_email",
        since="2020-01-01",
        by="updated",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    lines = body(response).decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("LeadID;Status;Disposition Code;")
    assert len(lines) == 3 and lines[2] == ""  # the header, one lead, the final line end
    assert lines[1].startswith(f"{leads[1].lead_id};rejected;REJECT_LEAD_INVALID_EMAIL;")
    assert ";'=1+1;" in lines[1]  # the guard


def test_template(personas, summit):
    response = personas["viewer"].get("/sources/data-summit-2026/template", format="csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="data-summit-2026-template.csv"'
    assert body(response) == b"\xef\xbb\xbfemail,first_name,job_level,country,phone,opt_in\r\n"
    response = personas["manager"].get("/sources/data-summit-2026/template")
    sheet = openpyxl.load_workbook(io.BytesIO(body(response)))["Leads"]
    assert next(sheet.iter_rows(values_only=True))[0] == "email"


@pytest.mark.parametrize("path", ["/sources/data-summit-2026/export", "/sources/data-summit-2026/template"])
@pytest.mark.parametrize("who", ["owner", "outsider"])
def test_ingestion_keys_are_refused(personas, leads, path, who):
    response = personas[who].get(path)
    assert response.status_code == 403
    assert response.json()["code"] == "ingestion_key_not_allowed"


def test_without_a_key(personas):
    from tests.api.conftest import Api

    assert Api(None).get("/sources/data-summit-2026/export").status_code == 401


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"status": "acepted"}, "invalid_status"),
        ({"code": "REJECT_LEAD_NOPE"}, "invalid_code"),
        ({"since": "yesterday"}, "invalid_time"),
        ({"format": "ods"}, "invalid_request"),
    ],
)
def test_bad_options_are_problems(personas, leads, params, code):
    response = personas["viewer"].get("/sources/data-summit-2026/export", **params)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_unknown_source(personas):
    response = personas["viewer"].get("/sources/nope/export")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_source"


def test_too_many_leads_for_xlsx_suggests_csv(personas, leads, monkeypatch):
    from leadgate.files import downloads

    monkeypatch.setattr(downloads, "XLSX_MAX_ROWS", 1)
    response = personas["viewer"].get("/sources/data-summit-2026/export", format="xlsx")
    assert response.status_code == 422
    assert response.json()["code"] == "too_many_rows_for_xlsx"
    assert "CSV" in response.json()["detail"]
    assert personas["viewer"].get("/sources/data-summit-2026/export", format="csv").status_code == 200
