"""The delivery engine with the webhook destination, over real HTTP to a local receiver.

Deliveries are written with the acceptance, posted signed, retried with backoff, refused leads rejected,
failing destinations paused and probed, and no delivery is ever recorded as delivered twice.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connections
from django.utils import timezone
from standardwebhooks import Webhook

from leadgate.delivery.engine import claim, prepare
from leadgate.delivery.models import Delivery, DeliveryAttempt, Destination, Exchange, StatusCallback
from leadgate.delivery.secrets import SecretUnreadable
from leadgate.leads.models import LeadEvent
from leadgate.leads.review import approve_leads
from leadgate.leads.services import process_leads, reject_leads, reprocess_leads, summary
from leadgate.lib.http import Session, Timeouts
from leadgate.lib.tokens import new_webhook_secret
from tests.conftest import HOOK_PATH, good_lead
from tests.deliveries import deliver, make_due
from tests.receiver import Receiver, Reply


def _verified(destination, post):
    return Webhook(destination.secret()).verify(post.body, post.headers)


@pytest.mark.django_db
def test_accepting_a_lead_writes_its_delivery_and_the_worker_posts_it_signed(summit, hook, receiver):
    [accepted, rejected] = process_leads(summit, [good_lead(), good_lead(email="x@y", first_name="Bo")])
    assert (accepted.status, rejected.status) == ("accepted", "rejected")
    delivery = Delivery.objects.get()
    assert (delivery.lead_id, delivery.destination_id, delivery.state) == (accepted.pk, hook.pk, "pending")
    assert receiver.received == []  # intake only writes the row

    report = deliver()

    assert (report.delivered, report.retrying) == (1, 0)
    [post] = receiver.received
    assert (post.method, post.path) == ("POST", HOOK_PATH)
    assert post.headers["webhook-id"] == delivery.message_id
    payload = _verified(hook, post)
    assert set(payload) == {"lead_id", "source", "status", "submitted_at", "fields"}
    assert (payload["lead_id"], payload["source"], payload["status"]) == (
        accepted.lead_id,
        "data-summit-2026",
        "accepted",
    )
    # The example's mapping: email → Email, job_level → JobLevel through its list mapper, a static value.
    assert payload["fields"] == {
        "Email": "ann.lee@acme-corp.com",
        "JobLevel": "Executive",
        "LeadSource": "Data Summit 2026",
    }
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status, delivery.claim) == (
        "delivered",
        1,
        200,
        "",
    )
    attempt = DeliveryAttempt.objects.get()
    [exchange] = attempt.exchanges.all()
    assert (attempt.verdict, exchange.status, exchange.method) == ("delivered", 200, "POST")
    assert exchange.request_headers["webhook-id"] == delivery.message_id
    assert json.loads(exchange.request_body)["lead_id"] == accepted.lead_id
    assert summary(summit)["deliveries"] == {
        "pending": 0,
        "delivered": 1,
        "retrying": 0,
        "dead": 0,
        "rejected": 0,
    }


@pytest.mark.django_db
def test_the_secret_is_encrypted_at_rest_and_never_logged(hook, summit, receiver):
    secret = hook.secret()
    assert secret.startswith("whsec_")
    assert secret not in hook.secret_encrypted
    process_leads(summit, [good_lead()])
    deliver()
    for exchange in Exchange.objects.all():
        assert secret not in json.dumps([exchange.request_headers, exchange.request_body, exchange.url])


@pytest.mark.django_db
def test_a_secret_key_change_makes_the_secret_unreadable_with_a_clear_reason(hook, settings):
    settings.SECRET_KEY = "another-key-entirely-" * 3
    with pytest.raises(SecretUnreadable, match="enter it again"):
        Destination.objects.get(pk=hook.pk).secret()
    with Session() as session:
        assert "enter it again" in prepare(hook, session).problem


@pytest.mark.django_db
def test_rotating_the_secret_key_with_a_fallback_keeps_secrets_readable(hook, settings):
    secret = hook.secret()
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-brand-new-secret-key-" * 3, [old]
    assert Destination.objects.get(pk=hook.pk).secret() == secret


@pytest.mark.django_db
def test_a_server_error_is_retried_with_backoff_then_delivered(summit, hook, receiver):
    receiver.script(Reply(503, b"maintenance"))
    process_leads(summit, [good_lead()])
    before = timezone.now()

    report = deliver()

    assert (report.delivered, report.retrying) == (0, 1)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("retrying", 1, 503)
    assert "HTTP 503" in delivery.last_error and "maintenance" in delivery.last_error
    assert (
        before + dt.timedelta(seconds=35)
        <= delivery.next_attempt_at
        <= timezone.now() + dt.timedelta(seconds=55)
    )
    assert deliver().attempted == 0  # not due yet

    make_due()
    assert deliver().delivered == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("delivered", 2, "")
    assert [a.verdict for a in DeliveryAttempt.objects.order_by("number")] == ["retry", "delivered"]
    assert len({post.headers["webhook-id"] for post in receiver.received}) == 1  # the same id each time


@pytest.mark.django_db
def test_retry_after_is_honoured(summit, hook, receiver):
    receiver.script(Reply(429, b"slow down", headers={"Retry-After": "3600"}))
    process_leads(summit, [good_lead()])
    deliver()
    delivery = Delivery.objects.get()
    assert delivery.state == "retrying"
    assert delivery.next_attempt_at >= timezone.now() + dt.timedelta(minutes=59)


@pytest.mark.django_db
def test_after_the_last_attempt_the_delivery_is_dead(summit, hook, receiver, settings):
    settings.LEADGATE_DELIVERY_MAX_ATTEMPTS = 3
    settings.LEADGATE_DELIVERY_PAUSE_AFTER = 100
    receiver.default = Reply(500, b"broken")
    process_leads(summit, [good_lead()])
    for _ in range(3):
        make_due()
        deliver()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("dead", 3)
    assert delivery.last_error.startswith("gave up after 3 attempts; last: HTTP 500")
    make_due()
    assert deliver().attempted == 0
    assert summary(summit)["deliveries"]["dead"] == 1


@pytest.mark.django_db
def test_a_refusal_rejects_the_lead_with_the_receivers_reason(summit, hook, receiver):
    receiver.script(Reply(422, b'{"error": "Email domain is on our blocklist"}'))
    [lead] = process_leads(summit, [good_lead()])

    report = deliver()

    assert report.refused == 1
    delivery = Delivery.objects.get()
    assert delivery.state == "rejected"
    lead.refresh_from_db()
    assert (lead.status, lead.disposition_code) == ("rejected", "REJECT_LEAD_DESTINATION")
    assert lead.custom_reason.startswith(f"{hook}: HTTP 422")
    assert "blocklist" in lead.custom_reason
    event = LeadEvent.objects.filter(lead=lead).last()
    assert (event.kind, event.actor, event.code_after) == (
        "rejected",
        "destination crm_webhook",
        "REJECT_LEAD_DESTINATION",
    )

    # Fixed and accepted again, the lead is delivered afresh.
    reprocess_leads(summit, [lead.lead_id], edits={lead.lead_id: {"first_name": "Anne"}})
    lead.refresh_from_db()
    assert lead.status == "accepted"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 0)
    assert deliver().delivered == 1


@pytest.mark.django_db
def test_a_lead_rejected_before_its_delivery_is_withdrawn(summit, hook, receiver):
    [lead] = process_leads(summit, [good_lead()])
    assert Delivery.objects.count() == 1
    reject_leads(summit, [lead.lead_id], "Competitor")
    assert not Delivery.objects.exists()
    assert deliver().attempted == 0
    assert receiver.received == []


@pytest.mark.django_db
def test_held_leads_are_delivered_once_approved(summit, hook, receiver):
    summit.review = True
    summit.save()
    [lead] = process_leads(summit, [good_lead()])
    assert lead.status == "in_review"
    assert not Delivery.objects.exists()
    approve_leads(summit, [lead.lead_id])
    assert deliver().delivered == 1


@pytest.mark.django_db
def test_a_disabled_destination_holds_its_deliveries_until_enabled(summit, hook, receiver):
    hook.enabled = False
    hook.save()
    process_leads(summit, [good_lead()])
    assert Delivery.objects.get().state == "pending"
    assert deliver().attempted == 0
    assert receiver.received == []
    hook.enabled = True
    hook.save()
    assert deliver().delivered == 1


@pytest.mark.django_db
def test_a_detached_destination_gets_nothing_queued(summit, hook):
    summit.destinations.remove(hook)
    process_leads(summit, [good_lead()])
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_failing_destination_pauses_then_a_probe_resumes_it(summit, hook, receiver, settings):
    settings.LEADGATE_DELIVERY_PAUSE_AFTER = 3
    receiver.default = Reply(500, b"down")
    process_leads(summit, [good_lead(email=f"p{i}@acme-corp.com") for i in range(5)])

    deliver()

    hook.refresh_from_db()
    assert hook.failures_in_a_row >= 3  # one request per lead, all failed, until the pause
    assert hook.paused_until is not None and hook.paused_until > timezone.now()
    assert "HTTP 500" in hook.pause_reason
    make_due()
    assert deliver().attempted == 0  # paused: nothing is posted, no attempt spent

    # The pause ends: exactly one delivery is posted as a probe; it succeeds and the rest follow.
    receiver.default = Reply(200)
    Destination.objects.filter(pk=hook.pk).update(paused_until=timezone.now() - dt.timedelta(seconds=1))
    first = deliver()
    hook.refresh_from_db()
    assert (hook.failures_in_a_row, hook.paused_until) == (0, None)
    assert first.delivered + deliver().delivered == 5
    assert Delivery.objects.filter(state="delivered").count() == 5


@pytest.mark.django_db
def test_a_failed_probe_pauses_longer(summit, hook, receiver, settings):
    settings.LEADGATE_DELIVERY_PAUSE_AFTER = 2
    receiver.default = Reply(500, b"down")
    process_leads(summit, [good_lead(email=f"q{i}@acme-corp.com") for i in range(3)])
    deliver()
    hook.refresh_from_db()
    first_pause = hook.paused_until - timezone.now()
    Destination.objects.filter(pk=hook.pk).update(paused_until=timezone.now() - dt.timedelta(seconds=1))
    make_due()
    assert deliver().attempted == 1  # the probe only
    hook.refresh_from_db()
    assert hook.paused_until - timezone.now() > first_pause


@pytest.mark.django_db
def test_one_failing_destination_never_stalls_another(summit, hook, receiver, settings):
    settings.LEADGATE_DELIVERY_PAUSE_AFTER = 2
    healthy = Receiver()
    try:
        other = Destination.objects.create(key="backup", kind="webhook", url=healthy.url + "/in")
        other.set_secret(new_webhook_secret())
        other.save()
        summit.destinations.add(other)
        receiver.default = Reply(500, b"down")
        process_leads(summit, [good_lead(email=f"r{i}@acme-corp.com") for i in range(4)])

        deliver()

        assert Delivery.objects.filter(destination=other, state="delivered").count() == 4
        assert not Delivery.objects.filter(destination=hook, state="delivered").exists()
        hook.refresh_from_db()
        assert hook.paused_until is not None  # paused, while the other went on
    finally:
        healthy.stop()


@pytest.mark.django_db
def test_a_slow_receiver_times_out_and_is_retried(summit, hook, receiver):
    receiver.script(Reply(200, delay=2.0))
    process_leads(summit, [good_lead()])
    deliver(timeouts=Timeouts(connect=1, read=0.5, total=1))
    delivery = Delivery.objects.get()
    assert delivery.state == "retrying"
    assert delivery.last_error.startswith("timeout:")


@pytest.mark.django_db
def test_an_expired_claim_is_claimed_again_and_a_late_answer_is_not_recorded(summit, hook, receiver):
    """A worker that stalls past its lease: another claims and delivers; the first one's answer is dropped."""
    process_leads(summit, [good_lead()])
    with Session() as session:
        prepared = prepare(hook, session)
        [stale] = claim(prepared, 1, 1, 1)
        Delivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))  # lease over
        assert deliver().delivered == 1
        from leadgate.delivery.engine import Round, record

        late = prepared.transport.send(stale.leads)
        report = Round()
        record([(stale, late)], report)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("delivered", 1)
    assert DeliveryAttempt.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_post_each_delivery_once(summit, hook, receiver):
    if connections["default"].vendor != "postgresql":
        pytest.skip("concurrent workers share one in-memory SQLite here; the fault test runs them on a file")
    receiver.default = Reply(200, delay=0.01)
    process_leads(summit, [good_lead(email=f"w{i}@acme-corp.com") for i in range(60)])
    errors = []

    def work():
        try:
            deliver()
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ids = [post.headers["webhook-id"] for post in receiver.received]
    assert len(ids) == len(set(ids)) == 60
    assert Delivery.objects.filter(state="delivered").count() == 60
    assert DeliveryAttempt.objects.count() == 60


@pytest.mark.django_db
def test_status_callbacks_and_deliveries_are_written_with_the_change(summit, hook, receiver):
    summit.callback_url = receiver.url + "/status"
    summit.save()
    process_leads(summit, [good_lead()])
    assert (StatusCallback.objects.count(), Delivery.objects.count()) == (1, 1)


@pytest.mark.django_db
def test_redelivering_a_lead_posts_it_again_with_the_same_id_and_says_who_asked(summit, hook, receiver):
    from leadgate.delivery.services import redeliver
    from leadgate.leads.services import Actor

    [lead] = process_leads(summit, [good_lead()])
    deliver()
    redeliver(lead, hook, actor=Actor("web ann"))
    assert Delivery.objects.get().state == "pending"
    assert deliver().delivered == 1
    first, second = (post.headers["webhook-id"] for post in receiver.received)
    assert first == second
    event = LeadEvent.objects.filter(lead=lead, kind="redelivered").get()
    assert (event.actor, event.note) == ("web ann", f"to {hook}")
    reject_leads(summit, [lead.lead_id], "Duplicate contact")
    lead.refresh_from_db()
    with pytest.raises(ValueError, match="only accepted leads"):
        redeliver(lead, hook)


@pytest.mark.django_db
def test_an_edited_accepted_lead_is_posted_again_with_its_new_values(summit, hook, receiver):
    [lead] = process_leads(summit, [good_lead()])
    deliver()
    reprocess_leads(summit, [lead.lead_id], edits={lead.lead_id: {"email": "ann.lee@acme-group.com"}})
    assert Delivery.objects.get().state == "pending"
    assert deliver().delivered == 1
    first, second = (json.loads(post.body) for post in receiver.received)
    assert (first["fields"]["Email"], second["fields"]["Email"]) == (
        "ann.lee@acme-corp.com",
        "ann.lee@acme-group.com",
    )
    reprocess_leads(summit, [lead.lead_id])  # decided again, nothing changed: nothing to post
    assert Delivery.objects.get().state == "delivered"


@pytest.mark.django_db
def test_an_upload_that_updates_accepted_leads_posts_them_again(summit, hook, receiver, tmp_path):
    from leadgate.files.uploads import upload_file

    [lead] = process_leads(summit, [good_lead()])
    deliver()
    path = tmp_path / "fix.csv"
    path.write_text(f"LeadID,first_name\n{lead.lead_id},Annabel\n", encoding="utf-8")
    upload_file(summit, path, update_accepted=True)
    assert Delivery.objects.get().state == "pending"
    assert deliver().delivered == 1
    assert json.loads(receiver.received[-1].body)["lead_id"] == lead.lead_id


@pytest.mark.django_db
def test_attaching_detaching_and_deleting_destinations_take_effect_for_the_next_lead(summit, hook):
    other = Destination.objects.create(key="backup", kind="webhook", url="https://example.com/in")
    process_leads(summit, [good_lead()])  # compiles the source with its one destination
    summit.destinations.add(other)
    process_leads(summit, [good_lead(email="bo@acme-corp.com")])
    assert Delivery.objects.filter(destination=other).count() == 1
    summit.destinations.remove(hook)
    [lead] = process_leads(summit, [good_lead(email="cy@acme-corp.com")])
    assert list(Delivery.objects.filter(lead=lead).values_list("destination__key", flat=True)) == ["backup"]
    other.delete()
    [lead] = process_leads(summit, [good_lead(email="di@acme-corp.com")])  # no delivery to a deleted one
    assert lead.status == "accepted" and not Delivery.objects.filter(lead=lead).exists()
