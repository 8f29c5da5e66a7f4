"""Global pages in a real browser: an admin pastes picklist values, finds a duplicate and aliases it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadgate.leads.services import process_leads
from leadgate.sources.models import Picklist
from tests.conftest import good_lead

from .conftest import PASSWORD, screenshot

pytestmark = pytest.mark.slow


@pytest.fixture
def admin_page(anonymous, transactional_db):
    from leadgate.accounts.services import create_user

    create_user("ada", "admin", PASSWORD)
    anonymous.goto("/signin/")
    anonymous.sign_in("ada")
    anonymous.page.wait_for_url("**/sources/")
    return anonymous


def test_paste_values_find_a_duplicate_and_alias_it(admin_page, summit):
    page = admin_page.page
    page.get_by_role("link", name="Lists", exact=True).click()
    page.get_by_role("link", name="Job Level").first.click()
    expect(page.get_by_role("heading", name="Job Level", level=1)).to_be_visible()

    page.get_by_label("Paste values, one per line").fill("Founder\nIndividual Contributer\nVP\n\n")
    page.get_by_role("button", name="Add values").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Added 2 values to Job Level; 1 already present; 1 blank line skipped."
    )
    # the seed's "be sure to also update list mappers": the new values' entries are asked for
    expect(page.locator("#mapper-prompt")).to_contain_text("Individual Contributer")
    pair = page.locator(".duplicate").filter(has_text="“Individual Contributer”")
    expect(pair).to_contain_text("“Individual Contributor”")
    expect(pair).to_contain_text("% alike")
    page.evaluate("window.scrollTo(0, 0)")  # the answer jumped to the prompt; show the whole page head
    screenshot(page, "picklist.png")

    pair.get_by_role(
        "button", name="Make “Individual Contributer” an alias of “Individual Contributor”"
    ).click()
    expect(page.get_by_role("status")).to_contain_text(
        '"Individual Contributer" is now an alias of "Individual Contributor".'
    )
    expect(page.locator(".duplicate")).to_have_count(0)
    row = page.locator("#values tr").filter(has=page.get_by_role("rowheader", name="Individual Contributor"))
    expect(row.locator(".alias")).to_contain_text("Individual Contributer")

    picklist = Picklist.objects.get(key="job_level")
    assert picklist.aliases.get(alias="Individual Contributer").value.value == "Individual Contributor"
    (lead,) = process_leads(summit, [good_lead(job_level="individual contributer")])
    assert (lead.status, lead.clean["job_level"]) == ("accepted", "Individual Contributor")
    assert admin_page.errors == []
