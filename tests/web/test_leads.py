"""Source → Leads: the table's filters, sorting and pages, a lead's detail, editing and rejecting by role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils.html import escape

from leadgate.files.models import Upload
from leadgate.leads.models import Lead, LeadEvent
from leadgate.leads.services import process_leads
from leadgate.rules.catalogue import MANUAL
from tests.conftest import good_lead

SLUG = "data-summit-2026"
TABLE = f"/sources/{SLUG}/leads/"


def _detail(lead: Lead) -> str:
    return f"{TABLE}{lead.lead_id}/"


@pytest.fixture
def leads(summit):
    """Three accepted, one free-mail and one "Chef" (not on the Job Level picklist) rejected."""
    accepted = process_leads(summit, [good_lead(email=f"p{i}@acme-corp.com") for i in range(3)])
    rejected = process_leads(
        summit, [good_lead(email="ann@gmail.com"), good_lead(email="bo@acme-corp.com", job_level="Chef")]
    )
    return {"accepted": accepted, "free_mail": rejected[0], "chef": rejected[1]}


def _listed(response) -> list[str]:
    return [row["lead"].lead_id for row in response.context["rows"]]


def test_anonymous_people_are_sent_to_sign_in_from_a_lead(leads):
    path = _detail(leads["chef"])
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/signin/?next={path}"
    response = Client().post(f"{path}edit", {"value:job_level": "VP"})
    assert response.status_code == 302 and response["Location"].startswith("/signin/")
    leads["chef"].refresh_from_db()
    assert leads["chef"].status == "rejected"


def test_the_table_lists_the_sources_leads_newest_first(leads, viewer):
    response = viewer.get(TABLE)
    assert response.status_code == 200
    assert _listed(response)[0] == leads["chef"].lead_id
    assert len(_listed(response)) == 5
    body = response.content.decode()
    assert "Email" in body and "First Name" in body and "Job Level" in body  # the first three fields
    assert "b•••@acme-corp.com" in body and "REJECT_LEAD_INVALID_LIST_VALUE" in body  # email is PII


def test_the_table_filters_by_status_code_and_text(leads, viewer):
    rejected = viewer.get(TABLE, {"status": "rejected"})
    assert set(_listed(rejected)) == {leads["chef"].lead_id, leads["free_mail"].lead_id}

    code = leads["chef"].disposition_code
    assert _listed(viewer.get(TABLE, {"code": code})) == [leads["chef"].lead_id]
    assert _listed(viewer.get(TABLE, {"q": "ANN@gmail.com"})) == [leads["free_mail"].lead_id]
    assert _listed(viewer.get(TABLE, {"q": "chef"})) == [leads["chef"].lead_id]  # any value
    assert _listed(viewer.get(TABLE, {"q": leads["chef"].lead_id.lower()})) == [leads["chef"].lead_id]
    assert _listed(viewer.get(TABLE, {"status": "nonsense"})) != []  # a bad filter is dropped, not a 500


def test_the_table_filters_by_submitted_date_in_the_sources_time_zone(summit, viewer):
    # 23:30 UTC on 1 March is already 2 March in Berlin.
    late = process_leads(
        summit,
        [good_lead(email="late@acme-corp.com")],
        submitted_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC),
    )[0]
    early = process_leads(
        summit,
        [good_lead(email="early@acme-corp.com")],
        submitted_at=dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC),
    )[0]
    assert _listed(viewer.get(TABLE, {"since": "2026-03-02"})) == [late.lead_id]
    assert _listed(viewer.get(TABLE, {"until": "2026-03-01"})) == [early.lead_id]
    assert _listed(viewer.get(TABLE, {"since": "2026-03-01", "until": "2026-03-02"})) == [
        late.lead_id,
        early.lead_id,
    ]


def test_the_table_sorts_by_status_and_code(leads, viewer):
    by_status = _listed(viewer.get(TABLE, {"sort": "status"}))
    statuses = [Lead.objects.get(lead_id=i).status for i in by_status]
    assert statuses == sorted(statuses)
    oldest = _listed(viewer.get(TABLE, {"sort": "submitted"}))
    assert oldest[-1] == leads["chef"].lead_id
    body = viewer.get(TABLE, {"sort": "code"}).content.decode()
    assert 'aria-sort="ascending"' in body


def test_the_table_has_pages_of_fifty(summit, viewer):
    process_leads(summit, [good_lead(email=f"p{i}@acme-corp.com") for i in range(60)])
    first = viewer.get(TABLE, {"status": "accepted"})
    assert len(_listed(first)) == 50
    assert "page=2" in first.context["next_query"] and "status=accepted" in first.context["next_query"]
    second = viewer.get(TABLE, {"status": "accepted", "page": 2})
    assert len(_listed(second)) == 10
    assert not set(_listed(first)) & set(_listed(second))
    assert second.context["next_query"] == ""


def test_the_detail_shows_values_problems_and_history(leads, viewer):
    chef = leads["chef"]
    response = viewer.get(_detail(chef))
    assert response.status_code == 200
    body = response.content.decode()
    assert chef.lead_id in body and "Job Level" in body and "Chef" in body
    assert "REJECT_LEAD_INVALID_LIST_VALUE" in body
    problem = chef.problems[0]
    assert escape(problem["message"]) in body
    assert escape(problem["suggestion"]) in body
    rows = {row.key: row for row in response.context["value_rows"]}
    assert rows["job_level"].submitted == "Chef" and rows["job_level"].problems
    assert rows["email"].clean == "b•••@acme-corp.com"  # masked for a viewer
    assert [item["event"].kind for item in response.context["history"]] == ["received"]
    # A viewer sees no action forms.
    assert "Save and reprocess" not in body and "Reject lead" not in body


def test_a_lead_of_another_source_or_an_unknown_one_is_not_found(leads, viewer):
    assert viewer.get(f"{TABLE}LD-NOSUCHLEAD/").status_code == 404
    assert viewer.get(f"/sources/no-such-source/leads/{leads['chef'].lead_id}/").status_code == 404


def test_a_viewer_may_not_edit_or_reject(leads, viewer):
    chef = leads["chef"]
    assert viewer.post(f"{_detail(chef)}edit", {"value:job_level": "VP"}).status_code == 403
    assert viewer.post(f"{_detail(chef)}reject", {"reason": "no"}).status_code == 403
    chef.refresh_from_db()
    assert (chef.status, chef.values["job_level"]) == ("rejected", "Chef")
    assert chef.events.count() == 1


def test_actions_take_a_post(leads, manager):
    assert manager.get(f"{_detail(leads['chef'])}edit").status_code == 405


def test_a_manager_edits_a_value_and_the_lead_is_accepted(leads, manager, people):
    chef = leads["chef"]
    response = manager.post(
        f"{_detail(chef)}edit", {"value:job_level": "VP", "value:email": chef.values["email"]}
    )
    assert response.status_code == 302 and response["Location"] == _detail(chef)
    chef.refresh_from_db()
    assert (chef.status, chef.disposition_code, chef.clean["job_level"]) == ("accepted", "ACCEPT_LEAD", "VP")
    event = chef.events.get(kind=LeadEvent.Kind.EDITED)
    assert event.changes == {"job_level": ["Chef", "VP"]}  # only what changed
    assert event.user == people["manager"]
    assert (event.status_before, event.status_after) == ("rejected", "accepted")

    page = manager.get(_detail(chef))
    body = page.content.decode()
    assert "Rejected → Accepted" in body  # the message after the redirect
    first = page.context["history"][0]
    assert first["event"].kind == "edited" and first["changes"] == [("Job Level", "Chef", "VP")]


def test_saving_unchanged_values_changes_nothing(leads, admin):
    chef = leads["chef"]
    response = admin.post(f"{_detail(chef)}edit", {"value:job_level": "Chef"}, follow=True)
    assert "Nothing changed" in response.content.decode()
    assert chef.events.count() == 1


def test_rejecting_by_hand_needs_a_reason(leads, manager):
    lead = leads["accepted"][0]
    response = manager.post(f"{_detail(lead)}reject", {"reason": "   "}, follow=True)
    assert "Say why the lead is rejected" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == "accepted"

    response = manager.post(f"{_detail(lead)}reject", {"reason": "Booth staff scan"})
    assert response.status_code == 302 and response["Location"] == _detail(lead)
    lead.refresh_from_db()
    assert (lead.status, lead.disposition_code, lead.custom_reason) == (
        "rejected",
        MANUAL,
        "Booth staff scan",
    )
    event = lead.events.get(kind=LeadEvent.Kind.REJECTED)
    assert (event.status_before, event.note) == ("accepted", "Booth staff scan")


def test_lead_values_are_escaped(summit, manager):
    attack = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    lead = process_leads(summit, [good_lead(email="x@acme-corp.com", first_name=attack, job_level=attack)])[0]
    for body in (manager.get(TABLE).content.decode(), manager.get(_detail(lead)).content.decode()):
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(1)" in body
        assert "style=" not in body


def test_personal_values_are_masked_for_viewers_only(leads, viewer, manager):
    leads["free_mail"].source.fields.filter(key="first_name").update(pii=True)  # email is PII already
    lead = leads["free_mail"]  # its custom reason quotes the email: "ann@gmail.com" has a blocked domain
    for page in (viewer.get(TABLE), viewer.get(_detail(lead))):
        body = page.content.decode()
        assert "ann@gmail.com" not in body and "bo@acme-corp.com" not in body
        assert "a•••@gmail.com" in body and "A•••" in body
    rows = {row.key: row for row in viewer.get(_detail(lead)).context["value_rows"]}
    assert rows["job_level"].submitted == "VP"  # not personal: shown as it is
    for page in (manager.get(TABLE), manager.get(_detail(lead))):
        assert "ann@gmail.com" in page.content.decode()


def test_the_detail_links_the_upload_the_lead_came_from(leads, viewer):
    upload = Upload.objects.create(source=leads["chef"].source, name="booth-scans.xlsx", file="x.xlsx")
    Lead.objects.filter(pk=leads["chef"].pk).update(upload=upload)
    body = viewer.get(_detail(leads["chef"])).content.decode()
    assert f'href="/sources/{SLUG}/uploads/{upload.upload_id}/">booth-scans.xlsx</a>' in body
