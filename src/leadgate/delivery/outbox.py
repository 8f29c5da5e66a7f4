"""What a change of leads' status sets in motion, written in the transaction that made the change.

- Every change goes to the source's status callback URL (`callbacks`).
- A lead that became accepted gets one pending Delivery per destination of its source (one it
  already has is left alone: delivered stays delivered, and a dead or refused one is tried afresh, because
  the lead was fixed and accepted again).
- A lead that stopped being accepted before it was delivered is withdrawn: its waiting deliveries go.
- An accepted lead whose values were edited and that stays accepted is posted again (`leads_updated`), so the
  CRM gets the corrected values: upserts update the record; a webhook post keeps its ``webhook-id``.

Because the rows are written with the change, a crash after the commit loses nothing: the workers find them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from django.db.models import QuerySet

from leadgate.delivery.models import Delivery
from leadgate.leads.models import Lead
from leadgate.leads.store import insert
from leadgate.lib.ids import ulid
from leadgate.rules.catalogue import Status
from leadgate.sources.compile import CompiledSource, compiled_source
from leadgate.sources.models import Source


class ChangedLead(Protocol):
    """What the outbox reads of a lead: a ``Lead``, or a lighter record of one just stored."""

    @property
    def pk(self) -> Any: ...
    @property
    def lead_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def disposition_code(self) -> str: ...
    @property
    def custom_reason(self) -> str: ...


WAITING = (Delivery.State.PENDING, Delivery.State.RETRYING)
AGAIN = (Delivery.State.DEAD, Delivery.State.REJECTED)


def leads_changed(
    source: Source,
    leads: Sequence[ChangedLead],
    at: dt.datetime,
    *,
    new: bool = False,
    compiled: CompiledSource | None = None,
) -> None:
    """Call inside the transaction that changed these leads' status (``new``: it also created them).

    The leads need only ``pk``, ``lead_id``, ``status``, ``disposition_code`` and ``custom_reason``.
    ``compiled``: the source's compiled rules as this transaction read them, if the caller has them.
    """
    from leadgate.delivery.callbacks import queue_status_callbacks

    queue_status_callbacks(source, leads, at)
    queue_deliveries(source, leads, at, new=new, compiled=compiled)


def queue_deliveries(
    source: Source,
    leads: Sequence[ChangedLead],
    at: dt.datetime,
    *,
    new: bool = False,
    compiled: CompiledSource | None = None,
) -> int:
    """Pending deliveries for the accepted leads; waiting ones withdrawn for the others. Returns how many."""
    accepted = [lead.pk for lead in leads if lead.status == Status.ACCEPTED]
    if not new:
        others = [lead.pk for lead in leads if lead.status != Status.ACCEPTED]
        if others:
            Delivery.objects.filter(lead_id__in=others, state__in=WAITING).delete()
    if not accepted:
        return 0
    # Disabled destinations too: disabling one pauses its posting (a CRM migration, a maintenance window),
    # and what was accepted meanwhile goes out once it is enabled again. Detaching stops it for good.
    # Compiled once per change, not read per batch (nor again when the caller has read it).
    destinations = (compiled or compiled_source(source)).destinations
    if not destinations:
        return 0
    have: set[tuple[int, int]] = set()
    if not new:
        existing = Delivery.objects.filter(lead_id__in=accepted, destination_id__in=destinations)
        have = set(existing.values_list("lead_id", "destination_id"))
        due_again(existing.filter(state__in=AGAIN), at)
    rows = [
        {
            "lead_id": lead_pk,
            "destination_id": destination,
            "source_id": source.pk,
            "message_id": f"msg_{ulid()}",
            "state": Delivery.State.PENDING,
            "next_attempt_at": at,
            "created_at": at,
            "updated_at": at,
        }
        for lead_pk in accepted
        for destination in destinations
        if (lead_pk, destination) not in have
    ]
    insert(Delivery, rows)
    return len(rows)


def leads_updated(source: Source, leads: Sequence[Lead], at: dt.datetime) -> int:
    """Accepted leads whose values changed: their finished deliveries are due again (waiting ones post
    the new values anyway, as a delivery reads the lead when it is posted). Returns how many."""
    accepted = [lead.pk for lead in leads if lead.status == Status.ACCEPTED]
    if not accepted:
        return 0
    return due_again(Delivery.objects.filter(lead_id__in=accepted).exclude(state__in=WAITING), at)


def due_again(deliveries: QuerySet[Delivery], at: dt.datetime) -> int:
    """Make deliveries pending again from ``at``, with all their attempts ahead of them; returns how many."""
    return deliveries.update(
        state=Delivery.State.PENDING, attempts=0, next_attempt_at=at, claim="", updated_at=at
    )
