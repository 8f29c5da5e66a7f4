"""Post-out in a real browser: test a destination and send a test lead, read the request and the response,
edit a destination's field mapping; whatever a receiver answers is shown as text, never run."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from leadgate.accounts.services import create_user
from leadgate.delivery.models import Delivery, DestinationMapping
from leadgate.leads.services import process_leads
from tests.conftest import good_lead
from tests.deliveries import deliver
from tests.receiver import Reply

from .conftest import PASSWORD, screenshot

pytestmark = pytest.mark.slow

HOSTILE = "<script>alert('pwned')</script><img src=x onerror=alert(2)>"


def test_a_manager_tests_the_destination_and_sends_a_test_lead(signed_in, summit, hook, receiver, settings):
    # Some history first: two leads delivered, one given up on, each answer carrying hostile markup.
    receiver.default = Reply(200, json.dumps({"ok": True, "echo": HOSTILE}).encode())
    process_leads(summit, [good_lead(), good_lead(email="bo@acme-corp.com", first_name="Bo")])
    deliver()
    settings.LEADGATE_DELIVERY_MAX_ATTEMPTS = 1
    receiver.default = Reply(503, HOSTILE.encode())
    process_leads(summit, [good_lead(email="kim@acme-corp.com", first_name="Kim")])
    deliver()
    assert sorted(Delivery.objects.values_list("state", flat=True)) == ["dead", "delivered", "delivered"]

    page = signed_in.page
    signed_in.goto(f"/sources/{summit.slug}/")
    page.get_by_role("navigation", name=summit.name).get_by_role("link", name="Post-out").click()
    card = page.locator("#dest-crm_webhook")
    expect(card).to_contain_text("Delivering")
    expect(card.locator(".dcount.state-delivered")).to_contain_text("2")
    expect(card.locator(".dcount.state-dead")).to_contain_text("1")

    # Test connection: the answer appears under the buttons, with the exchange.
    receiver.default = Reply(200, b"")
    card.get_by_role("button", name="Test connection").click()
    result = card.locator(".check-box")
    expect(result).to_contain_text("Test connection: the receiver answers")
    expect(result).to_contain_text("HEAD http://127.0.0.1")
    expect(result).to_contain_text("HTTP 200")

    # Send test lead: the signed request as sent and the receiver's answer, shown as text.
    receiver.default = Reply(201, json.dumps({"id": "crm-42", "note": HOSTILE}).encode())
    card.get_by_role("button", name="Send test lead").click()
    expect(result).to_contain_text("Send test lead: The test lead LD-TEST")
    expect(result).to_contain_text("POST http://127.0.0.1")
    expect(result).to_contain_text("HTTP 201")
    expect(result).to_contain_text("webhook-signature")
    expect(result).to_contain_text('"Email": "leadgate.test@example.com"')
    expect(result).to_contain_text("crm-42")
    expect(result).to_contain_text("<script>alert('pwned')</script>")
    expect(result.locator("script, img")).to_have_count(0)
    assert json.loads(receiver.received[-1].body)["lead_id"].startswith("LD-TEST")

    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "postout.png")

    # The delivery log's exchanges open in place; the dead letter shows its last error, as text too.
    card.locator("details.exchanges summary").first.click()
    expect(card.locator("details.exchanges[open] pre.body").first).to_be_visible()
    expect(card.locator(".deadletters")).to_contain_text("<script>alert('pwned')</script>")
    expect(card.locator(".deadletters img")).to_have_count(0)

    # Retry the dead letter: it is due again.
    receiver.default = Reply()
    card.locator(".deadletters").get_by_role("checkbox").check()
    card.get_by_role("button", name="Retry", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("1 dead delivery to")
    assert Delivery.objects.filter(state="pending").count() == 1

    assert signed_in.dialogs == []
    assert signed_in.errors == []


def test_an_admin_edits_a_destinations_field_mapping(anonymous, summit, hook):
    create_user("ada", "admin", PASSWORD)
    page = anonymous.page
    anonymous.goto("/signin/")
    anonymous.sign_in("ada")
    page.wait_for_url("**/sources/")
    page.get_by_role("link", name="Destinations", exact=True).click()
    page.get_by_role("link", name="crm_webhook").click()
    page.get_by_role("link", name="Edit field mapping").click()

    # A field no source has is refused with the reason, and nothing changes.
    page.get_by_label("Row 4 from field").fill("budget")
    page.get_by_label("Row 4 output field").fill("Budget")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_role("alert")).to_contain_text(
        'Row 4: source "data-summit-2026" has no field "budget"'
    )
    assert not DestinationMapping.objects.filter(destination=hook, to="Budget").exists()

    page.get_by_label("Row 4 from field").fill("first_name")
    page.get_by_label("Row 4 output field").fill("FirstName")
    page.get_by_label("Row 1 output field").fill("EmailAddress")
    page.get_by_label("Remove row 3").check()
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_role("status").first).to_contain_text("Field mapping of")
    expect(page.locator("table.mapping")).to_contain_text("EmailAddress")
    rows = list(DestinationMapping.objects.filter(destination=hook).values_list("from_field", "to"))
    assert rows == [("email", "EmailAddress"), ("job_level", "JobLevel"), ("first_name", "FirstName")]
    assert anonymous.errors == []
