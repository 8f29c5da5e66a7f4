"""The seed's loop end to end ("How to Review & Resolve Rejected Leads"), with Calc as the user's spreadsheet.

Download the leads as XLSX, delete the rows that should stay as they are (the accepted leads and the
rightly rejected ones), fix a list value and an email in the file, add the other list value to the
picklist, save the workbook as a .csv ("save your Excel file as a .csv") and upload it: every lead in the
file is Accepted, no lead is new, and each changed lead's history says who changed what.
"""

from __future__ import annotations

import openpyxl
import pytest

from leadgate.accounts.models import User
from leadgate.files.downloads import download
from leadgate.files.uploads import upload_file
from leadgate.leads.models import Lead, LeadEvent, ReceivedVia
from leadgate.leads.services import Actor, process_leads
from leadgate.sources.definition_file import apply_definition
from leadgate.sources.models import Picklist, Source
from leadgate.sources.services import add_picklist_values
from tests.files.calc import CSV_UTF8_SEMICOLON, CSV_WINDOWS_1252, TXT_UTF16_TAB, read_rows, require_calc

pytestmark = pytest.mark.slow

DEFINITION = """
picklists:
  - key: job_level
    name: Job Level
    values: [C-Level, VP, Director, Manager, Individual Contributor, Other]
list_mappers:
  - key: job_level_to_crm
    picklist: job_level
    entries: {C-Level: Executive, VP: Executive, Director: Director, Manager: Manager}
domain_lists:
  - {key: free_email, builtin: free}
sources:
  - slug: seed-summit
    name: Seed Summit 2026
    kind: event
    status: live
    timezone: Europe/Berlin
    fields:
      - {key: email, label: Email, type: email, required: true,
         domain_lists: [{list: free_email, mode: exclude}]}
      - {key: first_name, label: First Name, type: text, required: true, max_length: 40}
      - {key: last_name, label: Last Name, type: text, max_length: 40}
      - {key: company, label: Company, type: text, max_length: 80}
      - {key: job_level, label: Job Level, type: picklist, picklist: job_level, required: true}
      - {key: country, label: Country, type: country, required: true}
      - {key: phone, label: Phone, type: phone}
      - {key: opt_in, label: Opt-in, type: consent, required: true}
"""


def lead(email: str, first: str, last: str, job_level: str, **more: str) -> dict[str, str]:
    return {
        "email": email,
        "first_name": first,
        "last_name": last,
        "company": more.pop("company", "Müller & Söhne GmbH"),
        "job_level": job_level,
        "country": more.pop("country", "Germany"),
        "phone": more.pop("phone", "+49 30 1234567"),
        "opt_in": "yes",
        **more,
    }


# name → (the lead as the event app sent it, the disposition it got)
LEADS = {
    "accepted": (lead("ann.lee@acme-corp.com", "Ann", "Lee", "VP"), "ACCEPT_LEAD"),
    "accepted_too": (lead("bo.berg@nordwind.se", "Bo", "Berg", "Director", country="Sweden"), "ACCEPT_LEAD"),
    "chief": (
        lead("chloe.durand@exemple.fr", "Chloé", "Durand", "Chief Executive"),
        "REJECT_LEAD_INVALID_LIST_VALUE",
    ),
    "founder": (
        lead("dara.okafor@brightlabs.io", "Dara", "Okafor", "Founder"),
        "REJECT_LEAD_INVALID_LIST_VALUE",
    ),
    "typo": (lead("jose.mueller@mueller-soehne", "José", "Müller", "Manager"), "REJECT_LEAD_INVALID_EMAIL"),
    # Rightly rejected: deleted from the file, so they stay Rejected.
    "not_an_email": (lead("call me maybe", "Eve", "Nobody", "Other"), "REJECT_LEAD_INVALID_EMAIL"),
    "free_mail": (lead("fritz.f@gmail.com", "Fritz", "Frei", "Manager"), "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN"),
}
FIXED_EMAIL = "jose.mueller@mueller-soehne.de"
TO_UPLOAD = ("chief", "founder", "typo")


@pytest.fixture
def calc():
    return require_calc()


@pytest.fixture
def summit(db) -> tuple[Source, dict[str, Lead]]:
    apply_definition(DEFINITION)
    source = Source.objects.get(slug="seed-summit")
    stored = process_leads(
        source,
        [values for values, _ in LEADS.values()],
        received_via=ReceivedVia.EVENT_APP,
        actor=Actor("booth app"),
    )
    assert [s.disposition_code for s in stored] == [code for _, code in LEADS.values()], [
        (s.disposition_code, s.custom_reason) for s in stored
    ]
    return source, dict(zip(LEADS, stored, strict=True))


@pytest.mark.parametrize("save_as", [CSV_WINDOWS_1252, CSV_UTF8_SEMICOLON, TXT_UTF16_TAB], ids=str)
def test_review_and_resolve_rejected_leads(summit, calc, tmp_path, save_as):
    source, leads = summit
    marketer = User.objects.create_user("mara", role="manager")
    by_id = {lead.lead_id: name for name, lead in leads.items()}
    events_before = {name: list(lead.events.values_list("pk", flat=True)) for name, lead in leads.items()}
    count_before = Lead.objects.count()

    # 1–2. Download Leads as .xlsx (special characters intact).
    downloaded = tmp_path / "seed-summit-leads.xlsx"
    with downloaded.open("wb") as out:
        download(source, out, format="xlsx")

    # 3. Review Disposition Code and Custom Reason; delete what stays as it is, fix the rest in the file.
    workbook = openpyxl.load_workbook(downloaded)
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    column = {
        name: header.index(name) + 1
        for name in ("LeadID", "Status", "Disposition Code", "email", "job_level")
    }
    for row in range(sheet.max_row, 1, -1):
        name = by_id[sheet.cell(row, column["LeadID"]).value]
        if name not in TO_UPLOAD:
            sheet.delete_rows(row)
        elif name == "chief":
            assert sheet.cell(row, column["Disposition Code"]).value == "REJECT_LEAD_INVALID_LIST_VALUE"
            sheet.cell(row, column["job_level"]).value = "C-Level"
        elif name == "typo":
            assert sheet.cell(row, column["Disposition Code"]).value == "REJECT_LEAD_INVALID_EMAIL"
            sheet.cell(row, column["email"]).value = FIXED_EMAIL
    edited = tmp_path / "edited" / "seed-summit-leads.xlsx"
    edited.parent.mkdir()
    workbook.save(edited)
    # …and the value that should be allowed goes onto the picklist (its list mapper entry is a UI prompt).
    assert add_picklist_values(Picklist.objects.get(key="job_level"), ["Founder"]) == ["Founder"]

    # 4. Save the Excel file as a .csv — here Calc does it.
    saved = calc.resave(edited, tmp_path / "csv", save_as)
    rows = read_rows(saved, save_as)
    assert sorted(by_id[r[0]] for r in rows[1:]) == sorted(TO_UPLOAD)

    # 5. Upload Leads.
    upload = upload_file(source, saved, actor=Actor("Mara (web)", user=marketer))

    # 6. Every lead in the file is Accepted now; nothing new; nothing else touched.
    assert (upload.state, upload.error, upload.row_errors) == ("done", {}, [])
    assert (upload.rows, upload.created, upload.errors) == (3, 0, 0)
    assert (upload.accepted, upload.rejected) == (3, 0)
    assert upload.updated == 3  # each lead's decision changed, two of them with edited values
    assert Lead.objects.count() == count_before
    now = {name: Lead.objects.get(pk=lead.pk) for name, lead in leads.items()}
    assert {name: (now[name].status, now[name].disposition_code) for name in TO_UPLOAD} == dict.fromkeys(
        TO_UPLOAD, ("accepted", "ACCEPT_LEAD")
    )
    for name in set(LEADS) - set(TO_UPLOAD):
        assert (now[name].status, now[name].disposition_code) == (
            leads[name].status,
            leads[name].disposition_code,
        )
        assert list(now[name].events.values_list("pk", flat=True)) == events_before[name], name
    assert now["chief"].values["job_level"] == "C-Level"
    assert now["typo"].values["email"] == FIXED_EMAIL
    assert now["founder"].values == leads["founder"].values

    # History: who changed what, from the upload.
    expected_changes = {
        "chief": {"job_level": ["Chief Executive", "C-Level"]},
        "founder": {},
        "typo": {"email": [LEADS["typo"][0]["email"], FIXED_EMAIL]},
    }
    for name in TO_UPLOAD:
        new_events = list(now[name].events.exclude(pk__in=events_before[name]))
        assert len(new_events) == 1, name
        event = new_events[0]
        assert event.user == marketer
        assert upload.upload_id in event.actor and saved.name in event.actor
        assert (event.status_before, event.code_before) == ("rejected", LEADS[name][1])
        assert (event.status_after, event.code_after) == ("accepted", "ACCEPT_LEAD")
        assert event.changes == expected_changes[name], name
        assert event.kind == (LeadEvent.Kind.EDITED if expected_changes[name] else LeadEvent.Kind.REPROCESSED)
