"""Resolve in a real browser: alias an unexpected picklist value in one click, reprocess, leads accepted."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadgate.leads.models import Lead, LeadEvent, ReprocessRun
from leadgate.leads.services import process_leads
from leadgate.leads.tasks import reprocess_task
from tests.conftest import good_lead

from .conftest import screenshot

pytestmark = pytest.mark.slow


def test_alias_a_picklist_value_and_reprocess_until_the_leads_are_accepted(signed_in, summit, user):
    process_leads(
        summit,
        [good_lead(email=f"ceo{i}@acme-corp.com", job_level="Chief Executive") for i in range(5)]
        + [good_lead(email=f"vp{i}@acme-corp.com", job_level="Vice Pres") for i in range(2)]
        + [good_lead(email="pat@gmail.com"), good_lead(email="kim@acme-corp.com", country="Narnia")]
        + [good_lead(email="ann@acme-corp.com")],
    )
    page = signed_in.page
    signed_in.goto(f"/sources/{summit.slug}/")
    page.get_by_role("link", name="Invalid list value").click()
    expect(page).to_have_url(
        f"{signed_in.base_url}/sources/{summit.slug}/resolve/?code=REJECT_LEAD_INVALID_LIST_VALUE"
    )
    page.get_by_label("Disposition").select_option("")
    page.get_by_role("button", name="Filter").click()

    group = page.locator("article").filter(has_text="“Chief Executive”")
    expect(group).to_contain_text("5 leads")
    expect(group).to_contain_text("The engine suggests C-Level")
    screenshot(page, "resolve.png")

    group.get_by_role("button", name="C-Level", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text('"Chief Executive" now means "C-Level"')
    group = page.locator("article").filter(has_text="“Chief Executive”")
    expect(group).to_contain_text("Now means “C-Level”")
    group.get_by_role("button", name="Reprocess 5 leads").click()
    expect(page.locator('[data-run-state="queued"]')).to_have_count(1)
    reprocess_task.call(ReprocessRun.objects.get().pk)  # the worker's part; the page polls the run
    expect(page.locator("[data-run-state]")).to_contain_text("Reprocessed 5 leads: 5 accepted.")
    expect(page.locator("article").filter(has_text="“Chief Executive”")).to_have_count(0)
    expect(page.locator("article").filter(has_text="“Vice Pres”")).to_contain_text("2 leads")

    ceos = Lead.objects.filter(source=summit, values__job_level="Chief Executive")
    assert {lead.status for lead in ceos} == {"accepted"}
    assert LeadEvent.objects.filter(lead__in=ceos, kind="reprocessed", user=user).count() == 5
    assert signed_in.errors == []
