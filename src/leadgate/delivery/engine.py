"""The delivery engine: due deliveries claimed, posted by their destination's transport, and recorded.

The same engine posts status callbacks (`callbacks`): claimed under a lease, posted on the same threads and
HTTP client, retried with the same backoff.

How a worker process delivers (a `Deliverer` runs as a thread of every `leadgate worker`):

- **Claim.** For each enabled destination that is not paused, due deliveries are claimed in one short
  transaction: their ``claim`` is set to a token of this claim and ``next_attempt_at`` pushed to the end of a
  lease. PostgreSQL skips rows another worker has locked (``SKIP LOCKED``), so any number of workers take
  disjoint sets; SQLite's transactions take its one write lock up front (IMMEDIATE), so claims queue. A worker
  that dies mid-post leaves its claims to expire: the deliveries come due again — a late retry, never a loss.
- **Post.** Claimed leads go to the transport in batches of its ``batch_size``, on a pool of threads (posts
  wait on the network, not the CPU). Each destination has at most half the threads when others are busy
  too, so one slow or failing destination never stalls another. A batch is handed back, unposted, when too
  little of its lease is left to finish before another worker could claim it.
- **Record.** Results are written in one transaction per round, and only for deliveries this claim still
  holds (the claim token is checked under the lock): an attempt row with its HTTP exchanges, the new state,
  the backoff. So a delivery is recorded as delivered once, whatever crashed when. A retried post carries the
  same ``webhook-id`` (and, for the CRMs, upserts on the same key), so a receiver that saw a post whose answer
  was lost drops the repeat.
- **Verdicts.** Delivered; retry (backoff with jitter, no sooner than Retry-After; after
  LEADGATE_DELIVERY_MAX_ATTEMPTS the delivery is dead); refused for good (the delivery is rejected and the
  lead becomes Rejected with ``REJECT_LEAD_DESTINATION`` and the CRM's reason).
- **Circuit breaker.** A destination whose requests fail LEADGATE_DELIVERY_PAUSE_AFTER times in a row (no
  answer, or only "retry" answers) pauses: its deliveries wait without spending attempts. When the pause
  ends one delivery is posted as a probe; success resumes the destination, failure pauses it twice as long
  (at most an hour).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, connections, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from leadgate.delivery.backoff import retry_delay
from leadgate.delivery.callbacks import record_callback
from leadgate.delivery.destinations import transport_class
from leadgate.delivery.destinations.base import DELIVERED, REFUSED, RETRY, OutgoingLead, Result, Transport
from leadgate.delivery.destinations.base import Exchange as Record
from leadgate.delivery.mapping import FieldMapping, load_mapping
from leadgate.delivery.models import Delivery, DeliveryAttempt, Destination, Exchange, StatusCallback
from leadgate.delivery.secrets import SecretUnreadable
from leadgate.lib.http import Session, Timeouts

log = logging.getLogger(__name__)

DUE = (Delivery.State.PENDING, Delivery.State.RETRYING)
POLL_SECONDS = 0.5  # between looks for due deliveries when there is nothing to do
LINGER_SECONDS = 0.02  # to gather answers into one recording transaction
SETTINGS_TTL = 30.0  # seconds a worker keeps a destination's transport and mapping before reading them again
PAUSE_FIRST = dt.timedelta(minutes=1)
PAUSE_CAP = dt.timedelta(hours=1)


@dataclass
class Prepared:
    """A destination as this worker posts to it: its transport and mapping, read at ``read_at``."""

    destination: Destination
    transport: Transport | None  # None: the settings cannot work (``problem`` says why)
    mapping: FieldMapping
    problem: str
    read_at: float


@dataclass
class Job:
    """One batch of claimed deliveries on its way to one destination."""

    prepared: Prepared
    token: str
    until: dt.datetime  # the end of the claim's lease
    deliveries: list[Delivery]
    leads: list[OutgoingLead]
    probe: bool = False


@dataclass
class Round:
    """What `Deliverer.run_once` did: counts by verdict, and batches handed back unposted."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    refused: int = 0
    handed_back: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.dead + self.refused


@dataclass
class Deliverer:
    """Posts due deliveries with a pool of ``threads``; one per worker process."""

    threads: int = field(default_factory=lambda: settings.LEADGATE_DELIVERY_THREADS)
    timeouts: Timeouts | None = None
    allow_private: bool | None = None

    def __post_init__(self) -> None:
        # A client per posting thread: one shared connection pool would make the threads queue on its lock.
        self.session = Session(
            timeouts=self.timeouts, allow_private=self.allow_private, max_connections=4, per_thread=True
        )
        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="delivery")
        self.prepared: dict[int, Prepared] = {}
        self.in_flight: dict[Future[list[Result] | None], Job] = {}
        # Status callbacks being posted, with the end of their claim.
        self.callbacks: dict[Future[None], tuple[StatusCallback, dt.datetime]] = {}
        self.busy: dict[int, int] = defaultdict(int)  # destination → batches in flight
        self.report = Round()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.session.close()

    # --- the loop -----------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set (the worker's thread)."""
        try:
            while not stop.is_set():
                try:
                    claimed = self.claim_all()
                    if self.in_flight or self.callbacks:
                        self.collect(timeout=POLL_SECONDS)
                    elif not claimed:
                        stop.wait(POLL_SECONDS)
                except Exception:  # a database hiccup must not end delivering; the next round retries
                    log.warning("delivery round failed", exc_info=True)
                    stop.wait(POLL_SECONDS)
                finally:
                    close_old_connections()
            # Stopping: record what is already on its way, so a restart posts as little as possible again.
            while self.in_flight or self.callbacks:
                self.collect(timeout=None)
        finally:
            self.close()
            connections.close_all()  # this thread's: a database must not wait for a thread that ended

    def run_once(self) -> Round:
        """Claim what is due now, post it and record it all (tests, `leadgate worker --batch`)."""
        self.report = Round()
        while self.claim_all() or self.in_flight or self.callbacks:
            self.collect(timeout=None)
        return self.report

    def collect(self, timeout: float | None) -> None:
        """Wait for posts to finish (at most ``timeout`` s for the first), then record all finished ones."""
        if not self.in_flight and not self.callbacks:
            return
        pending: list[Future[Any]] = [*self.in_flight, *self.callbacks]
        done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
        if done and len(done) < len(pending) // 2:
            # Linger a moment for more answers: one transaction records them all (a transaction per answer
            # would make recording, not posting, the limit).
            done, _ = wait(pending, timeout=LINGER_SECONDS, return_when=ALL_COMPLETED)
        finished = []
        for future in done:
            if future in self.callbacks:
                row, claimed_until = self.callbacks.pop(future)  # type: ignore[call-overload]
                if future.exception() is None:
                    record_callback(row, claimed_until)
                else:  # a bug: the claim runs out and the callback is posted again
                    log.error("posting a status callback failed", exc_info=future.exception())
                continue
            job = self.in_flight.pop(future)
            self.busy[job.prepared.destination.pk] -= 1
            try:
                results = future.result()
            except Exception as exc:  # send() guards itself; this is a bug, still never a lost lead
                log.exception("posting to %s failed", job.prepared.destination.key)
                results = [Result(lead, RETRY, f"internal error: {exc}") for lead in job.leads]
            finished.append((job, results))
        if finished:
            record(finished, self.report)

    # --- claiming -----------------------------------------------------------------------------------------

    def claim_all(self) -> int:
        """Claim due status callbacks, and due deliveries for every destination with room in the pool;
        returns how many."""
        claimed = self._claim_callbacks()
        now = timezone.now()
        active = list(Destination.objects.filter(enabled=True).exclude(paused_until__gt=now))
        if not active:
            return claimed
        per_destination = self.threads if len(active) == 1 else max(1, self.threads // 2)
        for destination in active:
            # Claim when half the destination's share is free, enough for twice its share: the pool always
            # has the next batches at hand, and claims come in few, larger transactions.
            busy = self.busy[destination.pk]
            if busy > per_destination // 2:
                continue
            room = 2 * per_destination - busy
            prepared = self._prepare(destination)
            probe = destination.failures_in_a_row >= settings.LEADGATE_DELIVERY_PAUSE_AFTER
            batch = prepared.transport.batch_size if prepared.transport else 100
            limit = 1 if probe else room * batch
            jobs = claim(prepared, limit, batch, per_destination, self.session.timeouts, probe=probe)
            for job in jobs:
                claimed += len(job.deliveries)
                self.busy[destination.pk] += 1
                self.in_flight[self.pool.submit(self._send, job)] = job
        return claimed

    def _claim_callbacks(self) -> int:
        """Status callbacks take at most a quarter of the threads: they never crowd out deliveries."""
        from leadgate.delivery.callbacks import attempt_callback, claim_due_callbacks

        room = max(1, self.threads // 4) - len(self.callbacks)
        if room <= 0:
            return 0
        rows = claim_due_callbacks(room)
        for row in rows:
            self.callbacks[self.pool.submit(attempt_callback, self.session, row)] = (row, row.next_attempt_at)
        return len(rows)

    def _prepare(self, destination: Destination) -> Prepared:
        cached = self.prepared.get(destination.pk)
        if (
            cached
            and cached.destination.updated_at == destination.updated_at
            and time.monotonic() - cached.read_at < SETTINGS_TTL
        ):
            cached.destination = destination  # the breaker's fields as just read
            return cached
        prepared = prepare(destination, self.session)
        self.prepared[destination.pk] = prepared
        return prepared

    # --- posting (on a pool thread) -------------------------------------------------------------------------

    def _send(self, job: Job) -> list[Result] | None:
        """Post one batch; None hands it back unposted (its lease is too short to finish safely)."""
        transport = job.prepared.transport
        if transport is None:
            return [Result(lead, RETRY, job.prepared.problem) for lead in job.leads]
        assert self.session.timeouts is not None
        # A batch destination may make a token request, the post and a follow-up: three timeouts.
        margin = dt.timedelta(seconds=3 * self.session.timeouts.total + 5)
        if job.until - timezone.now() < margin:
            return None
        try:
            results = transport.send(job.leads)
        except Exception as exc:
            log.exception("the %s transport failed", transport.kind)
            return [Result(lead, RETRY, f"internal error: {exc}") for lead in job.leads]
        if len(results) != len(job.leads):
            log.error(
                "the %s transport answered %d of %d leads", transport.kind, len(results), len(job.leads)
            )
            return [Result(lead, RETRY, "internal error: incomplete answer") for lead in job.leads]
        return results


def prepare(destination: Destination, session: Session) -> Prepared:
    """A destination's transport and mapping, or the reason its settings cannot work."""
    mapping = load_mapping(destination)
    try:
        cls = transport_class(destination.kind)
        config = cls.config_class(destination.config or {})
        secret = destination.secret()
        if destination.kind != "hubspot" and not destination.url:
            raise ValueError("the destination has no URL")
        transport = cls(url=destination.url, config=config, secret=secret, session=session)
    except (ValueError, SecretUnreadable) as exc:  # ConfigError is a ValueError
        return Prepared(destination, None, mapping, f"the destination cannot post: {exc}", time.monotonic())
    return Prepared(destination, transport, mapping, "", time.monotonic())


def lease(leads: int, batch: int, parallel: int, timeouts: Timeouts) -> dt.timedelta:
    """How long a claim holds: every batch of it posted in turn by its share of threads, each to its
    timeouts (a token request, the post, a follow-up), with time to spare for recording the answers.

    Short on purpose: when a worker dies, its claims wait this long before another worker takes them.
    """
    rounds = -(-leads // max(1, batch * parallel))
    return dt.timedelta(seconds=rounds * (3 * timeouts.total + 5) + 15)


def claim(
    prepared: Prepared,
    limit: int,
    batch: int,
    parallel: int,
    timeouts: Timeouts | None = None,
    *,
    probe: bool = False,
) -> list[Job]:
    """Claim up to ``limit`` due deliveries of a destination; returns them as jobs of ``batch`` leads.

    ``timeouts``: those the posts will run under (default: the settings'), which set the lease."""
    destination = prepared.destination
    now = timezone.now()
    due = Delivery.objects.filter(destination=destination, state__in=DUE, next_attempt_at__lte=now)
    if not due.exists():  # most looks: answered without a write transaction (SQLite's one writer stays free)
        return []
    token = get_random_string(24)
    until = now + lease(limit, batch, parallel, timeouts or Timeouts.from_settings())
    with transaction.atomic():
        if probe:
            # One worker probes: the pause is pushed past the lease so the others keep waiting.
            taken = Destination.objects.filter(
                pk=destination.pk, failures_in_a_row=destination.failures_in_a_row
            )
            if not taken.exclude(paused_until__gt=now).update(paused_until=until):
                return []
        rows = due.order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        ids = list(rows.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids).update(claim=token, next_attempt_at=until)
    claimed = list(
        Delivery.objects.filter(pk__in=ids, claim=token)
        .select_related("lead", "source")
        .only(
            "pk",
            "message_id",
            "attempts",
            "claim",
            "lead_id",
            "source_id",
            "destination_id",
            "source__slug",
            "lead__lead_id",
            "lead__status",
            "lead__submitted_at",
            "lead__clean",
        )
        .order_by("next_attempt_at", "id")
    )
    for delivery in claimed:
        delivery.next_attempt_at = until
    withdrawn = [d for d in claimed if d.lead.status != "accepted"]
    if withdrawn:
        # The lead stopped being accepted after the delivery was queued (a race the outbox mostly prevents).
        Delivery.objects.filter(pk__in=[d.pk for d in withdrawn], claim=token).delete()
    claimed = [d for d in claimed if d.lead.status == "accepted"]
    jobs = []
    for start in range(0, len(claimed), batch):
        part = claimed[start : start + batch]
        leads = [outgoing(d, prepared.mapping) for d in part]
        jobs.append(Job(prepared, token, until, part, leads, probe))
    return jobs


def outgoing(delivery: Delivery, mapping: FieldMapping) -> OutgoingLead:
    lead = delivery.lead
    return OutgoingLead(
        delivery_id=delivery.pk,
        message_id=delivery.message_id,
        lead_id=lead.lead_id,
        source=delivery.source.slug,
        status=lead.status,
        submitted_at=lead.submitted_at,
        fields=mapping.fields(lead.clean or {}),
    )


# --- recording ----------------------------------------------------------------------------------------------


def record(finished: Sequence[tuple[Job, list[Result] | None]], report: Round | None = None) -> None:
    """Write the outcome of finished batches in one transaction (only for deliveries still claimed)."""
    report = report if report is not None else Round()
    now = timezone.now()
    handed_back = [job for job, results in finished if results is None]
    posted = [(job, results) for job, results in finished if results is not None]
    with transaction.atomic():
        for job in handed_back:
            Delivery.objects.filter(pk__in=[d.pk for d in job.deliveries], claim=job.token).update(
                claim="", next_attempt_at=now
            )
            report.handed_back += len(job.deliveries)
            if job.probe:
                Destination.objects.filter(pk=job.prepared.destination.pk).update(paused_until=now)
        if posted:
            _record_posted(posted, now, report)


def _record_posted(posted: Sequence[tuple[Job, list[Result]]], now: dt.datetime, report: Round) -> None:
    from leadgate.leads.services import lock_source

    # Sources first, as every other change of leads takes them, then the deliveries: one lock order, so a
    # refusal recorded while someone reprocesses the same source waits rather than deadlocks.
    refusing = {
        d.source_id: d.source
        for job, results in posted
        for d, r in zip(job.deliveries, results, strict=True)
        if r.verdict == REFUSED
    }
    for source_pk in sorted(refusing):
        lock_source(refusing[source_pk])
    ids = [d.pk for job, _ in posted for d in job.deliveries]
    held = Delivery.objects.filter(pk__in=ids)
    if connection.features.has_select_for_update:
        held = held.select_for_update()
    holding = dict(held.values_list("pk", "claim"))
    exchanges: dict[int, Exchange] = {}  # by id() of the transport's record: a batch shares one exchange
    attempts: list[tuple[DeliveryAttempt, list[int]]] = []
    changed: list[Delivery] = []
    refused: list[tuple[Delivery, Destination, str]] = []
    outcomes: dict[int, list[str]] = defaultdict(list)  # destination → verdicts, for the breaker
    max_attempts = settings.LEADGATE_DELIVERY_MAX_ATTEMPTS
    for job, results in posted:
        destination = job.prepared.destination
        for delivery, result in zip(job.deliveries, results, strict=True):
            if holding.get(delivery.pk) != job.token:
                log.warning("delivery %s: its claim ended before the post did", delivery.message_id)
                continue
            for exchange in result.exchanges:
                exchanges.setdefault(id(exchange), exchange_row(destination, exchange, now))
            delivery.attempts += 1
            delivery.claim = ""
            delivery.updated_at = now
            delivery.last_status = _last_status(result)
            delivery.last_error = "" if result.verdict == DELIVERED else result.reason
            if result.verdict == DELIVERED:
                delivery.state = Delivery.State.DELIVERED
                delivery.delivered_at = now
                delivery.external_id = result.external_id[:200]
                delivery.next_attempt_at = now
                report.delivered += 1
            elif result.verdict == REFUSED:
                delivery.state = Delivery.State.REJECTED
                delivery.next_attempt_at = now
                refused.append((delivery, destination, result.reason))
                report.refused += 1
            elif delivery.attempts >= max_attempts:
                delivery.state = Delivery.State.DEAD
                delivery.last_error = f"gave up after {delivery.attempts} attempts; last: {result.reason}"
                delivery.next_attempt_at = now
                report.dead += 1
            else:
                delivery.state = Delivery.State.RETRYING
                delivery.next_attempt_at = now + retry_delay(delivery.attempts, result.retry_after)
                report.retrying += 1
            outcomes[destination.pk].append(result.verdict)
            changed.append(delivery)
            attempt = DeliveryAttempt(
                delivery=delivery,
                number=delivery.attempts,
                at=now,
                verdict=result.verdict,
                reason=result.reason,
                external_id=result.external_id[:200],
                duration=sum(e.duration for e in result.exchanges),
            )
            attempts.append((attempt, [id(e) for e in result.exchanges]))
    Exchange.objects.bulk_create(list(exchanges.values()))
    DeliveryAttempt.objects.bulk_create([attempt for attempt, _ in attempts])
    through = DeliveryAttempt.exchanges.through
    through.objects.bulk_create(
        [
            through(deliveryattempt_id=attempt.pk, exchange_id=exchanges[key].pk)
            for attempt, keys in attempts
            for key in dict.fromkeys(keys)
        ]
    )
    _save_outcomes(changed)
    for job, _ in posted:
        if job.probe:  # the probe's pause (pushed past its lease) ends now; the breaker below decides
            Destination.objects.filter(pk=job.prepared.destination.pk).update(paused_until=None)
    for destination_pk, verdicts in outcomes.items():
        _breaker(destination_pk, verdicts, now, posted)
    if refused:
        _reject_refused(refused, now)


OUTCOME_FIELDS = (
    "state", "attempts", "claim", "next_attempt_at", "last_status", "last_error", "external_id",
    "delivered_at", "updated_at",
)  # fmt: skip


def _save_outcomes(changed: list[Delivery]) -> None:
    """Write the deliveries' new state: one UPDATE per set of equal values (most of a round's deliveries
    end alike: delivered at the first attempt), one bulk_update for the rest (retries, each with its own
    jittered time). Django's bulk_update alone would build a CASE per field per row."""
    groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for delivery in changed:
        groups[tuple(getattr(delivery, name) for name in OUTCOME_FIELDS)].append(delivery.pk)
    singles = []
    for values, pks in groups.items():
        if len(pks) == 1 and len(groups) > 8:
            singles.append(pks[0])
            continue
        Delivery.objects.filter(pk__in=pks).update(**dict(zip(OUTCOME_FIELDS, values, strict=True)))
    if singles:
        wanted = set(singles)
        Delivery.objects.bulk_update([d for d in changed if d.pk in wanted], OUTCOME_FIELDS, batch_size=500)


def exchange_row(
    destination: Destination, record: Record, at: dt.datetime, purpose: str = "delivery"
) -> Exchange:
    """A transport's record of one HTTP round trip as a row of the delivery log (already redacted)."""
    return Exchange(
        destination=destination,
        at=at,
        purpose=purpose,
        method=record.method,
        url=record.url,
        request_headers=record.request_headers,
        request_body=record.request_body,
        status=record.status,
        reason=record.reason[:200],
        response_body=record.response_body,
        duration=record.duration,
        error=record.error,
    )


def _last_status(result: Result) -> int | None:
    statuses = [e.status for e in result.exchanges if e.status is not None]
    return statuses[-1] if statuses else None


def _breaker(
    destination_pk: int, verdicts: list[str], now: dt.datetime, posted: Sequence[tuple[Job, list[Result]]]
) -> None:
    """Count failures in a row: any lead delivered or refused shows the destination works."""
    if any(v != RETRY for v in verdicts):
        Destination.objects.filter(pk=destination_pk).exclude(failures_in_a_row=0, paused_until=None).update(
            failures_in_a_row=0, paused_until=None, pause_reason=""
        )
        return
    requests = sum(1 for job, _ in posted if job.prepared.destination.pk == destination_pk)
    destination = Destination.objects.get(pk=destination_pk)
    failures = destination.failures_in_a_row + requests
    reasons = [
        r.reason for job, results in posted if job.prepared.destination.pk == destination_pk for r in results
    ]
    update: dict[str, object] = {"failures_in_a_row": failures}
    pause_after = settings.LEADGATE_DELIVERY_PAUSE_AFTER
    if failures >= pause_after:
        pause = min(PAUSE_FIRST * 2 ** min(failures - pause_after, 10), PAUSE_CAP)
        update["paused_until"] = now + pause
        update["pause_reason"] = reasons[-1] if reasons else ""
        if destination.failures_in_a_row < pause_after:
            log.warning(
                "destination %s paused after %d failed requests in a row: %s",
                destination.key,
                failures,
                update["pause_reason"],
            )
    Destination.objects.filter(pk=destination_pk).update(**update)


def _reject_refused(refused: Iterable[tuple[Delivery, Destination, str]], now: dt.datetime) -> None:
    """Leads a destination refused for good become Rejected with its reason (SPEC §2)."""
    from leadgate.delivery.outbox import leads_changed
    from leadgate.leads.models import Lead, LeadEvent
    from leadgate.leads.services import Actor, history_event
    from leadgate.leads.store import insert, update_leads
    from leadgate.rules.catalogue import DESTINATION, Status

    by_source: dict[int, list[tuple[Delivery, Destination, str]]] = defaultdict(list)
    for item in refused:
        by_source[item[0].source_id].append(item)
    for items in by_source.values():
        source = items[0][0].source  # locked by the caller
        leads = {
            lead.pk: lead
            for lead in Lead.objects.filter(pk__in=[d.lead_id for d, _, _ in items], status=Status.ACCEPTED)
        }
        events, moved = [], []
        for delivery, destination, reason in items:
            lead = leads.pop(delivery.lead_id, None)
            if lead is None:  # already changed by someone else, or refused by two destinations at once
                continue
            before = (lead.status, lead.disposition_code)
            lead.status, lead.disposition_code = Status.REJECTED.value, DESTINATION
            lead.custom_reason = f"{destination}: {reason}"[:2000]
            lead.updated_at = now
            actor = Actor(f"destination {destination.key}")
            events.append(history_event(lead, LeadEvent.Kind.REJECTED, actor, now, before, note=reason))
            moved.append(lead)
        update_leads(moved, ["status", "disposition_code", "custom_reason", "updated_at"])
        insert(LeadEvent, events)
        leads_changed(source, moved, now)
