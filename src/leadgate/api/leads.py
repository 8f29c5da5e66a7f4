"""Leads: list with filters and cursor pagination, read with history, edit and reprocess, reject by hand."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router

from leadgate.accounts.models import Role
from leadgate.delivery.models import Delivery
from leadgate.leads.history import lead_history
from leadgate.leads.models import Lead
from leadgate.leads.services import map_submission, reject_leads, reprocess_leads
from leadgate.lib.ids import normalize_lead_id
from leadgate.sources.compile import compiled_source

from .auth import actor_for, key_auth, require_role
from .intake import router as intake_router
from .problems import AUTH_ERRORS, Problem, ProblemSchema
from .schemas import LeadDetail, LeadEditIn, LeadPage, RejectIn
from .sources import STATUSES, get_source

router = Router(tags=["leads"])
NOT_FOUND = {404: ProblemSchema, **AUTH_ERRORS}
MAX_PAGE = 500


def _lead_out(lead: Lead) -> dict[str, Any]:
    return {
        "lead_id": lead.lead_id,
        "source": lead.source.slug,
        "status": lead.status,
        "disposition_code": lead.disposition_code,
        "custom_reason": lead.custom_reason,
        "problems": lead.problems,
        "values": lead.values,
        "clean": lead.clean,
        "received_via": lead.received_via,
        "external_id": lead.external_id,
        "submitted_at": lead.submitted_at,
        "processed_at": lead.processed_at,
        "updated_at": lead.updated_at,
        "first_accepted_at": lead.first_accepted_at,
    }


WAITING = (Delivery.State.PENDING, Delivery.State.RETRYING)


def delivery_out(delivery: Delivery, lead_id: str, source: str) -> dict[str, Any]:
    """A delivery as the API shows it; the destination must be selected with it."""
    return {
        "message_id": delivery.message_id,
        "lead_id": lead_id,
        "source": source,
        "destination": delivery.destination.key,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at if delivery.state in WAITING else None,
        "external_id": delivery.external_id,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "delivered_at": delivery.delivered_at,
    }


def _detail(lead: Lead) -> dict[str, Any]:
    out = _lead_out(lead)
    out["deliveries"] = [
        delivery_out(d, lead.lead_id, lead.source.slug)
        for d in lead.deliveries.select_related("destination").order_by("destination__key")
    ]
    out["history"] = [
        {
            "at": e.at,
            "kind": e.kind,
            "actor": e.actor,
            "user": e.user.username if e.user else None,
            "status_before": e.status_before,
            "status_after": e.status_after,
            "code_before": e.code_before,
            "code_after": e.code_after,
            "changes": e.changes,
            "note": e.note,
        }
        for e in lead_history(lead)
    ]
    return out


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"lead:{pk}".encode()).decode().rstrip("=")


def _after(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, pk = text.partition(":")
        if kind == "lead" and pk.isdigit():
            return int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise Problem(422, "invalid_cursor", "The cursor is not one this API gave out; start again without it.")


# The same path as intake's POST: django-ninja routes a path by its first router, so this GET joins that one.
@intake_router.get(
    "/sources/{slug}/leads", auth=key_auth, response={200: LeadPage, 422: ProblemSchema, **NOT_FOUND}
)
def list_leads(
    request: HttpRequest,
    slug: str,
    status: list[str] = Query(None),  # noqa: B008
    code: list[str] = Query(None),  # noqa: B008
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    q: str = "",
    cursor: str = "",
    limit: int = 100,
) -> dict[str, Any]:
    """Newest first. `since`/`until` are on the submitted time; `q` finds text in the LeadID or values."""
    require_role(request, Role.VIEWER)
    source = get_source(slug)
    if not 1 <= limit <= MAX_PAGE:
        raise Problem(422, "invalid_limit", f"limit must be between 1 and {MAX_PAGE}.")
    leads = Lead.objects.filter(source=source).select_related("source").order_by("-id")
    if status:
        unknown = sorted(set(status) - set(STATUSES))
        if unknown:
            raise Problem(
                422, "invalid_status", f"Unknown status {unknown[0]!r}; use one of {', '.join(STATUSES)}."
            )
        leads = leads.filter(status__in=status)
    if code:
        leads = leads.filter(disposition_code__in=[c.upper() for c in code])
    if since:
        leads = leads.filter(submitted_at__gte=since)
    if until:
        leads = leads.filter(submitted_at__lt=until)
    if q.strip():
        text = q.strip()
        leads = leads.filter(Q(lead_id__iexact=normalize_lead_id(text) or text) | Q(values__icontains=text))
    if cursor:
        leads = leads.filter(id__lt=_after(cursor))
    page = list(leads[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "items": [_lead_out(lead) for lead in page],
        "next_cursor": _cursor(page[-1].pk) if more else None,
    }


def _get_lead(lead_id: str) -> Lead:
    lead = Lead.objects.select_related("source").filter(lead_id=normalize_lead_id(lead_id) or lead_id).first()
    if lead is None:
        raise Problem(404, "unknown_lead", f'No lead "{lead_id}".')
    return lead


@router.get("/leads/{lead_id}", auth=key_auth, response={200: LeadDetail, **NOT_FOUND})
def get_lead(request: HttpRequest, lead_id: str) -> dict[str, Any]:
    """One lead with its values as submitted and clean, its problems and its full history."""
    require_role(request, Role.VIEWER)
    return _detail(_get_lead(lead_id))


@router.patch("/leads/{lead_id}", auth=key_auth, response={200: LeadDetail, 422: ProblemSchema, **NOT_FOUND})
def edit_lead(request: HttpRequest, lead_id: str, body: LeadEditIn) -> dict[str, Any]:
    """Change some values (keyed by field key, label or alias) and decide the lead again."""
    key = require_role(request, Role.MANAGER)
    lead = _get_lead(lead_id)
    values, unknown = map_submission(compiled_source(lead.source).matcher, body.values)
    if unknown:
        raise Problem(422, "unknown_field", f'"{unknown[0]}" is not a field of source "{lead.source.slug}".')
    reprocess_leads(lead.source, [lead.lead_id], actor=actor_for(key), edits={lead.lead_id: values})
    lead.refresh_from_db()
    return _detail(lead)


@router.post(
    "/leads/{lead_id}/reject", auth=key_auth, response={200: LeadDetail, 422: ProblemSchema, **NOT_FOUND}
)
def reject_lead(request: HttpRequest, lead_id: str, body: RejectIn) -> dict[str, Any]:
    """Reject the lead by hand (REJECT_LEAD_MANUAL); the reason, required, becomes its custom reason."""
    key = require_role(request, Role.MANAGER)
    lead = _get_lead(lead_id)
    if not body.reason.strip():
        raise Problem(
            422, "reason_required", "Say why the lead is rejected: the reason is its custom reason."
        )
    reject_leads(lead.source, [lead.lead_id], body.reason, actor=actor_for(key))
    lead.refresh_from_db()
    return _detail(lead)
