"""Source → Leads in a real browser: filter the rejected leads, open one, fix a value, see it accepted."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from leadgate.leads.models import Lead
from leadgate.leads.services import process_leads
from tests.conftest import good_lead

from .conftest import screenshot

pytestmark = pytest.mark.slow

NAMES = ["Ann", "Bo", "Cy", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Mo", "Nia"]


@pytest.fixture
def leads(summit):
    """A busy morning at the summit: accepted leads, and rejections a marketer would recognise."""
    process_leads(
        summit, [good_lead(email=f"{name.lower()}@acme-corp.com", first_name=name) for name in NAMES]
    )
    process_leads(
        summit,
        [
            good_lead(email="sam@gmail.com", first_name="Sam"),
            good_lead(email="tess@acme-corp.com", first_name="Tess", country=""),
            good_lead(email="uma@rival.com", first_name="Uma"),
        ],
    )
    chef = good_lead(email="chef@acme-corp.com", first_name="Zoe", job_level="Chef")
    return process_leads(summit, [chef])[0]


def test_a_rejected_lead_is_fixed_from_its_detail(signed_in, leads):
    page = signed_in.page
    signed_in.goto(f"/sources/{leads.source.slug}/")
    page.get_by_role("navigation", name=leads.source.name).get_by_role("link", name="Leads").click()
    expect(page.get_by_role("heading", name=re.compile("^Leads"))).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(1 + 18)
    screenshot(page, "leads.png")

    page.get_by_label("Status").select_option("rejected")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=rejected"))
    rejected = Lead.objects.filter(source=leads.source, status="rejected").count()
    assert rejected >= 3
    expect(page.get_by_role("row")).to_have_count(1 + rejected)

    page.get_by_role("link", name=leads.lead_id).click()
    expect(page.get_by_role("heading", name=leads.lead_id)).to_be_visible()
    expect(page.locator("[data-lead-status]")).to_have_text("Rejected")
    expect(page.get_by_role("region", name="Problems")).to_contain_text('closest: "C-Level"')
    screenshot(page, "lead.png")

    page.get_by_label("Job Level").fill("VP")
    page.get_by_role("button", name="Save and reprocess").click()
    expect(page.get_by_role("status")).to_contain_text("Rejected → Accepted")
    expect(page.locator("[data-lead-status]")).to_have_text("Accepted")
    entry = page.locator(".history-event").first
    expect(entry).to_contain_text("Edited by mia")
    expect(entry.get_by_role("row", name="Job Level")).to_contain_text("Chef")
    expect(entry.get_by_role("row", name="Job Level")).to_contain_text("VP")

    leads.refresh_from_db()
    assert (leads.status, leads.values["job_level"]) == ("accepted", "VP")
    assert Lead.objects.filter(source=leads.source, status="rejected").count() == rejected - 1
    assert signed_in.errors == []
