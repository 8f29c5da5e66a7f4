"""The web UI in a real browser: sign in, the Sources list, a Summary whose counters change by themselves,
and lead values that try to run script."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadgate.demo.services import DEMO_SLUG, build_demo
from leadgate.leads.models import Lead
from leadgate.leads.services import process_leads
from leadgate.sources.definition_file import apply_definition
from tests.conftest import good_lead

from .conftest import screenshot

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(transactional_db):
    """The demo source, smaller: a few hundred leads over the last two days."""
    return build_demo(leads=600)


def test_signing_in_opens_the_page_asked_for(anonymous, user, demo):
    page = anonymous.page
    anonymous.goto(f"/sources/{DEMO_SLUG}/")
    expect(page).to_have_url(f"{anonymous.base_url}/signin/?next=/sources/{DEMO_SLUG}/")
    expect(page.get_by_label("Username")).to_be_focused()

    anonymous.sign_in(user.username, "not the password")
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
    anonymous.sign_in(user.username)
    expect(page).to_have_url(f"{anonymous.base_url}/sources/{DEMO_SLUG}/")
    expect(page.get_by_role("heading", name="Demo Summit")).to_be_visible()

    page.keyboard.press("Tab")  # the first stop is the skip link, for keyboard users
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{anonymous.base_url}/signin/")
    assert anonymous.errors == []


MORE_SOURCES = """
sources:
  - {slug: partner-feed-q1, name: Partner Feed Q1, kind: partner, status: paused,
     starts_on: 2026-01-01, ends_on: 2026-03-31, fields: [{key: email, label: Email, type: email}]}
  - {slug: spring-webinar, name: Spring Webinar, kind: webinar, status: closed,
     starts_on: 2026-04-22, ends_on: 2026-04-22, fields: [{key: email, label: Email, type: email}]}
"""


def test_the_sources_list_shows_counts_and_filters(signed_in, demo, summit):
    apply_definition(MORE_SOURCES)
    process_leads(summit, [good_lead(email=f"p{i}@acme-corp.com") for i in range(40)] + [good_lead(email="")])
    page = signed_in.page
    signed_in.goto("/sources/")
    counts = {s: Lead.objects.filter(source=demo, status=s).count() for s in ("accepted", "rejected")}
    row = page.get_by_role("row").filter(has_text="Demo Summit")
    expect(row).to_contain_text("600")
    expect(row).to_contain_text(f"{counts['accepted']:,}")
    expect(row).to_contain_text(f"{counts['rejected']:,}")
    screenshot(page, "sources.png")

    page.get_by_label("Name or slug").fill("summit-2026")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Data Summit 2026")).to_be_visible()
    expect(page.get_by_role("link", name="Demo Summit")).to_have_count(0)
    assert signed_in.errors == []


def test_the_summary_counters_change_without_reloading(signed_in, demo):
    page = signed_in.page
    signed_in.goto(f"/sources/{DEMO_SLUG}/")
    received = page.locator('[data-counter="received"]')
    rejected = page.locator('[data-counter="rejected"]')
    expect(received).to_have_text("600")
    before = int(rejected.inner_text().replace(",", ""))
    expect(
        page.get_by_role("navigation", name="Demo Summit").get_by_role("link", name="Summary")
    ).to_have_attribute("aria-current", "page")
    screenshot(page, "summary.png")

    page.evaluate("window.sameDocument = true")  # gone if the page were reloaded
    process_leads(demo, [good_lead(email="late@gmail.com", last_name="Late"), good_lead(email="x@acme.com")])
    expect(received).to_have_text("602", timeout=12_000)  # the next htmx poll, at most 5 s away
    expect(rejected).to_have_text(f"{before + 2:,}")  # a free-mail address, and no last name
    assert page.evaluate("window.sameDocument") is True
    assert signed_in.errors == []  # no CSP refusal, no script error


XSS = [
    '<script>console.log("xss-ran");alert("script")</script>',
    "<img src=x onerror=\"console.log('xss-ran');alert('img')\">",
    "<a href=\"javascript:console.log('xss-ran');alert('link')\">click me</a>",
    '"><svg onload=alert("svg")>',
]


def test_lead_values_that_carry_script_are_shown_as_text_and_never_run(signed_in, summit):
    process_leads(
        summit, [good_lead(email=f"x{i}@acme-corp.com", first_name=name) for i, name in enumerate(XSS)]
    )
    process_leads(summit, [good_lead(job_level="<img src=x onerror=\"alert('reason')\">")])
    page = signed_in.page
    signed_in.goto(f"/sources/{summit.slug}/")
    latest = page.locator("table.latest")
    for name in XSS:
        expect(latest.get_by_text(name, exact=True)).to_have_count(1)  # shown, character for character
    expect(latest.locator("td.reason").filter(has_text="alert('reason')")).to_have_count(1)
    assert latest.locator("script, img, svg, a[href^='javascript']").count() == 0

    for link in page.get_by_text("click me").all():
        link.click()
    page.wait_for_timeout(6_000)  # one counters poll too: swapped HTML runs nothing either
    assert signed_in.dialogs == []
    assert "xss-ran" not in signed_in.console
    assert signed_in.errors == []


def test_the_summary_fits_a_tablet(signed_in, demo):
    page = signed_in.page
    page.set_viewport_size({"width": 768, "height": 1024})
    signed_in.goto(f"/sources/{DEMO_SLUG}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    expect(page.locator('[data-counter="failed"]')).to_be_visible()
