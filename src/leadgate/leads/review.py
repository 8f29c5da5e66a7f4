"""The review hold (SPEC §1): a source with ``review: true`` keeps its accepted leads ``in_review`` until a
reviewer approves them (then they are accepted and posted) or rejects them by hand (``REJECT_LEAD_MANUAL``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from leadgate.rules.catalogue import Status
from leadgate.sources.models import Source

from .models import Lead, LeadEvent
from .services import SYSTEM, Actor, Outcome, _chunks, history_event, lock_source, reject_leads
from .store import insert, update_leads


def approve_leads(source: Source, lead_ids: Iterable[str], *, actor: Actor = SYSTEM) -> Outcome:
    """A reviewer approves held leads: those of ``source`` still ``in_review`` become accepted.

    Any other lead named (accepted, rejected, another source's) is left as it is and not counted, so a
    second click or a stale page changes nothing.
    """
    from leadgate.delivery.outbox import leads_changed

    outcome = Outcome()
    ids = list(dict.fromkeys(lead_ids))
    for batch_ids in _chunks(ids, settings.LEADGATE_PROCESS_BATCH_SIZE):
        with transaction.atomic():
            lock_source(source)
            now = timezone.now()
            # Read under the lock: a lead rejected meanwhile by someone else stays rejected.
            batch = list(
                Lead.objects.filter(source=source, lead_id__in=batch_ids, status=Status.IN_REVIEW.value)
            )
            events = []
            for lead in batch:
                before = (lead.status, lead.disposition_code)
                lead.status, lead.custom_reason = Status.ACCEPTED.value, ""
                lead.updated_at = now
                if lead.first_accepted_at is None:
                    lead.first_accepted_at = now
                events.append(history_event(lead, LeadEvent.Kind.APPROVED, actor, now, before))
                outcome.count(lead, True)
            update_leads(batch, ["status", "custom_reason", "updated_at", "first_accepted_at"])
            insert(LeadEvent, events)
            leads_changed(source, batch, now)
    return outcome


def reject_held_leads(
    source: Source, lead_ids: Iterable[str], reason: str, *, actor: Actor = SYSTEM
) -> Outcome:
    """A reviewer rejects held leads by hand: ``reject_leads`` for those of ``source`` still ``in_review``."""
    held = Lead.objects.filter(source=source, lead_id__in=list(lead_ids), status=Status.IN_REVIEW.value)
    return reject_leads(source, list(held.values_list("lead_id", flat=True)), reason, actor=actor)
