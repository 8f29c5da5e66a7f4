"""Deliveries on the Summary (counters by destination, health, the reconciliation panel) and on a lead's
page (attempts with their exchanges, Redeliver), after the real engine posted to a local receiver."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from leadgate.delivery.models import Delivery, Destination
from leadgate.leads.models import Lead
from leadgate.leads.services import process_leads
from leadgate.lib.tokens import new_webhook_secret
from leadgate.web import stats
from tests.conftest import HOOK_PATH, good_lead
from tests.deliveries import deliver
from tests.receiver import Reply

from .conftest import signed_in

SLUG = "data-summit-2026"
SUMMARY = f"/sources/{SLUG}/"
COUNTERS = f"/sources/{SLUG}/counters"


def _accept(summit, name):
    [lead] = process_leads(summit, [good_lead(email=f"{name}@acme-corp.com")])
    assert lead.status == "accepted"
    return lead


@pytest.fixture
def delivered(summit, hook, receiver, settings):
    """Three leads delivered, one retrying, one dead, one refused by the CRM (so rejected), one rejected
    by the source's rules. Each step posts on its own so that which lead gets which answer is certain."""
    leads = {"delivered": [_accept(summit, f"ok{i}") for i in range(3)]}
    receiver.script(*[Reply(201, f'{{"id": "crm-{i}"}}'.encode()) for i in range(3)])
    assert deliver().delivered == 3
    leads["retrying"] = _accept(summit, "slow")
    receiver.default = Reply(503, b"<script>alert(1)</script> try later")
    assert deliver().retrying == 1
    settings.LEADGATE_DELIVERY_MAX_ATTEMPTS = 1
    leads["dead"] = _accept(summit, "gone")
    assert deliver().dead == 1
    leads["refused"] = _accept(summit, "refused")
    receiver.default = Reply(422, b'{"error": "Email domain is blocked"}')
    assert deliver().refused == 1
    [leads["free_mail"]] = process_leads(summit, [good_lead(email="ann@gmail.com")])
    return leads


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _number(body: str, attribute: str, name: str) -> int:
    match = re.search(rf'{attribute}="{name}">([\d,]+)<', body)
    assert match, (attribute, name)
    return int(match.group(1).replace(",", ""))


def test_the_summary_counts_deliveries_by_state_and_destination(delivered, viewer):
    response = viewer.get(SUMMARY)
    body = _text(response)
    counts = {
        state: _number(body, "data-delivery-counter", state)
        for state in ("pending", "delivered", "retrying", "dead", "rejected")
    }
    assert counts == {"pending": 0, "delivered": 3, "retrying": 1, "dead": 1, "rejected": 1}
    [line] = response.context["counts"]["destinations"]
    assert line.destination.key == "crm_webhook" and line.attached
    assert line.counts == {"pending": 0, "delivered": 3, "retrying": 1, "dead": 1, "rejected": 1}
    row = re.search(r'<tr data-destination="crm_webhook">.*?</tr>', body).group(0)
    assert [int(n) for n in re.findall(r'data-state="\w+">(\d+)<', row)] == [0, 3, 1, 1, 1]
    assert 'data-health="delivering"' in row and "Delivering" in row


def test_the_reconciliation_says_what_is_off_and_links_to_it(delivered, viewer):
    response = viewer.get(SUMMARY)
    r = response.context["counts"]["reconciliation"]
    assert (r.received, r.processing, r.decided, r.accepted, r.rejected) == (7, 0, 7, 5, 2)
    assert (r.delivered, r.waiting, r.dead, r.missing, r.refused) == (3, 1, 1, 0, 1)
    assert not r.reconciled
    assert [gap.key for gap in r.gaps] == ["waiting", "dead", "refused"]
    body = _text(response)
    assert 'data-reconciled="no"' in body
    for name, n in [("received", 7), ("decided", 7), ("accepted", 5), ("delivered", 3)]:
        assert _number(body, "data-reconcile", name) == n, name
    assert "3 of 5 accepted leads are in every destination." in body
    assert "1 accepted lead on the way: a delivery is pending or retrying." in body
    assert "1 accepted lead not delivered: a destination gave up after the last attempt." in body
    assert "1 lead refused by a destination, and so rejected." in body
    dead = re.search(r'<li data-gap="dead">.*?</li>', body).group(0)
    assert f'href="/sources/{SLUG}/postout/"' in dead
    refused = re.search(r'<li data-gap="refused">.*?</li>', body).group(0)
    assert f'href="/sources/{SLUG}/leads/?code=REJECT_LEAD_DESTINATION"' in refused
    # The Leads tab the link opens lists exactly the refused lead.
    listed = viewer.get(f"/sources/{SLUG}/leads/", {"code": "REJECT_LEAD_DESTINATION"}).context["rows"]
    assert [row["lead"].lead_id for row in listed] == [delivered["refused"].lead_id]


def test_when_every_accepted_lead_is_delivered_one_sentence_says_so(summit, hook, viewer):
    for i in range(2):
        _accept(summit, f"p{i}")
    deliver()
    body = _text(viewer.get(COUNTERS))
    assert "All 2 accepted leads are in every destination." in body
    assert 'data-reconciled="yes"' in body and "data-gap=" not in body
    assert stats._verdict(1234, 1234, 1, 1) == "All 1,234 accepted leads are in every destination."
    assert stats._verdict(1, 1, 1, 1) == "The accepted lead is in every destination."


def test_a_destination_added_later_shows_the_missing_leads_until_redelivered(
    summit, hook, receiver, manager, viewer
):
    leads = [_accept(summit, f"p{i}") for i in range(2)]
    deliver()
    second = Destination.objects.create(key="crm_two", kind="webhook", url=receiver.url + "/two")
    second.set_secret(new_webhook_secret())
    second.save()
    summit.destinations.add(second)

    r = viewer.get(COUNTERS).context["counts"]["reconciliation"]
    assert (r.destinations, r.accepted, r.delivered, r.missing) == (2, 2, 0, 2)
    assert [gap.key for gap in r.gaps] == ["missing"]
    assert "0 of 2 accepted leads are in every destination." in _text(viewer.get(COUNTERS))

    for lead in leads:
        response = manager.post(f"/sources/{SLUG}/leads/{lead.lead_id}/redeliver", {"destination": "crm_two"})
        assert response.status_code == 302
        assert response["Location"] == f"/sources/{SLUG}/leads/{lead.lead_id}/#deliveries"
    r = viewer.get(COUNTERS).context["counts"]["reconciliation"]
    assert (r.waiting, r.missing) == (2, 0)
    deliver()
    r = viewer.get(COUNTERS).context["counts"]["reconciliation"]
    assert (r.delivered, r.reconciled) == (2, True)
    assert sorted(post.path for post in receiver.received) == [HOOK_PATH] * 2 + ["/two"] * 2


def test_a_paused_or_disabled_destination_says_so_with_its_reason(summit, hook, viewer):
    _accept(summit, "p0")
    until = timezone.now() + dt.timedelta(minutes=10)
    Destination.objects.filter(pk=hook.pk).update(
        failures_in_a_row=10, paused_until=until, pause_reason="HTTP 503 <b>Service Unavailable</b>"
    )
    body = _text(viewer.get(COUNTERS))
    row = re.search(r'<tr data-destination="crm_webhook">.*?</tr>', body).group(0)
    assert 'data-health="paused"' in row
    assert "Paused" in row and "until" in row and "10 failed attempts in a row" in row
    assert "HTTP 503 &lt;b&gt;Service Unavailable&lt;/b&gt;" in row
    Destination.objects.filter(pk=hook.pk).update(enabled=False, paused_until=None)
    body = _text(viewer.get(COUNTERS))
    assert 'data-health="disabled"' in body
    assert "Every destination of this source is disabled: nothing is posted." in body


def test_a_source_without_destinations_says_its_leads_stay(summit, viewer):
    summit.destinations.clear()
    _accept(summit, "p0")
    body = _text(viewer.get(COUNTERS))
    assert "This source posts to no destination: its accepted leads stay in leadgate." in body
    assert "data-destination=" not in body
    assert f'href="/sources/{SLUG}/postout/"' in body


def test_the_counters_partial_polls_the_deliveries_too(delivered, viewer, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        response = viewer.get(COUNTERS, headers={"HX-Request": "true"})
    body = _text(response)
    assert "<html" not in body
    assert 'data-delivery-counter="dead">1<' in body and 'data-reconcile="delivered">3<' in body


def _lead_page(client, lead):
    return client.get(f"/sources/{SLUG}/leads/{lead.lead_id}/")


def test_a_lead_page_shows_its_delivery_attempts_and_exchanges_escaped(delivered, manager):
    lead = delivered["retrying"]
    response = _lead_page(manager, lead)
    body = _text(response)
    [row] = response.context["deliveries"]
    assert row["delivery"].state == "retrying" and len(row["attempts"]) == 1
    section = re.search(r'<section class="panel" id="deliveries".*?</section>', body).group(0)
    assert "Retrying" in section and "Attempt 1" in section and "Retry" in section
    assert "HTTP 503" in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt; try later" in section  # the receiver's answer, escaped
    assert "<script>alert(1)</script>" not in body
    assert lead.lead_id in section  # the request body, as posted
    assert '<details class="attempts">' in section  # collapsed until opened
    assert 'name="destination" value="crm_webhook"' in section and "Redeliver" in section

    ok = _text(_lead_page(manager, delivered["delivered"][0]))
    assert re.search(r"<dt>Delivered</dt><dd>\d", ok)


def test_viewers_see_the_verdicts_but_not_the_bodies_nor_the_button(delivered, viewer):
    body = _text(_lead_page(viewer, delivered["retrying"]))
    section = re.search(r'<section class="panel" id="deliveries".*?</section>', body).group(0)
    assert "Attempt 1" in section and "HTTP 503" in section
    assert "slow@acme-corp.com" not in section  # the posted values are personal data
    assert "Redeliver" not in section and "csrfmiddlewaretoken" not in section


def test_redeliver_queues_an_accepted_lead_again_with_the_same_webhook_id(delivered, manager, receiver):
    lead = delivered["dead"]
    delivery = Delivery.objects.get(lead=lead)
    assert delivery.state == "dead"
    response = manager.post(
        f"/sources/{SLUG}/leads/{lead.lead_id}/redeliver", {"destination": "crm_webhook"}, follow=True
    )
    assert "Queued for crm_webhook again" in _text(response)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 0)
    receiver.default = Reply(200)
    receiver.received.clear()
    deliver()
    [post] = receiver.received
    assert post.headers["webhook-id"] == delivery.message_id
    delivery.refresh_from_db()
    assert delivery.state == "delivered"


def test_redeliver_is_for_managers_with_a_csrf_token_and_accepted_leads_only(delivered, people, viewer):
    lead = delivered["dead"]
    path = f"/sources/{SLUG}/leads/{lead.lead_id}/redeliver"
    assert viewer.post(path, {"destination": "crm_webhook"}).status_code == 403
    response = Client().post(path, {"destination": "crm_webhook"})
    assert response.status_code == 302 and response["Location"].startswith("/signin/")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people["manager"])
    assert strict.post(path, {"destination": "crm_webhook"}).status_code == 403
    assert Delivery.objects.get(lead=lead).state == "dead"

    manager = signed_in(people["manager"])
    assert manager.post(path, {"destination": "nope"}).status_code == 404
    assert manager.get(path).status_code == 405

    refused = delivered["refused"]
    assert Lead.objects.get(pk=refused.pk).status == "rejected"
    response = manager.post(
        f"/sources/{SLUG}/leads/{refused.lead_id}/redeliver", {"destination": "crm_webhook"}, follow=True
    )
    assert "Only accepted leads are delivered" in _text(response)
    assert Delivery.objects.get(lead=refused).state == "rejected"
    page = _text(_lead_page(manager, refused))
    section = re.search(r'<section class="panel" id="deliveries".*?</section>', page).group(0)
    assert "Redeliver" not in section and "Only accepted leads are delivered." in section


def test_a_lead_without_a_delivery_to_an_attached_destination_offers_todeliver(summit, hook, manager):
    lead = _accept(summit, "p0")
    Delivery.objects.all().delete()
    body = _text(_lead_page(manager, lead))
    section = re.search(r'<section class="panel" id="deliveries".*?</section>', body).group(0)
    assert "Not queued" in section and ">Deliver</button>" in section
    manager.post(f"/sources/{SLUG}/leads/{lead.lead_id}/redeliver", {"destination": "crm_webhook"})
    assert Delivery.objects.get(lead=lead).state == "pending"
