"""Source → Post-out and the Destinations pages: health, counts, tests over real HTTP, retry, mapping, roles.

The SPEC example's webhook destination is pointed at a real local receiver; leads are delivered by the real
engine, so the log, the dead letters and the test answers are what people would see.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from leadgate.delivery.models import Delivery, DeliveryAttempt, Destination, DestinationMapping, Exchange
from leadgate.leads.services import process_leads
from leadgate.lib.tokens import new_webhook_secret
from leadgate.sources.models import Source
from tests.conftest import good_lead
from tests.deliveries import deliver, make_due
from tests.receiver import Reply

SLUG = "data-summit-2026"
TAB = f"/sources/{SLUG}/postout/"
KEY = "crm_webhook"
SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtdGVzdHMtb25seQ=="


@pytest.fixture
def hook_secret():
    """A known secret, to look for on every page."""
    return SECRET


@pytest.fixture
def delivered(hook, summit, receiver):
    """Two leads delivered by the engine: one attempt each, with its exchange."""
    process_leads(summit, [good_lead(), good_lead(email="bo@acme-corp.com")])
    deliver()
    assert set(Delivery.objects.values_list("state", flat=True)) == {"delivered"}
    return summit


@pytest.fixture
def dead(hook, summit, receiver, settings):
    """Three leads whose only allowed attempt failed (HTTP 503): dead letters."""
    settings.LEADGATE_DELIVERY_MAX_ATTEMPTS = 1
    receiver.default = Reply(503, b"down for maintenance")
    process_leads(summit, [good_lead(email=f"dead{i}@acme-corp.com") for i in range(3)])
    deliver()
    assert Delivery.objects.filter(state="dead").count() == 3
    receiver.default = Reply()
    return summit


def _all_pages(client):
    for path in (TAB, "/destinations/", f"/destinations/{KEY}/"):
        yield path, client.get(path).content.decode()


# --- pages and roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["viewer", "manager", "admin"])
def test_everyone_reads_the_postout_tab_and_the_destination_pages(request, hook, persona):
    client = request.getfixturevalue(persona)
    for path, page in _all_pages(client):
        assert "crm_webhook" in page, path
    page = client.get(TAB).content.decode()
    assert 'aria-current="page">Post-out' in page
    assert "This page is not built yet" not in page


def test_the_tab_shows_kind_host_only_url_health_counts_and_unmapped_values(viewer, delivered, hook):
    response = viewer.get(TAB)
    page = response.content.decode()
    [card] = response.context["cards"]
    assert card["destination"] == hook
    assert card["counts"] == {"pending": 0, "delivered": 2, "retrying": 0, "dead": 0, "rejected": 0}
    assert card["health"].state == "delivering"
    assert "Webhook" in page and "Delivering" in page
    # The path may hold a token: only the host is shown, on the tab and in the log's exchanges.
    assert card["url"] == f"http://127.0.0.1:{hook.url.split(':')[2].split('/')[0]}/…"
    assert "T0K3N" not in page
    # The example's job_level mapper lacks entries for some picklist values: the warning names them.
    assert card["warnings"] and "job_level_to_crm" in card["warnings"][0]
    assert "Unmapped list values" in page


def test_the_delivery_log_links_each_attempt_to_its_lead_and_shows_the_exchanges(manager, delivered):
    response = manager.get(TAB)
    [card] = response.context["cards"]
    assert len(card["log"]) == 2
    row = card["log"][0]
    assert (row.attempt.number, row.attempt.verdict) == (1, "delivered")
    page = response.content.decode()
    assert f'href="/sources/{SLUG}/leads/{row.lead_id}/"' in page
    [exchange] = row.exchanges
    assert (exchange.method, exchange.status) == ("POST", 200)
    assert '"lead_id"' in exchange.request_body  # JSON bodies are indented for reading
    assert "webhook-signature" in page


def test_viewers_see_the_log_but_not_the_bodies_nor_any_action(viewer, delivered, dead):
    page = viewer.get(TAB).content.decode()
    assert "ann.lee@acme-corp.com" not in page  # the request body carries the lead's values
    assert "Test connection" not in page and "Send test lead" not in page
    assert 'name="message"' not in page and "Retry all dead" not in page
    assert "Attach" not in page and "Stop posting" not in page
    assert "dead0@acme-corp.com" not in page
    assert "down for maintenance" in page or "503" in page  # the dead letters' last error is shown


def test_a_paused_destination_says_until_when_why_and_how_many_failures(viewer, hook):
    Destination.objects.filter(pk=hook.pk).update(
        paused_until=timezone.now() + dt.timedelta(minutes=5),
        pause_reason="HTTP 503 Service Unavailable",
        failures_in_a_row=10,
    )
    page = viewer.get(TAB).content.decode()
    assert "Paused until" in page
    assert "HTTP 503 Service Unavailable" in page
    assert "10 failed attempts in a row" in page
    assert "Paused until" in viewer.get("/destinations/").content.decode()


@pytest.mark.parametrize(
    "path",
    [
        f"{TAB}{KEY}/test",
        f"{TAB}{KEY}/test-lead",
        f"{TAB}{KEY}/retry",
        f"{TAB}{KEY}/detach",
        f"{TAB}attach",
        f"/destinations/{KEY}/test",
        f"/destinations/{KEY}/test-lead",
    ],
)
def test_viewers_may_not_act(viewer, hook, receiver, path):
    assert viewer.post(path, {"destination": KEY, "all": "1"}).status_code == 403
    assert receiver.received == []
    assert Source.objects.get(slug=SLUG).destinations.filter(key=KEY).exists()


@pytest.mark.parametrize("persona", ["viewer", "manager"])
def test_only_admins_create_and_edit_destinations(request, hook, persona):
    client = request.getfixturevalue(persona)
    for path in (
        "/destinations/new?kind=webhook",
        f"/destinations/{KEY}/edit",
        f"/destinations/{KEY}/mapping",
    ):
        assert client.get(path).status_code == 403, path
        assert client.post(path, {"key": "x", "kind": "webhook"}).status_code == 403, path
    assert "New destination" not in client.get("/destinations/").content.decode()


def test_actions_are_posts(manager, hook):
    assert manager.get(f"{TAB}{KEY}/test").status_code == 405
    assert manager.get(f"{TAB}{KEY}/retry").status_code == 405


def test_the_nav_links_to_destinations(viewer, hook):
    page = viewer.get("/destinations/").content.decode()
    assert 'href="/destinations/" aria-current="page">Destinations' in page


# --- Test connection and Send test lead, over real HTTP -------------------------------------------------


def test_test_connection_answers_in_place_with_the_exchange(manager, hook, receiver):
    receiver.default = Reply(200, b"")
    response = manager.post(f"{TAB}{KEY}/test", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert [r.method for r in receiver.received] == ["HEAD"]
    page = response.content.decode()
    assert "<html" not in page  # a fragment for htmx
    assert "OK" in page and "the receiver answers" in page
    assert "HEAD http://127.0.0.1" in page and "HTTP 200" in page
    assert Exchange.objects.filter(destination=hook, purpose="test").count() == 1


def test_send_test_lead_shows_the_request_and_the_response(manager, hook, receiver):
    receiver.default = Reply(200, b'{"id": "crm-42", "note": "<script>alert(1)</script>"}')
    response = manager.post(f"{TAB}{KEY}/test-lead", headers={"HX-Request": "true"})
    page = response.content.decode()
    [post] = receiver.received
    body = json.loads(post.body)
    assert body["lead_id"].startswith("LD-TEST")
    assert body["fields"]["Email"] == "leadgate.test@example.com"
    assert "was accepted" in page
    assert body["lead_id"] in page  # the request body, as sent
    assert "webhook-signature" in page  # its headers
    assert "crm-42" in page  # the response body
    # What the receiver said is shown, never run.
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not Delivery.objects.exists()  # a test lead is not a delivery
    assert Exchange.objects.filter(destination=hook, purpose="test_lead").count() == 1


def test_a_failing_receiver_is_a_failed_check_not_an_error_page(manager, hook, receiver):
    receiver.default = Reply(500, b"boom")
    response = manager.post(f"{TAB}{KEY}/test-lead", headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Failed" in page and "HTTP 500" in page and "boom" in page


def test_without_a_script_the_check_answers_with_the_whole_tab(manager, hook, receiver):
    response = manager.post(f"{TAB}{KEY}/test")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page and "Test connection:" in page and "HEAD http://127.0.0.1" in page


def test_private_addresses_are_refused_unless_allowed(manager, hook, receiver, settings):
    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = False
    response = manager.post(f"{TAB}{KEY}/test", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Failed" in response.content.decode()
    assert receiver.received == []


def test_the_destination_page_has_the_same_checks(manager, hook, receiver):
    response = manager.post(f"/destinations/{KEY}/test-lead", headers={"HX-Request": "true"})
    assert "was accepted" in response.content.decode()
    assert len(receiver.received) == 1


def test_a_destination_not_attached_to_the_source_cannot_be_tested_from_it(manager, hook, receiver):
    Destination.objects.create(key="other", kind="webhook", url=receiver.url)
    assert manager.post(f"{TAB}other/test").status_code == 404
    assert receiver.received == []


# --- dead letters ---------------------------------------------------------------------------------------


def test_dead_letters_are_listed_with_their_last_error(manager, dead):
    response = manager.get(TAB)
    [card] = response.context["cards"]
    assert card["dead_count"] == 3 and len(card["dead"]) == 3
    page = response.content.decode()
    assert "down for maintenance" in page
    assert "Retry all dead (3)" in page


def test_retry_the_ticked_dead_letters_then_they_are_delivered(manager, dead, receiver):
    first, second, third = Delivery.objects.order_by("id")
    response = manager.post(f"{TAB}{KEY}/retry", {"message": [first.message_id, second.message_id]})
    assert response.status_code == 302
    assert response["Location"] == f"{TAB}#dest-{KEY}"
    assert "2 dead deliveries" in manager.get(TAB).content.decode()
    states = dict(Delivery.objects.values_list("message_id", "state"))
    assert (states[first.message_id], states[second.message_id], states[third.message_id]) == (
        "pending",
        "pending",
        "dead",
    )
    make_due()
    deliver()
    first.refresh_from_db()
    assert first.state == "delivered"
    assert DeliveryAttempt.objects.filter(delivery=first).count() == 2


def test_retry_all_dead_takes_only_this_sources_dead_letters(manager, dead, hook, summit):
    other = Source.objects.create(slug="other-event", name="Other event")
    other.destinations.add(hook)
    process_leads(summit, [good_lead(email="elsewhere@acme-corp.com")])
    stranger = Delivery.objects.get(state="pending")
    Delivery.objects.filter(pk=stranger.pk).update(source=other, state="dead")
    response = manager.post(f"{TAB}{KEY}/retry", {"all": "1"})
    assert response.status_code == 302
    assert Delivery.objects.filter(destination=hook, state="pending").count() == 3
    stranger.refresh_from_db()
    assert stranger.state == "dead"


def test_retry_with_nothing_ticked_changes_nothing(manager, dead):
    manager.post(f"{TAB}{KEY}/retry", {})
    assert "Tick the dead letters" in manager.get(TAB).content.decode()
    assert Delivery.objects.filter(state="dead").count() == 3


# --- attach and detach ----------------------------------------------------------------------------------


def test_a_manager_detaches_and_attaches_a_destination(manager, hook, summit):
    response = manager.post(f"{TAB}{KEY}/detach")
    assert response.status_code == 302
    assert not summit.destinations.exists()
    page = manager.get(TAB).content.decode()
    assert "Also post to" in page and "no destination yet" in page
    manager.post(f"{TAB}attach", {"destination": KEY})
    assert list(summit.destinations.values_list("key", flat=True)) == [KEY]


def test_attaching_a_destination_whose_mapping_names_a_missing_field_is_refused(manager, hook, summit):
    picky = Destination.objects.create(key="picky", kind="webhook", url="https://example.com/h")
    DestinationMapping.objects.create(destination=picky, from_field="budget", to="Budget")
    manager.post(f"{TAB}attach", {"destination": "picky"})
    assert not summit.destinations.filter(key="picky").exists()
    assert (
        "source &quot;data-summit-2026&quot; has no field &quot;budget&quot;"
        in manager.get(TAB).content.decode()
    )


# --- create and edit (admins) ---------------------------------------------------------------------------


def test_the_secret_never_appears_on_any_page(admin, delivered, hook, receiver):
    admin.post(f"{TAB}{KEY}/test-lead", headers={"HX-Request": "true"})
    pages = dict(_all_pages(admin))
    pages["edit"] = admin.get(f"/destinations/{KEY}/edit").content.decode()
    pages["mapping"] = admin.get(f"/destinations/{KEY}/mapping").content.decode()
    pages["check"] = admin.post(
        f"/destinations/{KEY}/test-lead", headers={"HX-Request": "true"}
    ).content.decode()
    for name, page in pages.items():
        assert SECRET not in page, name
        assert SECRET.removeprefix("whsec_") not in page, name
    assert "Set (stored encrypted)." in pages["edit"]


def test_an_admin_creates_a_webhook_destination_and_it_gets_a_signing_secret(admin, summit):
    assert "Webhook" in admin.get("/destinations/new").content.decode()
    response = admin.post(
        "/destinations/new?kind=webhook",
        {
            "key": "partner_hook",
            "name": "Partner hook",
            "url": "https://partner.example.com/in",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/destinations/partner_hook/mapping"
    created = Destination.objects.get(key="partner_hook")
    assert (created.kind, created.name, created.enabled, created.config) == (
        "webhook",
        "Partner hook",
        True,
        {},
    )
    assert created.secret().startswith("whsec_")
    assert created.secret() not in admin.get("/destinations/partner_hook/edit").content.decode()


def test_an_admin_creates_a_salesforce_destination_with_its_own_settings(admin, summit):
    response = admin.post(
        "/destinations/new",
        {
            "kind": "salesforce",
            "key": "sfdc",
            "url": "https://acme.my.salesforce.com",
            "enabled": "on",
            "config-client_id": "3MVG9-client",
            "config-secret": "sf-secret-value",
            "config-object": "Lead",
        },
    )
    assert response.status_code == 302
    created = Destination.objects.get(key="sfdc")
    assert created.config["client_id"] == "3MVG9-client"
    assert created.secret() == "sf-secret-value"


def test_a_kind_form_problem_is_shown_and_nothing_is_saved(admin, summit):
    response = admin.post(
        "/destinations/new", {"kind": "salesforce", "key": "sfdc", "url": "https://a.example"}
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()  # the client id
    assert not Destination.objects.filter(key="sfdc").exists()


def test_editing_keeps_the_secret_when_the_field_is_empty_and_bumps_updated_at(admin, hook):
    before = Destination.objects.get(pk=hook.pk).updated_at
    response = admin.post(
        f"/destinations/{KEY}/edit",
        {"name": "CRM hook", "url": hook.url, "enabled": "", "config-secret": ""},
    )
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.name, hook.enabled, hook.key) == ("CRM hook", False, KEY)
    assert hook.secret() == SECRET
    assert hook.updated_at > before


def test_editing_with_a_new_secret_stores_it_and_a_bad_one_is_refused(admin, hook):
    new = new_webhook_secret()
    admin.post(f"/destinations/{KEY}/edit", {"url": hook.url, "enabled": "on", "config-secret": new})
    hook.refresh_from_db()
    assert hook.secret() == new
    response = admin.post(
        f"/destinations/{KEY}/edit", {"url": hook.url, "enabled": "on", "config-secret": "nope!"}
    )
    assert response.status_code == 200
    assert "whsec_" in response.content.decode()
    hook.refresh_from_db()
    assert hook.secret() == new


def test_the_key_is_fixed_once_created(admin, hook):
    admin.post(f"/destinations/{KEY}/edit", {"key": "renamed", "url": hook.url, "enabled": "on"})
    assert Destination.objects.filter(key=KEY).exists()
    assert not Destination.objects.filter(key="renamed").exists()


# --- the field mapping ----------------------------------------------------------------------------------


def _mapping_post(rows):
    data = {"row-TOTAL_FORMS": str(len(rows)), "row-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        for name, value in row.items():
            data[f"row-{i}-{name}"] = value
    return data


def test_the_mapping_editor_shows_the_rows_and_saves_changes(admin, hook):
    page = admin.get(f"/destinations/{KEY}/mapping").content.decode()
    assert 'value="email"' in page and 'value="JobLevel"' in page
    before = Destination.objects.get(pk=hook.pk).updated_at
    response = admin.post(
        f"/destinations/{KEY}/mapping",
        _mapping_post(
            [
                {"from_field": "email", "to": "EmailAddress"},
                {"from_field": "job_level", "to": "JobLevel", "mapper": "job_level_to_crm"},
                {"value": "{first_name} at Data Summit", "to": "Note"},
                {"from_field": "phone", "to": "Phone", "DELETE": "on"},
                {},
            ]
        ),
    )
    assert response.status_code == 302
    rows = list(DestinationMapping.objects.filter(destination=hook).values_list("from_field", "value", "to"))
    assert rows == [
        ("email", "", "EmailAddress"),
        ("job_level", "", "JobLevel"),
        ("", "{first_name} at Data Summit", "Note"),
    ]
    assert DestinationMapping.objects.get(destination=hook, to="JobLevel").mapper.key == "job_level_to_crm"
    assert Destination.objects.get(pk=hook.pk).updated_at > before  # workers reload the mapping


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            {"from_field": "budget", "to": "Budget"},
            "source &quot;data-summit-2026&quot; has no field &quot;budget&quot;",
        ),
        ({"value": "{nickname}", "to": "Hi"}, "has no field &quot;nickname&quot;"),
        (
            {"from_field": "job_level", "to": "JobLevel", "mapper": "no_such_mapper"},
            "Row 2, list mapper: no list mapper",
        ),
        ({"from_field": "email"}, "Row 2: no output field"),
    ],
)
def test_the_mapping_editor_refuses_a_missing_field_or_mapper(admin, hook, row, message):
    before = list(DestinationMapping.objects.filter(destination=hook).values_list("to", flat=True))
    response = admin.post(
        f"/destinations/{KEY}/mapping", _mapping_post([{"from_field": "email", "to": "E"}, row])
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The mapping was not saved" in page
    assert message in page
    assert list(DestinationMapping.objects.filter(destination=hook).values_list("to", flat=True)) == before
