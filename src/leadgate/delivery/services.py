"""What people do with destinations: test the connection, send a test lead, retry the dead, redeliver.

Each answer carries the exact exchanges (request and response, secrets redacted) so the person setting up a
destination sees what the CRM saw and said, before the event rather than during it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadgate.delivery.destinations.base import Exchange as ExchangeRecord
from leadgate.delivery.destinations.base import OutgoingLead, Result
from leadgate.delivery.engine import exchange_row, prepare
from leadgate.delivery.mapping import unmapped_values
from leadgate.delivery.models import Delivery, Destination, Exchange
from leadgate.delivery.outbox import due_again
from leadgate.leads.models import Lead, LeadEvent
from leadgate.leads.services import SYSTEM, Actor, history_event
from leadgate.leads.store import insert
from leadgate.lib.http import Session
from leadgate.lib.ids import ulid
from leadgate.rules.catalogue import Status
from leadgate.sources.models import Field, Source


@dataclass
class Check:
    """The answer to "test connection" or "send a test lead"."""

    ok: bool
    message: str
    exchanges: list[Exchange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    external_id: str = ""


def test_connection(destination: Destination) -> Check:
    """Authenticate and make one harmless read; the exchanges are kept in the destination's log."""
    with Session() as session:
        prepared = prepare(destination, session)
        if prepared.transport is None:
            return Check(False, prepared.problem)
        ok, message, exchanges = prepared.transport.test_connection()
    return Check(ok, message, _log(destination, exchanges, "test"), mapping_warnings(destination))


def send_test_lead(destination: Destination, source: Source | None = None, lead: Lead | None = None) -> Check:
    """Post one lead now, outside the delivery queue: a made-up one from the source's fields, or ``lead``.

    A made-up lead uses example.com addresses and a LeadID starting ``LD-TEST``, so it is easy to find and
    delete in the CRM. Nothing is recorded as a delivery; the exchanges go to the log.
    """
    with Session() as session:
        prepared = prepare(destination, session)
        if prepared.transport is None:
            return Check(False, prepared.problem)
        if lead is not None:
            outgoing = OutgoingLead(
                delivery_id=0,
                message_id=f"msg_test_{ulid()}",
                lead_id=lead.lead_id,
                source=lead.source.slug,
                status=lead.status,
                submitted_at=lead.submitted_at,
                fields=prepared.mapping.fields(lead.clean or {}),
            )
        else:
            source = source or destination.sources.order_by("pk").first()
            values = sample_values(source) if source else {}
            outgoing = OutgoingLead(
                delivery_id=0,
                message_id=f"msg_test_{ulid()}",
                lead_id=f"LD-TEST{ulid()[:19]}",
                source=source.slug if source else "test",
                status=Status.ACCEPTED.value,
                submitted_at=timezone.now(),
                fields=prepared.mapping.fields(values),
            )
        [result] = prepared.transport.send([outgoing])
    return Check(
        result.verdict == "delivered",
        _verdict_sentence(result),
        _log(destination, result.exchanges, "test_lead"),
        mapping_warnings(destination),
        result.external_id,
    )


def _verdict_sentence(result: Result) -> str:
    if result.verdict == "delivered":
        suffix = f" (record {result.external_id})" if result.external_id else ""
        return f"The test lead {result.lead.lead_id} was accepted{suffix}."
    if result.verdict == "refused":
        return f"The destination refused the test lead: {result.reason}"
    return f"The test lead was not delivered (a real lead would be retried): {result.reason}"


def _log(destination: Destination, records: Iterable[ExchangeRecord], purpose: str) -> list[Exchange]:
    now = timezone.now()
    return Exchange.objects.bulk_create([exchange_row(destination, r, now, purpose) for r in records])


SAMPLES: Mapping[str, Any] = {
    "email": "leadgate.test@example.com",
    "phone": "+14155550100",
    "country": "US",
    "state": "CA",
    "url": "https://example.com",
    "number": "1",
    "boolean": "true",
    "consent": "true",
}


def sample_values(source: Source) -> dict[str, Any]:
    """Plausible clean values for each of the source's fields, for a test lead."""
    values: dict[str, Any] = {}
    today = timezone.localdate()
    for f in Field.objects.filter(source=source).select_related("picklist").order_by("position", "pk"):
        if f.type in ("picklist", "multi_picklist") and f.picklist_id:
            first = f.picklist.values.order_by("position", "pk").first()  # type: ignore[union-attr]
            values[f.key] = first.value if first else "Test"
        elif f.type == "date":
            values[f.key] = today.isoformat()
        elif f.type == "datetime":
            values[f.key] = timezone.now().replace(microsecond=0).isoformat()
        else:
            values[f.key] = SAMPLES.get(f.type, f"Test {f.label}"[: f.max_length or 200])
    return values


def mapping_warnings(destination: Destination) -> list[str]:
    """Unmapped picklist values, as sentences for the destination's page and the test results."""
    return [
        f"{to}: list mapper {mapper} has no entry for {', '.join(repr(v) for v in values[:10])}"
        + (f" and {len(values) - 10} more" if len(values) > 10 else "")
        + " (those values are posted as they are)"
        for to, mapper, values in unmapped_values(destination)
    ]


def retry_deliveries(destination: Destination, message_ids: Iterable[str] | None = None) -> int:
    """Dead deliveries (all of the destination's, or those named) due again now, with fresh attempts."""
    rows = Delivery.objects.filter(destination=destination, state=Delivery.State.DEAD)
    if message_ids is not None:
        rows = rows.filter(message_id__in=list(message_ids))
    return due_again(rows, timezone.now())


def redeliver(lead: Lead, destination: Destination, *, actor: Actor = SYSTEM) -> Delivery:
    """Post an accepted lead to a destination again (or for the first time), with the same ``webhook-id``;
    the lead's history says who asked."""
    if lead.status != Status.ACCEPTED:
        raise ValueError(f"only accepted leads are delivered; {lead.lead_id} is {lead.status}")
    now = timezone.now()
    with transaction.atomic():
        before = (lead.status, lead.disposition_code)
        event = history_event(lead, LeadEvent.Kind.REDELIVERED, actor, now, before, note=f"to {destination}")
        insert(LeadEvent, [event])
        delivery, created = Delivery.objects.get_or_create(
            lead=lead,
            destination=destination,
            defaults={
                "source_id": lead.source_id,
                "message_id": f"msg_{ulid()}",
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            },
        )
        if not created:
            due_again(Delivery.objects.filter(pk=delivery.pk), now)
            delivery.refresh_from_db()
    return delivery


def purge_log(now: dt.datetime | None = None) -> int:
    """Forget exchanges older than LEADGATE_DELIVERY_LOG_DAYS (attempts keep their verdict and reason)."""
    from django.conf import settings

    before = (now or timezone.now()) - dt.timedelta(days=settings.LEADGATE_DELIVERY_LOG_DAYS)
    deleted, _ = Exchange.objects.filter(at__lt=before).delete()
    return deleted
