"""Destinations: read them with their health and delivery counts, test them, retry the dead; a lead's
deliveries with their attempt log, and redelivering one lead.

No answer ever carries a destination's secret: the URL is shown as scheme and host only, the settings
(``config``) are not shown, and the exchanges were redacted before they were stored.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.db.models import Count, Prefetch
from django.http import HttpRequest
from ninja import Router

from leadgate.accounts.models import Role
from leadgate.delivery import services
from leadgate.delivery.models import Delivery, DeliveryAttempt, Destination, Exchange
from leadgate.leads.models import Lead
from leadgate.lib.http import redact_url
from leadgate.rules.catalogue import Status

from .auth import actor_for, key_auth, require_role
from .leads import _get_lead, delivery_out
from .problems import AUTH_ERRORS, Problem, ProblemSchema
from .schemas import (
    CheckOut,
    DeliveryOut,
    DeliveryPage,
    DestinationDetail,
    DestinationOut,
    LeadDeliveryOut,
    RetryIn,
    RetryOut,
    TestLeadIn,
)
from .sources import get_source

router = Router(tags=["destinations"])
NOT_FOUND = {404: ProblemSchema, **AUTH_ERRORS}
STATES = tuple(Delivery.State.values)
MAX_PAGE = 500
MAX_RETRY_IDS = 1000


def get_destination(key: str) -> Destination:
    destination = Destination.objects.filter(key=key).first()
    if destination is None:
        raise Problem(404, "unknown_destination", f'No destination "{key}".')
    return destination


def health(destination: Destination) -> dict[str, Any]:
    """How the destination is doing: disabled, paused by its circuit breaker, failing, or delivering."""
    return {
        "status": destination.health,
        "failures_in_a_row": destination.failures_in_a_row,
        "paused_until": destination.paused_until,
        "pause_reason": destination.pause_reason,
    }


def _counts(destination_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(STATES, 0) for pk in destination_ids}
    rows = (
        Delivery.objects.filter(destination_id__in=destination_ids)
        .order_by()
        .values_list("destination_id", "state")
        .annotate(n=Count("id"))
    )
    for destination_id, state, n in rows:
        counts[destination_id][state] = n
    return counts


def _destination_out(destination: Destination, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "key": destination.key,
        "name": destination.name,
        "kind": destination.kind,
        "url": redact_url(destination.url) if destination.url else "",
        "enabled": destination.enabled,
        "health": health(destination),
        "counts": counts,
        "sources": sorted(s.slug for s in destination.sources.all()),
    }


@router.get("/destinations", auth=key_auth, response={200: list[DestinationOut], **AUTH_ERRORS})
def list_destinations(request: HttpRequest) -> list[dict[str, Any]]:
    """Every destination with its health and its deliveries by state."""
    require_role(request, Role.VIEWER)
    destinations = list(Destination.objects.prefetch_related("sources").order_by("key"))
    counts = _counts([d.pk for d in destinations])
    return [_destination_out(d, counts[d.pk]) for d in destinations]


@router.get(
    "/destinations/{key}", auth=key_auth, response={200: DestinationDetail, **NOT_FOUND}, by_alias=True
)
def get_one(request: HttpRequest, key: str) -> dict[str, Any]:
    """One destination with its field mapping and the picklist values its list mappers lack."""
    require_role(request, Role.VIEWER)
    destination = get_destination(key)
    out = _destination_out(destination, _counts([destination.pk])[destination.pk])
    out["mapping"] = [
        {
            "from": row.from_field or None,
            "value": None if row.from_field else row.value,
            "to": row.to,
            "mapper": row.mapper.key if row.mapper else None,
        }
        for row in destination.mapping.select_related("mapper")
    ]
    out["warnings"] = services.mapping_warnings(destination)
    return out


def _exchange_url(url: str, destination: Destination) -> str:
    """Host only where the exchange went to the destination's own URL and that URL may carry a token in
    its path or query (a webhook's ``/hooks/T0K3N``), as the web UI shows it."""
    own = destination.url
    if own and url.startswith(own) and redact_url(own) != own.rstrip("/") + "/…":
        return redact_url(url)
    return url


def _exchange_out(exchange: Exchange, destination: Destination) -> dict[str, Any]:
    return {
        "at": exchange.at,
        "method": exchange.method,
        "url": _exchange_url(exchange.url, destination),
        "request_headers": exchange.request_headers,
        "request_body": exchange.request_body,
        "status": exchange.status,
        "reason": exchange.reason,
        "response_body": exchange.response_body,
        "duration": exchange.duration,
        "error": exchange.error,
    }


def _check_out(check: services.Check, destination: Destination) -> dict[str, Any]:
    return {
        "ok": check.ok,
        "message": check.message,
        "warnings": check.warnings,
        "external_id": check.external_id,
        "exchanges": [_exchange_out(e, destination) for e in check.exchanges],
    }


@router.post("/destinations/{key}/test", auth=key_auth, response={200: CheckOut, **NOT_FOUND})
def test_connection(request: HttpRequest, key: str) -> dict[str, Any]:
    """Authenticate and make one harmless request; the answer shows the exchanges. A failed test is
    still 200: ``ok`` says how it went."""
    require_role(request, Role.MANAGER)
    destination = get_destination(key)
    return _check_out(services.test_connection(destination), destination)


@router.post("/destinations/{key}/test-lead", auth=key_auth, response={200: CheckOut, **NOT_FOUND})
def test_lead(request: HttpRequest, key: str, body: TestLeadIn | None = None) -> dict[str, Any]:
    """Post one lead now, outside the queue: a made-up one from ``source``'s fields, or the lead
    ``lead_id``. Nothing is recorded as a delivery."""
    require_role(request, Role.MANAGER)
    destination = get_destination(key)
    source = get_source(body.source) if body and body.source else None
    lead = _get_lead(body.lead_id) if body and body.lead_id else None
    return _check_out(services.send_test_lead(destination, source=source, lead=lead), destination)


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"delivery:{pk}".encode()).decode().rstrip("=")


def _after(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, pk = text.partition(":")
        if kind == "delivery" and pk.isdigit():
            return int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise Problem(422, "invalid_cursor", "The cursor is not one this API gave out; start again without it.")


@router.get(
    "/destinations/{key}/deliveries",
    auth=key_auth,
    response={200: DeliveryPage, 422: ProblemSchema, **NOT_FOUND},
)
def deliveries(
    request: HttpRequest, key: str, state: str = "", source: str = "", cursor: str = "", limit: int = 100
) -> dict[str, Any]:
    """The destination's deliveries, newest first, optionally of one state and one source."""
    require_role(request, Role.VIEWER)
    destination = get_destination(key)
    if not 1 <= limit <= MAX_PAGE:
        raise Problem(422, "invalid_limit", f"limit must be between 1 and {MAX_PAGE}.")
    rows = Delivery.objects.filter(destination=destination).order_by("-id")
    if state:
        if state not in STATES:
            raise Problem(422, "invalid_state", f"Unknown state {state!r}; use one of {', '.join(STATES)}.")
        rows = rows.filter(state=state)
    if source:
        rows = rows.filter(source=get_source(source))
    if cursor:
        rows = rows.filter(id__lt=_after(cursor))
    page = list(rows.select_related("destination", "source")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    # The LeadIDs alone: a lead row carries all its values, which a page of deliveries does not need.
    lead_ids = dict(Lead.objects.filter(pk__in={d.lead_id for d in page}).values_list("pk", "lead_id"))
    return {
        "items": [delivery_out(d, lead_ids.get(d.lead_id, ""), d.source.slug) for d in page],
        "next_cursor": _cursor(page[-1].pk) if more else None,
    }


@router.post(
    "/destinations/{key}/retry", auth=key_auth, response={200: RetryOut, 422: ProblemSchema, **NOT_FOUND}
)
def retry(request: HttpRequest, key: str, body: RetryIn | None = None) -> dict[str, int]:
    """Dead deliveries due again now with fresh attempts: those named by ``message_ids``, or all of them."""
    require_role(request, Role.MANAGER)
    destination = get_destination(key)
    message_ids = body.message_ids if body else None
    if message_ids is not None and len(message_ids) > MAX_RETRY_IDS:
        raise Problem(422, "too_many_ids", f"Name at most {MAX_RETRY_IDS} deliveries at a time.")
    return {"retried": services.retry_deliveries(destination, message_ids)}


@router.get(
    "/leads/{lead_id}/deliveries",
    auth=key_auth,
    response={200: list[LeadDeliveryOut], **NOT_FOUND},
    tags=["leads"],
)
def lead_deliveries(request: HttpRequest, lead_id: str) -> list[dict[str, Any]]:
    """The lead's deliveries, each with its attempts and the HTTP exchanges they made (oldest first)."""
    require_role(request, Role.VIEWER)
    lead = _get_lead(lead_id)
    attempts = DeliveryAttempt.objects.order_by("number").prefetch_related(
        Prefetch("exchanges", queryset=Exchange.objects.order_by("id"))
    )
    rows = (
        lead.deliveries.select_related("destination")
        .prefetch_related(Prefetch("attempts_log", queryset=attempts))
        .order_by("destination__key")
    )
    out = []
    for delivery in rows:
        item = delivery_out(delivery, lead.lead_id, lead.source.slug)
        item["attempt_log"] = [
            {
                "number": a.number,
                "at": a.at,
                "verdict": a.verdict,
                "reason": a.reason,
                "external_id": a.external_id,
                "duration": a.duration,
                "exchanges": [_exchange_out(e, delivery.destination) for e in a.exchanges.all()],
            }
            for a in delivery.attempts_log.all()
        ]
        out.append(item)
    return out


@router.post(
    "/leads/{lead_id}/deliveries/{destination_key}/redeliver",
    auth=key_auth,
    response={200: DeliveryOut, 409: ProblemSchema, **NOT_FOUND},
    tags=["leads"],
)
def redeliver(request: HttpRequest, lead_id: str, destination_key: str) -> dict[str, Any]:
    """Post an accepted lead to the destination again (or for the first time), with the same
    ``webhook-id``; the delivery is pending with fresh attempts."""
    key = require_role(request, Role.MANAGER)
    lead = _get_lead(lead_id)
    destination = get_destination(destination_key)
    if lead.status != Status.ACCEPTED:
        raise Problem(
            409,
            "lead_not_accepted",
            f"Only accepted leads are delivered; {lead.lead_id} is {lead.status.replace('_', ' ')}.",
        )
    delivery = services.redeliver(lead, destination, actor=actor_for(key))
    delivery.destination = destination
    return delivery_out(delivery, lead.lead_id, lead.source.slug)
