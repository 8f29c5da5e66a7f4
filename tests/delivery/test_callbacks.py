"""Status callbacks: queued with the change, posted signed by the worker, retried, never posted twice."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections import Counter

import pytest
from django.db import connection, connections
from django.utils import timezone
from standardwebhooks import Webhook

from leadgate.delivery import backoff, callbacks
from leadgate.delivery.callbacks import (
    claim_due_callbacks,
    post_callback,
    retry_delay,
    send_due_callbacks,
)
from leadgate.delivery.models import StatusCallback
from leadgate.leads.services import process_leads, reject_leads, reprocess_leads
from leadgate.lib.http import Session
from leadgate.lib.tokens import new_webhook_secret
from leadgate.sources.definition_file import apply_definition
from leadgate.sources.models import Source
from tests.conftest import SPEC_EXAMPLE, good_lead
from tests.receiver import Receiver, Reply

PAYLOAD_KEYS = {"lead_id", "status", "disposition_code", "custom_reason", "timestamp"}


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def _listen(source, receiver, settings, path="/hooks/leadgate"):
    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = True
    source.callback_url = receiver.url + path
    source.callback_secret = new_webhook_secret()
    source.save(update_fields=["callback_url", "callback_secret"])
    return source


@pytest.fixture
def source(summit, receiver, settings):
    """The SPEC example source, with a callback URL on the local receiver."""
    return _listen(summit, receiver, settings)


def _verified(source, received):
    """The payload of one received post, after checking its signature with the official library."""
    return Webhook(source.callback_secret).verify(received.body, received.headers)


def _make_due():
    StatusCallback.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


@pytest.mark.django_db
def test_a_processed_lead_is_posted_signed_with_the_exact_payload(source, receiver):
    [lead] = process_leads(source, [good_lead()])
    row = StatusCallback.objects.get()
    assert (row.lead_id, row.state, row.attempts) == (lead.pk, "pending", 0)
    assert receiver.received == []  # intake only writes the row

    report = send_due_callbacks()

    assert (report.delivered, report.retrying, report.dead) == (1, 0, 0)
    [post] = receiver.received
    assert (post.method, post.path) == ("POST", "/hooks/leadgate")
    assert post.headers["content-type"] == "application/json"
    assert post.headers["webhook-id"] == row.message_id
    payload = _verified(source, post)
    assert set(payload) == PAYLOAD_KEYS
    assert payload["lead_id"] == lead.lead_id
    assert (payload["status"], payload["disposition_code"], payload["custom_reason"]) == (
        "accepted",
        "ACCEPT_LEAD",
        "",
    )
    assert payload["timestamp"] == lead.processed_at.isoformat().replace("+00:00", "Z")
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_status, row.last_error) == ("delivered", 1, 200, "")
    assert row.delivered_at is not None


@pytest.mark.django_db
def test_a_source_without_callback_url_queues_nothing(summit):
    process_leads(summit, [good_lead()])
    assert not StatusCallback.objects.exists()


@pytest.mark.django_db
def test_reprocessing_that_changes_the_status_posts_a_second_callback(source, receiver):
    [lead] = process_leads(source, [good_lead(job_level="Wizard")])
    assert lead.status == "rejected"
    reprocess_leads(source, [lead.lead_id])  # nothing changed: no callback
    assert StatusCallback.objects.count() == 1
    reprocess_leads(source, [lead.lead_id], edits={lead.lead_id: {"job_level": "VP"}})
    reject_leads(source, [lead.lead_id], "Booth visitor asked not to be contacted")
    assert StatusCallback.objects.count() == 3

    send_due_callbacks()

    payloads = [_verified(source, post) for post in receiver.received]
    assert [(p["status"], p["disposition_code"]) for p in payloads] == [
        ("rejected", "REJECT_LEAD_INVALID_LIST_VALUE"),
        ("accepted", "ACCEPT_LEAD"),
        ("rejected", "REJECT_LEAD_MANUAL"),
    ]
    assert 'Job Level: "Wizard"' in payloads[0]["custom_reason"]
    assert payloads[2]["custom_reason"] == "Booth visitor asked not to be contacted"
    assert {p["lead_id"] for p in payloads} == {lead.lead_id}
    assert len({post.headers["webhook-id"] for post in receiver.received}) == 3


@pytest.mark.django_db
def test_a_server_error_is_retried_later_then_delivered(source, receiver):
    receiver.script(Reply(500, b"database is down"), Reply(200))
    process_leads(source, [good_lead()])
    before = timezone.now()

    assert send_due_callbacks().retrying == 1
    row = StatusCallback.objects.get()
    assert (row.state, row.attempts, row.last_status) == ("retrying", 1, 500)
    assert row.last_error == "HTTP 500 Internal Server Error: database is down"
    # First backoff: 45 s ± 20 %.
    assert before + dt.timedelta(seconds=35) < row.next_attempt_at < before + dt.timedelta(seconds=56)
    assert send_due_callbacks().attempted == 0  # not due yet

    _make_due()
    assert send_due_callbacks().delivered == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_status, row.last_error) == ("delivered", 2, 200, "")
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == row.message_id
    assert first.body == second.body
    _verified(source, second)


@pytest.mark.django_db
def test_too_many_requests_waits_as_long_as_retry_after_asks(source, receiver):
    receiver.script(Reply(429, b"slow down", {"retry-after": "3600"}))
    process_leads(source, [good_lead()])
    before = timezone.now()
    send_due_callbacks()
    row = StatusCallback.objects.get()
    assert (row.state, row.last_status) == ("retrying", 429)
    hour = dt.timedelta(hours=1)
    assert before + hour - dt.timedelta(seconds=1) <= row.next_attempt_at <= timezone.now() + hour


@pytest.mark.django_db
def test_retry_after_as_an_http_date(source, receiver):
    when = timezone.now() + dt.timedelta(hours=2)
    receiver.script(Reply(503, b"", {"retry-after": when.strftime("%a, %d %b %Y %H:%M:%S GMT")}))
    process_leads(source, [good_lead()])
    send_due_callbacks()
    row = StatusCallback.objects.get()
    assert abs(row.next_attempt_at - when) < dt.timedelta(seconds=2)


def test_backoff_grows_with_jitter_and_spans_about_a_day():
    first = [retry_delay(1) for _ in range(50)]
    assert all(dt.timedelta(seconds=36) <= d <= dt.timedelta(seconds=54) for d in first)
    assert len(set(first)) > 1  # jitter
    assert retry_delay(5) > retry_delay(4, None) * 1.3
    assert retry_delay(30) <= dt.timedelta(hours=12) * 1.2
    # Twelve attempts: eleven waits between them.
    span = sum((backoff.RETRY_BASE * 2 ** (n - 1) for n in range(1, 11)), backoff.RETRY_CAP)
    assert dt.timedelta(hours=20) < span < dt.timedelta(hours=30)
    # Retry-After lengthens a wait, never shortens it, and is capped.
    assert retry_delay(1, dt.timedelta(seconds=1)) >= dt.timedelta(seconds=36)
    assert retry_delay(1, dt.timedelta(hours=2)) == dt.timedelta(hours=2)
    assert retry_delay(1, dt.timedelta(days=30)) == dt.timedelta(hours=24)


@pytest.mark.django_db
def test_a_slow_receiver_times_out_and_is_retried(source, receiver, settings):
    settings.LEADGATE_HTTP_CONNECT_TIMEOUT = 0.5
    settings.LEADGATE_HTTP_TIMEOUT = 0.5
    receiver.script(Reply(200, delay=3))
    process_leads(source, [good_lead()])
    started = time.monotonic()
    assert send_due_callbacks().retrying == 1
    assert time.monotonic() - started < 2
    row = StatusCallback.objects.get()
    assert (row.state, row.attempts, row.last_status) == ("retrying", 1, None)
    assert row.last_error.startswith("timeout: ")


@pytest.mark.django_db
def test_after_the_last_attempt_the_callback_is_dead(source, receiver, settings):
    settings.LEADGATE_CALLBACK_MAX_ATTEMPTS = 3
    receiver.default = Reply(503, b"maintenance")
    process_leads(source, [good_lead()])
    states = []
    for _ in range(5):
        _make_due()
        send_due_callbacks()
        states.append(StatusCallback.objects.get().state)
    assert states == ["retrying", "retrying", "dead", "dead", "dead"]
    row = StatusCallback.objects.get()
    assert row.attempts == 3 and len(receiver.received) == 3
    assert row.last_error == "gave up after 3 attempts; last: HTTP 503 Service Unavailable: maintenance"


@pytest.mark.django_db
def test_gone_is_dead_at_once(source, receiver):
    receiver.script(Reply(410, b"unsubscribed"))
    process_leads(source, [good_lead()])
    send_due_callbacks()
    row = StatusCallback.objects.get()
    assert (row.state, row.attempts, row.last_status) == ("dead", 1, 410)


@pytest.mark.django_db
@pytest.mark.parametrize("status", [400, 401, 403, 404, 301])
def test_other_refusals_are_retried(source, receiver, status):
    # A receiver answers 401 while its copy of a rotated secret is stale: someone can fix that in time.
    receiver.script(Reply(status, b"", {"location": "https://elsewhere.example/"}))
    process_leads(source, [good_lead()])
    send_due_callbacks()
    row = StatusCallback.objects.get()
    assert (row.state, row.last_status) == ("retrying", status)


@pytest.mark.django_db
def test_a_private_callback_url_is_refused_without_the_setting(source, receiver, settings):
    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = False
    process_leads(source, [good_lead()])
    send_due_callbacks()
    row = StatusCallback.objects.get()
    assert row.state == "retrying"
    assert row.last_error.startswith("destination_refused: ")
    assert receiver.received == []

    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = True
    _make_due()
    send_due_callbacks()
    assert StatusCallback.objects.get().state == "delivered"


@pytest.mark.django_db
def test_neither_the_secret_nor_the_url_path_is_logged(summit, receiver, settings, caplog):
    source = _listen(summit, receiver, settings, path="/hooks/T0KEN-IN-PATH")
    receiver.default = Reply(500, b"nope")
    process_leads(source, [good_lead()])
    with caplog.at_level(logging.DEBUG):
        send_due_callbacks()
        settings.LEADGATE_CALLBACK_MAX_ATTEMPTS = 2
        _make_due()
        send_due_callbacks()
    row = StatusCallback.objects.get()
    assert row.state == "dead"
    assert "status callback" in caplog.text and "dead" in caplog.text
    secret = source.callback_secret.removeprefix("whsec_")
    for text in (caplog.text, row.last_error):
        assert secret not in text
        assert "T0KEN" not in text


@pytest.mark.django_db
def test_the_sources_current_url_and_secret_are_used(source, receiver, settings):
    process_leads(source, [good_lead()])
    source.callback_url = receiver.url + "/moved"
    source.callback_secret = new_webhook_secret()
    source.save()
    send_due_callbacks()
    [post] = receiver.received
    assert post.path == "/moved"
    _verified(source, post)
    assert StatusCallback.objects.get().url == receiver.url + "/moved"


@pytest.mark.django_db
def test_a_removed_callback_url_ends_the_callback(source, receiver):
    process_leads(source, [good_lead()])
    Source.objects.filter(pk=source.pk).update(callback_url="")
    send_due_callbacks()
    row = StatusCallback.objects.get()
    assert (row.state, row.attempts, row.last_error) == ("dead", 0, "the source no longer has a callback URL")
    assert receiver.received == []


@pytest.mark.django_db
def test_a_claim_holds_off_other_senders_and_a_crash_only_delays(source, receiver):
    process_leads(source, [good_lead(email=f"p{i}@acme.io") for i in range(3)])
    claimed = claim_due_callbacks()
    assert len(claimed) == 3
    assert all(row.next_attempt_at >= timezone.now() + callbacks.lease() * 0.9 for row in claimed)
    assert claim_due_callbacks() == []  # a second sender finds nothing
    assert send_due_callbacks().attempted == 0

    # The first sender died without posting: when the lease ends, the rows are due again, nothing is lost.
    _make_due()
    assert send_due_callbacks().delivered == 3
    assert len(receiver.received) == 3


@pytest.mark.django_db
def test_a_sender_whose_claim_was_taken_over_does_not_overwrite_the_row(source, receiver):
    process_leads(source, [good_lead()])
    [row] = claim_due_callbacks()
    StatusCallback.objects.update(next_attempt_at=timezone.now() + dt.timedelta(hours=1))  # someone else's
    with Session() as session:
        post_callback(session, row)
    stored = StatusCallback.objects.get()
    assert (stored.state, stored.attempts) == ("pending", 0)


@pytest.mark.django_db
def test_the_task_sends_what_is_due(source, receiver):
    from leadgate.delivery.tasks import send_status_callbacks

    process_leads(source, [good_lead(email=f"t{i}@acme.io") for i in range(2)])
    assert send_status_callbacks.call() == 2
    assert len(receiver.received) == 2


@pytest.fixture
def pg_source(transactional_db, receiver, settings):
    if connection.vendor != "postgresql":
        pytest.skip("threads need PostgreSQL: SQLite's in-memory test database is one per thread")
    apply_definition(SPEC_EXAMPLE)
    return _listen(Source.objects.get(slug="data-summit-2026"), receiver, settings)


def _in_threads(count, target):
    errors = []
    start = threading.Barrier(count)

    def run():
        try:
            start.wait()
            target()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_concurrent_senders_never_post_the_same_callback_twice(pg_source, receiver):
    receiver.default = Reply(200, delay=0.01)
    process_leads(pg_source, [good_lead(email=f"c{i}@acme.io") for i in range(40)])
    assert StatusCallback.objects.count() == 40

    _in_threads(5, lambda: send_due_callbacks(batch=3))

    posted = Counter(post.headers["webhook-id"] for post in receiver.received)
    assert len(posted) == 40
    assert set(posted.values()) == {1}
    assert StatusCallback.objects.filter(state="delivered", attempts=1).count() == 40


def test_the_workers_delivery_engine_sends_them(pg_source, receiver):
    from leadgate.delivery.models import Destination
    from leadgate.ops.worker import _deliver

    Destination.objects.update(enabled=False)
    process_leads(pg_source, [good_lead()])
    stop = threading.Event()
    engine = threading.Thread(target=_deliver, args=(stop,))
    engine.start()
    try:
        # Posted and recorded, with no delivery in flight beside it (the example's destination is disabled).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not StatusCallback.objects.filter(state="delivered").exists():
            time.sleep(0.05)
        recorded_while_running = StatusCallback.objects.filter(state="delivered").exists()
    finally:
        stop.set()
        engine.join(timeout=30)
    assert recorded_while_running  # not only when the worker stops
    [callback] = receiver.received
    assert json.loads(callback.body)["status"] == "accepted"
    assert StatusCallback.objects.get().state == "delivered"


@pytest.mark.django_db
def test_the_engine_posts_callbacks_on_its_threads(source, receiver):
    from leadgate.delivery.engine import Deliverer

    process_leads(source, [good_lead(email=f"e{i}@acme.io") for i in range(5)])
    deliverer = Deliverer(threads=4)
    try:
        deliverer.run_once()
    finally:
        deliverer.close()
    assert StatusCallback.objects.filter(state="delivered").count() == 5
    assert len({r.headers["webhook-id"] for r in receiver.received if r.path == "/hooks/leadgate"}) == 5
