"""Status callbacks: a source's callback URL hears of every change of a lead's status (issue 3, SPEC §6).

Each change is a StatusCallback row written in the transaction that made the change, so a crash between
deciding a lead and telling the callback URL loses nothing. The workers' delivery engine
(`leadgate.delivery.engine.Deliverer`) claims and posts them on its pool of threads, alongside deliveries
to destinations; `send_due_callbacks` does the same in one thread (``leadgate worker --batch``, tests).

Sending, in short:

- A sender claims a few due rows by pushing their ``next_attempt_at`` forward by a lease, in one short
  transaction (PostgreSQL skips rows another sender has locked; SQLite runs one writer at a time). A sender
  that dies mid-post leaves its rows to come due again when the lease ends: a late retry, never a loss.
- Each post is signed the Standard Webhooks way with the source's current secret, to the source's current
  callback URL, through `leadgate.lib.http` (timeouts, private addresses refused).
- 2xx: delivered. 410 Gone: dead at once (the receiver asked to stop). Anything else — 3xx, 4xx (a receiver
  answers 401 while its copy of a rotated secret is out of date), 5xx, timeouts, refused connections — is
  retried with exponential backoff and jitter, no sooner than a Retry-After asks, until
  LEADGATE_CALLBACK_MAX_ATTEMPTS attempts have failed; then the row is dead.
- The same ``webhook-id`` goes with every attempt, so a receiver drops a repeat (e.g. after a lost lease).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from leadgate.delivery.backoff import retry_delay
from leadgate.delivery.destinations.base import retry_after
from leadgate.delivery.models import StatusCallback
from leadgate.leads.store import insert
from leadgate.lib.http import HttpError, Session, redact_url
from leadgate.lib.ids import ulid
from leadgate.lib.webhooks import signed_headers
from leadgate.sources.models import Source

if TYPE_CHECKING:
    from leadgate.delivery.outbox import ChangedLead

log = logging.getLogger(__name__)

CLAIM_BATCH = 10
# How long one sender call (a task run, a sweep) keeps claiming batches before it hands over.
SEND_BUDGET_SECONDS = 60.0

DUE_STATES = (StatusCallback.State.PENDING, StatusCallback.State.RETRYING)


def callback_payload(lead: ChangedLead, at: dt.datetime) -> dict[str, str]:
    return {
        "lead_id": lead.lead_id,
        "status": lead.status,
        "disposition_code": lead.disposition_code,
        "custom_reason": lead.custom_reason,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
    }


def queue_status_callbacks(source: Source, leads: Iterable[ChangedLead], at: dt.datetime) -> int:
    """Write one pending callback per lead (call inside the transaction that changed them); the workers'
    delivery engine finds it within a second of the commit."""
    if not source.callback_url:
        return 0
    rows = [
        StatusCallback(
            lead_id=lead.pk,
            url=source.callback_url,
            message_id=f"msg_{ulid()}",
            payload=callback_payload(lead, at),
            next_attempt_at=at,
            created_at=at,
        )
        for lead in leads
    ]
    if rows:
        insert(StatusCallback, rows)
    return len(rows)


@dataclass
class SendReport:
    """What one sender call did, for logs and tests."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.dead


def lease() -> dt.timedelta:
    """How long a claim holds: long enough for a whole batch of posts that each run to their timeout."""
    per_post = float(settings.LEADGATE_HTTP_TIMEOUT) + 5
    return dt.timedelta(seconds=CLAIM_BATCH * per_post + 60)


def claim_due_callbacks(limit: int = CLAIM_BATCH) -> list[StatusCallback]:
    """Take up to ``limit`` due rows for this sender: no other sender gets them until the lease ends."""
    now = timezone.now()
    until = now + lease()
    due = StatusCallback.objects.filter(state__in=DUE_STATES, next_attempt_at__lte=now)
    if not due.exists():  # most sweeps: answered without a write transaction (SQLite's one writer stays free)
        return []
    with transaction.atomic():
        due = due.order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            # Only the callback rows: locking the joined lead or source would stall intake on that source.
            due = due.select_for_update(skip_locked=True, of=("self",))
        # The source gives the current URL and secret; the lead's own values are not needed to post.
        due = due.select_related("lead__source").defer("lead__values", "lead__clean", "lead__problems")
        rows = list(due[:limit])
        StatusCallback.objects.filter(pk__in=[row.pk for row in rows]).update(next_attempt_at=until)
    for row in rows:
        row.next_attempt_at = until
    return rows


def send_due_callbacks(*, budget: float = SEND_BUDGET_SECONDS, batch: int = CLAIM_BATCH) -> SendReport:
    """Post due callbacks batch by batch, until none is due or ``budget`` seconds have passed."""
    report = SendReport()
    started = time.monotonic()
    rows = claim_due_callbacks(batch)
    if not rows:  # the usual answer to a sweep: no HTTP client is built for nothing
        return report
    with Session() as session:
        while rows:
            _post_claimed(session, rows, report)
            if time.monotonic() - started >= budget:
                break
            rows = claim_due_callbacks(batch)
    return report


def _post_claimed(session: Session, rows: list[StatusCallback], report: SendReport) -> None:
    assert session.timeouts is not None
    margin = dt.timedelta(seconds=session.timeouts.total + 5)
    for index, row in enumerate(rows):
        if row.next_attempt_at - timezone.now() < margin:
            # The lease would end mid-post and another sender could post the same row: hand the rest back.
            StatusCallback.objects.filter(
                pk__in=[r.pk for r in rows[index:]], next_attempt_at=row.next_attempt_at
            ).update(next_attempt_at=timezone.now())
            return
        state = post_callback(session, row)
        setattr(report, state, getattr(report, state) + 1)


def post_callback(session: Session, row: StatusCallback) -> str:
    """Post one claimed row and record the outcome; returns its new state."""
    claimed_until = row.next_attempt_at
    attempt_callback(session, row)
    return record_callback(row, claimed_until)


def attempt_callback(session: Session, row: StatusCallback) -> None:
    """Post one claimed row and set its new state on it, without touching the database (so the engine's
    posting threads never write: its loop records the outcome with `record_callback`)."""
    source = row.lead.source
    row.last_status = None
    wait: dt.timedelta | None = None
    if not source.callback_url:
        state, error = StatusCallback.State.DEAD, "the source no longer has a callback URL"
    else:
        # The owner may have fixed the URL since the change was queued: post where the source says now.
        row.url = source.callback_url
        row.attempts += 1
        state, error, wait = _post(session, row, source.callback_secret)
    now = timezone.now()
    if state == StatusCallback.State.RETRYING and row.attempts >= settings.LEADGATE_CALLBACK_MAX_ATTEMPTS:
        state = StatusCallback.State.DEAD
        error = f"gave up after {row.attempts} attempts; last: {error}"
    row.state = state
    row.last_error = error
    if state == StatusCallback.State.DELIVERED:
        row.delivered_at = now
    retrying = state == StatusCallback.State.RETRYING
    row.next_attempt_at = now + retry_delay(row.attempts, wait) if retrying else now


def record_callback(row: StatusCallback, claimed_until: dt.datetime) -> str:
    """Save an attempted row, unless its claim (``claimed_until``) was taken over meanwhile."""
    saved = StatusCallback.objects.filter(pk=row.pk, next_attempt_at=claimed_until).update(
        url=row.url,
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status=row.last_status,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )
    target = redact_url(row.url)
    if not saved:
        log.warning("status callback %s to %s: its claim ended before the post did", row.message_id, target)
    elif row.state == StatusCallback.State.DEAD:
        log.warning("status callback %s to %s is dead: %s", row.message_id, target, row.last_error)
    elif row.state == StatusCallback.State.RETRYING:
        log.info(
            "status callback %s to %s failed (attempt %d): %s",
            row.message_id,
            target,
            row.attempts,
            row.last_error,
        )
    return str(row.state)


def _post(
    session: Session, row: StatusCallback, secret: str
) -> tuple[StatusCallback.State, str, dt.timedelta | None]:
    body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    try:
        headers = signed_headers(secret, row.message_id, body)
    except ValueError as exc:  # the message names the problem, never the secret
        return StatusCallback.State.RETRYING, f"cannot sign the callback: {exc}", None
    try:
        response = session.request("POST", row.url, headers=headers, content=body)
    except HttpError as exc:
        # Refused addresses and bad URLs included: the owner can fix either while the retries last.
        return StatusCallback.State.RETRYING, exc.describe(), None
    row.last_status = response.status
    if response.ok:
        return StatusCallback.State.DELIVERED, "", None
    if response.status == 410:
        return StatusCallback.State.DEAD, f"{response.describe()} (asked for no more posts)", None
    return StatusCallback.State.RETRYING, response.describe(), retry_after(response)
