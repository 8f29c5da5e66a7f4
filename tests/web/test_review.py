"""Source → Review queue: the held leads by role, bulk approve and bulk reject, the Summary's link."""

from __future__ import annotations

import pytest
from django.test import Client

from leadgate.leads.models import Lead, LeadEvent
from leadgate.leads.services import process_leads
from leadgate.rules.catalogue import MANUAL
from leadgate.sources.definition_file import apply_definition
from leadgate.sources.models import Source
from tests.conftest import SPEC_EXAMPLE, good_lead

SLUG = "data-summit-2026"
QUEUE = f"/sources/{SLUG}/review/"


@pytest.fixture
def held(db):
    """The SPEC example source with ``review: true``: three leads held, one rejected (free mail)."""
    apply_definition(SPEC_EXAMPLE.replace("review: false", "review: true"))
    source = Source.objects.get(slug=SLUG)
    leads = process_leads(source, [good_lead(email=f"p{i}@acme-corp.com") for i in range(3)])
    rejected = process_leads(source, [good_lead(email="ann@gmail.com")])[0]
    return {"source": source, "leads": leads, "rejected": rejected}


def _ids(response) -> list[str]:
    return [row["lead"].lead_id for row in response.context["rows"]]


def _statuses(leads) -> list[str]:
    return [Lead.objects.get(pk=lead.pk).status for lead in leads]


def test_anonymous_people_are_sent_to_sign_in(held):
    response = Client().get(QUEUE)
    assert response.status_code == 302 and response["Location"] == f"/signin/?next={QUEUE}"
    response = Client().post(f"{QUEUE}approve", {"lead": [held["leads"][0].lead_id]})
    assert response.status_code == 302 and response["Location"].startswith("/signin/")
    assert _statuses(held["leads"]) == ["in_review"] * 3


def test_a_viewer_sees_the_held_leads_masked_without_the_actions(held, viewer):
    response = viewer.get(QUEUE)
    assert response.status_code == 200
    assert _ids(response) == [lead.lead_id for lead in held["leads"]]  # oldest first, no rejected one
    body = response.content.decode()
    assert "p•••@acme-corp.com" in body and "p0@acme-corp.com" not in body
    assert f'href="/sources/{SLUG}/leads/{held["leads"][0].lead_id}/"' in body
    assert "Approve selected" not in body and 'name="lead"' not in body
    assert "style=" not in body and "<script>" not in body


def test_a_viewer_may_not_approve_or_reject(held, viewer):
    ids = [lead.lead_id for lead in held["leads"]]
    assert viewer.post(f"{QUEUE}approve", {"lead": ids}).status_code == 403
    assert viewer.post(f"{QUEUE}reject", {"lead": ids, "reason": "no"}).status_code == 403
    assert _statuses(held["leads"]) == ["in_review"] * 3


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_managers_and_admins_see_values_and_the_actions(held, request, persona):
    body = request.getfixturevalue(persona).get(QUEUE).content.decode()
    assert "p0@acme-corp.com" in body
    assert "Approve selected" in body and "Reject selected" in body and "csrfmiddlewaretoken" in body
    assert f'value="{held["leads"][0].lead_id}"' in body


def test_actions_take_a_post(held, manager):
    assert manager.get(f"{QUEUE}approve").status_code == 405
    assert manager.get(f"{QUEUE}reject").status_code == 405


def test_approving_the_selected_leads(held, manager, people):
    first, second, third = held["leads"]
    response = manager.post(f"{QUEUE}approve", {"lead": [first.lead_id, second.lead_id], "page": "1"})
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert _statuses(held["leads"]) == ["accepted", "accepted", "in_review"]
    event = LeadEvent.objects.get(lead=first, kind=LeadEvent.Kind.APPROVED)
    assert (event.user, event.status_before, event.status_after) == (
        people["manager"],
        "in_review",
        "accepted",
    )

    page = manager.get(QUEUE)
    assert "Approved 2 leads." in page.content.decode()
    assert _ids(page) == [third.lead_id]


def test_all_on_this_page_approves_every_lead_the_page_showed(held, admin):
    ids = [lead.lead_id for lead in held["leads"]]
    response = admin.post(f"{QUEUE}approve", {"all": "page", "on_page": ids}, follow=True)
    assert "Approved 3 leads." in response.content.decode()
    assert _statuses(held["leads"]) == ["accepted"] * 3
    assert "No lead waits for review." in response.content.decode()


def test_an_empty_selection_changes_nothing(held, manager):
    response = manager.post(f"{QUEUE}approve", {}, follow=True)
    assert "Select the leads to approve first" in response.content.decode()
    response = manager.post(f"{QUEUE}reject", {"reason": "Booth scan"}, follow=True)
    assert "Select the leads to reject first" in response.content.decode()
    assert _statuses(held["leads"]) == ["in_review"] * 3
    assert not LeadEvent.objects.exclude(kind=LeadEvent.Kind.RECEIVED).exists()


def test_rejecting_needs_a_reason(held, manager):
    ids = [lead.lead_id for lead in held["leads"][:2]]
    response = manager.post(f"{QUEUE}reject", {"lead": ids, "reason": "   "}, follow=True)
    assert "Say why the leads are rejected" in response.content.decode()
    assert _statuses(held["leads"]) == ["in_review"] * 3

    response = manager.post(f"{QUEUE}reject", {"lead": ids, "reason": "Booth staff scans"})
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert _statuses(held["leads"]) == ["rejected", "rejected", "in_review"]
    lead = Lead.objects.get(pk=held["leads"][0].pk)
    assert (lead.disposition_code, lead.custom_reason) == (MANUAL, "Booth staff scans")
    assert "Rejected 2 leads." in manager.get(QUEUE).content.decode()


def test_only_leads_in_review_are_rejected_from_the_queue(held, manager):
    rejected = held["rejected"]
    manager.post(f"{QUEUE}reject", {"lead": [rejected.lead_id], "reason": "stale page"})
    lead = Lead.objects.get(pk=rejected.pk)
    assert lead.disposition_code != MANUAL and lead.custom_reason != "stale page"


def test_the_queue_has_pages_of_a_hundred(held, viewer):
    process_leads(held["source"], [good_lead(email=f"q{i}@acme-corp.com") for i in range(100)])
    first = viewer.get(QUEUE)
    assert len(_ids(first)) == 100 and _ids(first)[0] == held["leads"][0].lead_id
    second = viewer.get(f"{QUEUE}?page=2")
    assert len(_ids(second)) == 3


def test_lead_values_are_escaped(held, manager):
    attacks = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>"]  # within First Name's 40
    process_leads(
        held["source"], [good_lead(email=f"x{i}@acme-corp.com", first_name=a) for i, a in enumerate(attacks)]
    )
    body = manager.get(QUEUE).content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)" in body and "&lt;img src=x" in body


def test_the_summary_links_the_queue_while_leads_wait(held, viewer):
    body = viewer.get(f"/sources/{SLUG}/").content.decode()
    assert "3 leads wait for review" in body and f'href="{QUEUE}"' in body
    Lead.objects.filter(status="in_review").update(status="accepted")
    assert f'href="{QUEUE}"' not in viewer.get(f"/sources/{SLUG}/").content.decode()


def test_an_unknown_source_is_not_found(viewer, db):
    assert viewer.get("/sources/no-such-source/review/").status_code == 404
