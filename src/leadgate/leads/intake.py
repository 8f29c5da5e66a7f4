"""Intake over HTTP: the leads of one request are stored and decided once, however often it is retried.

Two ways make a retry safe (SPEC §6): an ``Idempotency-Key`` header, whose first answer is kept and given
again, and a per-lead ``external_id``, the sender's own id, which the database keeps unique per source.
Both are checked under the source's lock inside one transaction with the leads they create, so two
concurrent retries cannot both create a lead.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from leadgate.accounts.models import ApiKey
from leadgate.sources.models import Source

from .models import IdempotencyRecord, Lead, ReceivedVia
from .services import (
    Actor,
    PreparedLeads,
    ReceivedLead,
    lock_source,
    prepare_leads,
    store_leads,
    store_together,
)

log = logging.getLogger(__name__)

# Kept at least a day, as integrators expect of idempotency keys; the worker purges older ones.
IDEMPOTENCY_KEEP = dt.timedelta(hours=48)


@dataclass(frozen=True)
class Submission:
    """One lead as it arrived: values keyed by field key, label or alias, and the sender's own id."""

    values: Mapping[str, Any]
    external_id: str = ""


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different request."""


def lead_outcome(lead: Lead | ReceivedLead) -> dict[str, Any]:
    """What the API answers for one lead (SPEC §6 "HTTP")."""
    outcome: dict[str, Any] = {
        "lead_id": lead.lead_id,
        "status": lead.status,
        "disposition_code": lead.disposition_code,
        "custom_reason": lead.custom_reason,
        "problems": lead.problems,
    }
    if lead.external_id:
        outcome["external_id"] = lead.external_id
    return outcome


def receive_leads(
    source: Source,
    submissions: Sequence[Submission],
    *,
    actor: Actor,
    received_via: str = ReceivedVia.API,
    api_key: ApiKey | None = None,
    idempotency_key: str = "",
    request_digest: str = "",
) -> tuple[list[dict[str, Any]], bool]:
    """Store and decide the submissions; returns each lead's outcome in order, and whether it is a replay.

    A replay creates nothing: it answers what the first request answered (Idempotency-Key) or each known
    lead's current outcome (external_id). Raises IdempotencyKeyReused when the key came with another body.
    """
    for attempt in range(2):
        try:
            return _receive(
                source, submissions, actor, received_via, api_key, idempotency_key, request_digest
            )
        except IntegrityError:
            # Another request stored the same key or external_id between our check and our insert (possible
            # across sources sharing a personal token); once it committed, the check sees it.
            if attempt:
                raise
    raise AssertionError("unreachable")


@dataclass
class _Job:
    """One request's new leads, prepared outside the lock, waiting to be stored."""

    source: Source
    submissions: Sequence[Submission]
    actor: Actor
    received_via: str
    api_key: ApiKey | None
    idempotency_key: str
    request_digest: str
    new: list[Submission]
    known: dict[str, Lead | ReceivedLead | None]
    prepared: list[PreparedLeads]
    result: tuple[list[dict[str, Any]], bool] | None = None
    error: BaseException | None = None
    done: bool = False
    wake: threading.Event = field(default_factory=threading.Event)


def _receive(
    source: Source,
    submissions: Sequence[Submission],
    actor: Actor,
    received_via: str,
    api_key: ApiKey | None,
    idempotency_key: str,
    request_digest: str,
) -> tuple[list[dict[str, Any]], bool]:
    if idempotency_key and api_key is not None:
        replay = _replay(api_key, idempotency_key, request_digest)  # the common retry, without any work
        if replay is not None:
            return replay, True
    # Building and checking the new leads needs no lock: it happens before the transaction, for the
    # submissions whose external_id is not known yet; under the lock that is confirmed.
    new, known = _new_submissions(source, submissions)
    prepared = prepare_leads(
        source, [s.values for s in new], received_via=received_via, external_ids=[s.external_id for s in new]
    )
    job = _Job(
        source,
        submissions,
        actor,
        received_via,
        api_key,
        idempotency_key,
        request_digest,
        new,
        known,
        prepared,
    )
    return _shared_transactions(source).run(job)


def _store(job: _Job) -> tuple[list[dict[str, Any]], bool]:
    """Inside the source's lock: confirm the job's checks, store its leads, keep its idempotency key."""
    source, submissions, new, known, prepared = job.source, job.submissions, job.new, job.known, job.prepared
    if job.idempotency_key and job.api_key is not None:
        replay = _replay(job.api_key, job.idempotency_key, job.request_digest)
        if replay is not None:
            return replay, True
    if any(s.external_id for s in new):
        confirmed, known = _new_submissions(source, submissions)
        if len(confirmed) != len(new):  # another request stored some of them meanwhile
            new = confirmed
            prepared = prepare_leads(
                source,
                [s.values for s in new],
                received_via=job.received_via,
                external_ids=[s.external_id for s in new],
            )
    created = iter(store_leads(prepared, actor=job.actor) if new else [])
    outcomes: list[dict[str, Any]] = []
    for submission in submissions:
        lead = known.get(submission.external_id) if submission.external_id else None
        if lead is None:
            lead = next(created)
            if submission.external_id:
                known[submission.external_id] = lead
        outcomes.append(lead_outcome(lead))
    if job.idempotency_key and job.api_key is not None:
        IdempotencyRecord.objects.create(
            api_key=job.api_key,
            key=job.idempotency_key,
            request_digest=job.request_digest,
            response=outcomes,
            created_at=timezone.now(),
        )
    return outcomes, not new


class _SharedTransactions:
    """Group commit: requests for one source that arrive together are stored in one transaction.

    Each transaction on the source holds its lock and writes its pages once, so 8 single-lead posts
    stored together cost little more than one. The first request to arrive leads: it takes every job
    waiting and stores them in one transaction, the plain ones (new leads, nothing to confirm) as one batch
    and the rest each in a savepoint (so one job's failure is that job's alone; if the batch fails, its
    jobs go one by one too), hands every job its result, and passes the lead to the first job that arrived
    meanwhile, so no request waits behind more than one batch. Nothing is delayed to make a batch: a
    request alone goes at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Job] = []
        self._leading = False

    def run(self, job: _Job) -> tuple[list[dict[str, Any]], bool]:
        if transaction.get_connection().in_atomic_block:
            # The caller's own transaction must hold its leads (and lose them if it rolls back).
            self._store_all([job])
            return self._outcome(job)
        with self._lock:
            self._queue.append(job)
            lead = not self._leading
            self._leading = True
        if not lead:
            job.wake.wait()
        if not job.done:  # this thread leads now
            with self._lock:
                jobs, self._queue = self._queue, []
            try:
                self._store_all(jobs)
            finally:
                with self._lock:
                    if self._queue:
                        self._queue[0].wake.set()
                    else:
                        self._leading = False
        return self._outcome(job)

    @staticmethod
    def _outcome(job: _Job) -> tuple[list[dict[str, Any]], bool]:
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def _store_all(self, jobs: list[_Job]) -> None:
        try:
            with transaction.atomic():
                lock_source(jobs[0].source)
                if len(jobs) == 1:  # alone: its failure is the transaction's, no savepoint needed
                    jobs[0].result = _store(jobs[0])
                    return
                plain = [job for job in jobs if _plain(job)]
                stored_together = len(plain) > 1 and _store_together(plain)
                for job in jobs:
                    if stored_together and job.result is not None:
                        continue
                    try:
                        with transaction.atomic():  # a savepoint: one job's failure is its own
                            job.result = _store(job)
                    except Exception as exc:
                        job.error = exc
        except Exception as exc:  # the transaction itself failed: every job with it
            for job in jobs:
                job.error, job.result = exc, None
        finally:
            for job in jobs:
                job.done = True
                job.wake.set()


def _plain(job: _Job) -> bool:
    """New leads only, in one part, with no Idempotency-Key or external_id to confirm under the lock:
    the common post, which can be stored together with others."""
    return (
        len(job.prepared) == 1
        and len(job.new) == len(job.submissions)
        and not (job.idempotency_key and job.api_key is not None)
        and not any(s.external_id for s in job.new)
    )


def _store_together(jobs: list[_Job]) -> bool:
    """Store plain jobs as one batch (one dedupe lookup, one insert per table: the source's lock is held
    for little more than one of them takes). If that fails, nothing of it is kept and False says so:
    each job is then stored in a savepoint of its own, so that a failure stays the failing job's."""
    try:
        with transaction.atomic():
            stored = store_together([job.prepared[0] for job in jobs], [job.actor for job in jobs])
    except Exception:
        log.warning("storing %d requests together failed; storing them one by one", len(jobs), exc_info=True)
        return False
    for job, leads in zip(jobs, stored, strict=True):
        job.result = [lead_outcome(lead) for lead in leads], False
    return True


_by_source: dict[int, _SharedTransactions] = {}
_by_source_lock = threading.Lock()


def _shared_transactions(source: Source) -> _SharedTransactions:
    with _by_source_lock:
        if source.pk not in _by_source:
            _by_source[source.pk] = _SharedTransactions()
        return _by_source[source.pk]


def _replay(api_key: ApiKey, idempotency_key: str, request_digest: str) -> list[dict[str, Any]] | None:
    """The first answer to this key, or None; raises IdempotencyKeyReused for another request's key."""
    record = IdempotencyRecord.objects.filter(api_key=api_key, key=idempotency_key).first()
    if record is None:
        return None
    if record.request_digest != request_digest:
        raise IdempotencyKeyReused(idempotency_key)
    return list(record.response)


def _new_submissions(
    source: Source, submissions: Sequence[Submission]
) -> tuple[list[Submission], dict[str, Lead | ReceivedLead | None]]:
    """The submissions to create (unknown external_id, the first of repeats, or none given) and the
    source's leads already holding the external_ids given."""
    wanted = {s.external_id for s in submissions if s.external_id}
    known: dict[str, Lead | ReceivedLead | None] = {}
    if wanted:
        known = {
            lead.external_id: lead for lead in Lead.objects.filter(source=source, external_id__in=wanted)
        }
    new: list[Submission] = []
    claimed: set[str] = set()
    for submission in submissions:
        ext = submission.external_id
        if not ext:
            new.append(submission)
        elif ext not in known and ext not in claimed:
            new.append(submission)
            claimed.add(ext)
    return new, known


def purge_idempotency_records(now: dt.datetime | None = None) -> int:
    """Forget idempotency keys older than IDEMPOTENCY_KEEP; returns how many."""
    since = (now or timezone.now()) - IDEMPOTENCY_KEEP
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=since).delete()
    return deleted
