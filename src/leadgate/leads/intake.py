"""Intake over HTTP: the leads of one request are stored and decided once, however often it is retried.

Two ways make a retry safe (SPEC §6): an ``Idempotency-Key`` header, whose first answer is kept and given
again, and a per-lead ``external_id``, the sender's own id, which the database keeps unique per source.
Both are checked under the source's lock inside one transaction with the leads they create, so two
concurrent retries cannot both create a lead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from leadgate.accounts.models import ApiKey
from leadgate.sources.models import Source

from .models import IdempotencyRecord, Lead, ReceivedVia
from .services import Actor, lock_source, process_leads

# Kept at least a day, as integrators expect of idempotency keys; the worker purges older ones.
IDEMPOTENCY_KEEP = dt.timedelta(hours=48)


@dataclass(frozen=True)
class Submission:
    """One lead as it arrived: values keyed by field key, label or alias, and the sender's own id."""

    values: Mapping[str, Any]
    external_id: str = ""


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different request."""


def lead_outcome(lead: Lead) -> dict[str, Any]:
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


def _receive(
    source: Source,
    submissions: Sequence[Submission],
    actor: Actor,
    received_via: str,
    api_key: ApiKey | None,
    idempotency_key: str,
    request_digest: str,
) -> tuple[list[dict[str, Any]], bool]:
    with transaction.atomic():
        lock_source(source)
        if idempotency_key and api_key is not None:
            record = IdempotencyRecord.objects.filter(api_key=api_key, key=idempotency_key).first()
            if record is not None:
                if record.request_digest != request_digest:
                    raise IdempotencyKeyReused(idempotency_key)
                return list(record.response), True

        wanted = {s.external_id for s in submissions if s.external_id}
        known: dict[str, Lead] = {}
        if wanted:
            known = {
                lead.external_id: lead for lead in Lead.objects.filter(source=source, external_id__in=wanted)
            }
        new: list[Submission] = []
        for submission in submissions:
            if not submission.external_id or submission.external_id not in known:
                new.append(submission)
                if submission.external_id:
                    known[submission.external_id] = None  # type: ignore[assignment]  # claimed below
        created = iter(
            process_leads(
                source,
                [s.values for s in new],
                received_via=received_via,
                actor=actor,
                external_ids=[s.external_id for s in new],
            )
            if new
            else []
        )
        outcomes: list[dict[str, Any]] = []
        for submission in submissions:
            lead = known.get(submission.external_id) if submission.external_id else None
            if lead is None:
                lead = next(created)
                if submission.external_id:
                    known[submission.external_id] = lead
            outcomes.append(lead_outcome(lead))

        if idempotency_key and api_key is not None:
            IdempotencyRecord.objects.create(
                api_key=api_key,
                key=idempotency_key,
                request_digest=request_digest,
                response=outcomes,
                created_at=timezone.now(),
            )
        return outcomes, not new


def purge_idempotency_records(now: dt.datetime | None = None) -> int:
    """Forget idempotency keys older than IDEMPOTENCY_KEEP; returns how many."""
    since = (now or timezone.now()) - IDEMPOTENCY_KEEP
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=since).delete()
    return deleted
