"""Fields and Rules in a real browser: a manager edits a field and a rule, previews what the new rules would
decide (nothing changes), then reprocesses the rejected leads and sees them accepted."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadgate.leads.models import Lead, ReprocessRun
from leadgate.leads.services import process_leads
from leadgate.leads.tasks import reprocess_task
from leadgate.sources.models import Field
from tests.conftest import good_lead

from .conftest import screenshot

pytestmark = pytest.mark.slow


def test_edit_a_field_and_a_rule_preview_and_reprocess(signed_in, summit, user):
    process_leads(
        summit,
        [good_lead(email=f"fan{i}@gmail.com") for i in range(3)]
        + [good_lead(email="kim@acme-corp.com", first_name="K" * 45)]
        + [good_lead(email="ceo@example.com"), good_lead(email="ann@acme-corp.com")],
    )
    page = signed_in.page
    signed_in.goto(f"/sources/{summit.slug}/fields/")
    table = page.locator("table.fields-table")
    expect(table.locator("tbody tr")).to_have_count(6)

    # A field: first_name may be longer; the picklist options stay hidden for a text field.
    page.get_by_role("link", name="Edit First Name").click()
    expect(page.get_by_label("Picklist", exact=True)).to_be_hidden()
    page.get_by_label("Max length").fill("sixty")
    page.get_by_role("button", name="Save field").click()
    expect(page.get_by_text("must be a whole number of 0 or more")).to_be_visible()
    page.get_by_label("Max length").fill("60")
    page.get_by_role("button", name="Save field").click()
    expect(page.get_by_role("status")).to_contain_text("Field “First Name” saved.")
    expect(page.locator("#reprocess")).to_contain_text("The rules changed. 5 rejected leads were decided")
    signed_in.goto(f"/sources/{summit.slug}/fields/")  # from the top, not the saved field's row
    expect(page.locator("#reprocess")).to_be_visible()
    screenshot(page, "fields.png")
    assert Field.objects.get(source=summit, key="first_name").max_length == 60

    # A rule: free mail is no longer excluded from this source.
    page.locator("nav.tabs").get_by_role("link", name="Rules", exact=True).click()
    page.get_by_label("free_email").select_option("")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status")).to_contain_text("Rules saved.")

    before = sorted(Lead.objects.values_list("lead_id", "status", "updated_at"))
    page.get_by_role("button", name="Preview").click()
    box = page.locator("#preview-box")
    expect(box).to_contain_text("4 of 5 rejected leads would now be accepted")
    expect(box.locator("table")).to_contain_text("REJECT_LEAD_SUPPRESSED")
    assert sorted(Lead.objects.values_list("lead_id", "status", "updated_at")) == before

    box.get_by_role("button", name="Reprocess 5 leads").click()
    expect(page.locator('[data-run-state="queued"]')).to_have_count(1)
    reprocess_task.call(ReprocessRun.objects.get().pk)  # the worker's part; the tab polls the run
    expect(page.locator("[data-run-state]")).to_contain_text("Reprocessed 5 leads: 4 accepted, 1 rejected.")
    statuses = dict(Lead.objects.values_list("values__email", "status"))
    assert [statuses[f"fan{i}@gmail.com"] for i in range(3)] == ["accepted"] * 3
    assert (statuses["kim@acme-corp.com"], statuses["ceo@example.com"]) == ("accepted", "rejected")
    assert signed_in.errors == []
