"""The source's Leads tab: a filterable table, a lead's detail with its history, edit and reprocess, reject.

Every value on these pages came from a lead and is attacker-controlled: templates autoescape, never ``|safe``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from leadgate.accounts.models import Role
from leadgate.delivery.models import DeliveryAttempt, Destination, Exchange
from leadgate.delivery.services import redeliver
from leadgate.leads.history import lead_history
from leadgate.leads.models import Lead
from leadgate.leads.services import Actor, reject_leads, reprocess_leads
from leadgate.lib.ids import normalize_lead_id
from leadgate.rules.catalogue import BY_CODE, CATALOGUE, Status
from leadgate.sources.compile import compiled_source
from leadgate.sources.models import Source

from .access import has_role, requires
from .destinations import health, shown_exchanges
from .views import TABS

PAGE_SIZE = 50
#: Columns of the table: the source's first fields, as on the Summary.
VALUE_COLUMNS = 3
#: ?sort= value → the ordering it means (ties broken by the newest row, so pages never overlap).
SORTS = {
    "submitted": ("submitted_at", "id"),
    "-submitted": ("-submitted_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "status": ("status", "-submitted_at", "-id"),
    "-status": ("-status", "-submitted_at", "-id"),
    "code": ("disposition_code", "-submitted_at", "-id"),
    "-code": ("-disposition_code", "-submitted_at", "-id"),
}
DEFAULT_SORT = "-submitted"
STATUS_VALUES = frozenset(s.value for s in Status)


@dataclass(frozen=True)
class Filters:
    """The table's filters as the form sent them, each checked; a bad one is dropped, never an error page."""

    status: str = ""
    code: str = ""
    q: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    sort: str = DEFAULT_SORT

    @classmethod
    def from_request(cls, request: HttpRequest) -> Filters:
        status = request.GET.get("status", "")
        code = request.GET.get("code", "").strip().upper()
        sort = request.GET.get("sort", DEFAULT_SORT)
        return cls(
            status=status if status in STATUS_VALUES else "",
            code=code if code in BY_CODE else "",
            q=request.GET.get("q", "").strip()[:200],
            since=_date(request.GET.get("since", "")),
            until=_date(request.GET.get("until", "")),
            sort=sort if sort in SORTS else DEFAULT_SORT,
        )

    @property
    def active(self) -> bool:
        return bool(self.status or self.code or self.q or self.since or self.until)

    def apply(self, leads: Any, timezone: str) -> Any:
        if self.status:
            leads = leads.filter(status=self.status)
        if self.code:
            leads = leads.filter(disposition_code=self.code)
        if self.q:
            lead_id = normalize_lead_id(self.q)
            if lead_id:
                leads = leads.filter(lead_id=lead_id)
            else:
                leads = leads.filter(Q(email_key=self.q.lower()) | Q(values__icontains=self.q))
        # Dates as people mean them: whole days in the source's time zone, both ends included.
        zone = _zone(timezone)
        if self.since:
            leads = leads.filter(submitted_at__gte=dt.datetime.combine(self.since, dt.time(), zone))
        if self.until:
            end = dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), zone)
            leads = leads.filter(submitted_at__lt=end)
        return leads.order_by(*SORTS[self.sort])

    def query(self, **changes: Any) -> str:
        """This page's query string with some parameters changed (for sort links and pages)."""
        params = {
            "status": self.status,
            "code": self.code,
            "q": self.q,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "sort": self.sort if self.sort != DEFAULT_SORT else "",
        }
        params.update(changes)
        return urlencode({k: v for k, v in params.items() if v})


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _source(slug: str) -> Source:
    return get_object_or_404(Source, slug=slug)


def _lead(source: Source, lead_id: str) -> Lead:
    return get_object_or_404(
        Lead.objects.select_related("upload"), source=source, lead_id=normalize_lead_id(lead_id) or lead_id
    )


def _actor(request: HttpRequest) -> Actor:
    return Actor(f"web {request.user.get_username()}", request.user)  # type: ignore[arg-type]


def mask(value: Any) -> str:
    """A personal value as a viewer sees it: "ann@acme-corp.com" → "a•••@acme-corp.com", "Ann" → "A•••"."""
    text = str(value)
    local, at, domain = text.partition("@")
    return f"{local[:1]}•••@{domain}" if at else f"{text[:1]}•••"


class Masker:
    """Hides a lead's PII values (fields marked ``pii``) from viewers, also where reasons and messages quote
    them. Managers and admins see everything: they are the ones who fix values."""

    def __init__(self, lead: Lead, pii_keys: set[str], active: bool) -> None:
        self.keys = pii_keys if active else set()
        values = (str(v) for key in self.keys for v in (lead.values.get(key), lead.clean.get(key)) if v)
        found = {v for v in values if len(v) >= 3}  # shorter ones would mask half of every sentence
        self.secrets = sorted(found, key=len, reverse=True)  # the longest first: "ann@x.com" before "ann"

    def value(self, key: str, value: Any) -> Any:
        return mask(value) if key in self.keys and value not in (None, "") else value

    def text(self, text: str | None) -> str:
        text = text or ""
        for secret in self.secrets:
            text = text.replace(secret, mask(secret))
        return text


def _pii_keys(source: Source) -> set[str]:
    return set(source.fields.filter(pii=True).values_list("key", flat=True))


def _masks(request: HttpRequest) -> bool:
    return not has_role(request.user, Role.MANAGER)  # type: ignore[arg-type]


def _sort_links(filters: Filters) -> dict[str, dict[str, str]]:
    """Per sortable column: the link that sorts by it (descending first, then flips) and its aria-sort."""
    links = {}
    for column in ("submitted", "updated", "status", "code"):
        descending, ascending = f"-{column}", column
        if filters.sort == descending:
            links[column] = {"query": filters.query(sort=ascending, page=""), "aria": "descending"}
        elif filters.sort == ascending:
            links[column] = {"query": filters.query(sort=descending, page=""), "aria": "ascending"}
        else:
            links[column] = {"query": filters.query(sort=descending, page=""), "aria": ""}
    return links


@require_GET
@requires(Role.VIEWER)
def leads_table(request: HttpRequest, slug: str) -> HttpResponse:
    """Source → Leads: filter by status, code, text and submitted dates; sort; 50 a page (plain GET)."""
    source = _source(slug)
    filters = Filters.from_request(request)
    fields = list(source.fields.order_by("position", "id")[:VALUE_COLUMNS])
    leads = filters.apply(Lead.objects.filter(source=source), source.timezone)
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    pii, masks = _pii_keys(source), _masks(request)
    rows = []
    for lead in page:
        masker = Masker(lead, pii, masks)
        values = [masker.value(f.key, lead.values.get(f.key) or "") for f in fields]
        rows.append({"lead": lead, "values": values, "reason": masker.text(lead.custom_reason)})
    return render(
        request,
        "web/leads/table.html",
        {
            "source": source,
            "tabs": TABS,
            "tab": "leads",
            "filters": filters,
            "fields": fields,
            "rows": rows,
            "page": page,
            "previous_query": filters.query(page=page.previous_page_number()) if page.has_previous() else "",
            "next_query": filters.query(page=page.next_page_number()) if page.has_next() else "",
            "sorts": _sort_links(filters),
            "current_query": filters.query(page=page.number if page.number > 1 else ""),
            "statuses": [(s.value, s.value.replace("_", " ").capitalize()) for s in Status],
            "codes": [(d.code, d.title) for d in CATALOGUE],
        },
    )


@dataclass(frozen=True)
class ValueRow:
    key: str
    label: str
    submitted: Any
    clean: Any
    problems: list[dict[str, Any]]


def _problem(problem: dict[str, Any], labels: dict[str, str], masker: Masker) -> dict[str, Any]:
    key = problem.get("field") or ""
    return {
        **problem,
        "label": labels.get(key, ""),
        "value": masker.value(key, problem.get("value")),
        "message": masker.text(problem.get("message")),
        "suggestion": masker.text(problem.get("suggestion")),
    }


def _value_rows(lead: Lead, labels: dict[str, str], masker: Masker) -> list[ValueRow]:
    """One row per field of the source, then any other key the lead holds (a field removed since)."""
    keys = list(labels) + [key for key in lead.values if key not in labels]
    return [
        ValueRow(
            key=key,
            label=labels.get(key, key),
            submitted=masker.value(key, lead.values.get(key)),
            clean=masker.value(key, lead.clean.get(key)),
            problems=[_problem(p, labels, masker) for p in lead.problems if p.get("field") == key],
        )
        for key in keys
    ]


def _history(lead: Lead, labels: dict[str, str], masker: Masker) -> list[dict[str, Any]]:
    """The lead's events, newest first, each change as (label, before, after)."""
    events = reversed(lead_history(lead))
    return [
        {
            "event": event,
            "note": masker.text(event.note),
            "changes": [
                (labels.get(key, key), *[masker.value(key, v) for v in [*pair, None, None][:2]])
                for key, pair in (event.changes or {}).items()
            ],
        }
        for event in events
    ]


def _deliveries(lead: Lead, source: Source, masker: Masker) -> list[dict[str, Any]]:
    """Per destination: the lead's delivery with its attempts (newest first) and their exchanges, then the
    source's destinations the lead has no delivery to (attached or enabled after it was accepted)."""
    attempts = DeliveryAttempt.objects.order_by("-number").prefetch_related(
        Prefetch("exchanges", queryset=Exchange.objects.order_by("id"))
    )
    rows = []
    for delivery in (
        lead.deliveries.select_related("destination")
        .prefetch_related(Prefetch("attempts_log", queryset=attempts))
        .order_by("destination__key")
    ):
        destination = delivery.destination
        rows.append(
            {
                "destination": destination,
                "delivery": delivery,
                "health": health(destination),
                "last_error": masker.text(delivery.last_error),
                "attempts": [
                    {
                        "attempt": attempt,
                        "reason": masker.text(attempt.reason),
                        "duration_ms": round(attempt.duration * 1000),
                        "exchanges": shown_exchanges(attempt.exchanges.all(), destination),
                    }
                    for attempt in delivery.attempts_log.all()
                ],
            }
        )
    have = {row["destination"].pk for row in rows}
    for destination in source.destinations.exclude(pk__in=have).order_by("key"):
        rows.append({"destination": destination, "delivery": None, "health": health(destination)})
    return rows


@require_GET
@requires(Role.VIEWER)
def lead_detail(request: HttpRequest, slug: str, lead_id: str) -> HttpResponse:
    """One lead: values as submitted vs. clean, problems, history, upload; actions for managers."""
    source = _source(slug)
    lead = _lead(source, lead_id)
    labels = {field.key: field.label for field in compiled_source(source).rules.fields}
    code = BY_CODE.get(lead.disposition_code)
    masker = Masker(lead, _pii_keys(source), _masks(request))
    return render(
        request,
        "web/leads/detail.html",
        {
            "source": source,
            "tabs": TABS,
            "tab": "leads",
            "lead": lead,
            "code_title": code.title if code else "",
            "custom_reason": masker.text(lead.custom_reason),
            "masked": bool(masker.keys),
            "value_rows": _value_rows(lead, labels, masker),
            "problems": [_problem(p, labels, masker) for p in lead.problems],
            "history": _history(lead, labels, masker),
            "deliveries": _deliveries(lead, source, masker),
            # Exchange bodies carry the lead's values: viewers see verdicts, as on the Post-out tab.
            "show_bodies": not _masks(request),
            "back": request.GET.get("back", ""),
        },
    )


def _to_detail(source: Source, lead: Lead) -> HttpResponse:
    return redirect(reverse("web:lead", args=[source.slug, lead.lead_id]))


@require_POST
@requires(Role.MANAGER)
def edit_lead(request: HttpRequest, slug: str, lead_id: str) -> HttpResponse:
    """Edit some values and decide the lead again; only the values that changed are recorded."""
    source = _source(slug)
    lead = _lead(source, lead_id)
    labels = {field.key: field.label for field in compiled_source(source).rules.fields}
    edits = {}
    for key in labels:
        name = f"value:{key}"
        if name in request.POST:
            value = request.POST[name]
            if value != (lead.values.get(key) or ""):
                edits[key] = value
    if not edits:
        messages.info(request, "Nothing changed: the values are as they were.")
        return _to_detail(source, lead)
    before = lead.status
    reprocess_leads(source, [lead.lead_id], actor=_actor(request), edits={lead.lead_id: edits})
    lead.refresh_from_db()
    changed = ", ".join(labels.get(key, key) for key in edits)
    messages.success(
        request,
        f"Changed {changed} and checked the lead again: {_status(before)} → {_status(lead.status)}"
        + (f" ({lead.disposition_code})." if lead.disposition_code else "."),
    )
    return _to_detail(source, lead)


@require_POST
@requires(Role.MANAGER)
def reject_lead(request: HttpRequest, slug: str, lead_id: str) -> HttpResponse:
    """Reject the lead by hand (REJECT_LEAD_MANUAL); the reason, required, becomes its custom reason."""
    source = _source(slug)
    lead = _lead(source, lead_id)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, "Say why the lead is rejected: the reason becomes its custom reason.")
        return redirect(reverse("web:lead", args=[source.slug, lead.lead_id]) + "#reject")
    reject_leads(source, [lead.lead_id], reason[:2000], actor=_actor(request))
    messages.success(request, "Rejected by hand. Editing its values later checks it again.")
    return _to_detail(source, lead)


@require_POST
@requires(Role.MANAGER)
def redeliver_lead(request: HttpRequest, slug: str, lead_id: str) -> HttpResponse:
    """Post an accepted lead to one destination again (or for the first time), with the same webhook-id."""
    source = _source(slug)
    lead = _lead(source, lead_id)
    key = request.POST.get("destination", "")
    destination = (
        Destination.objects.filter(key=key)
        .filter(Q(sources=source) | Q(deliveries__lead=lead))
        .distinct()
        .first()
    )
    if destination is None:
        raise Http404("The lead's source does not post to that destination.")
    if lead.status != Status.ACCEPTED:
        messages.error(request, f"Only accepted leads are delivered; this lead is {_status(lead.status)}.")
    else:
        redeliver(lead, destination, actor=_actor(request))
        messages.success(
            request,
            f"Queued for {destination} again: it is posted within seconds, with the same webhook-id"
            " (a receiver that has it already drops the repeat).",
        )
    return redirect(reverse("web:lead", args=[source.slug, lead.lead_id]) + "#deliveries")


def _status(value: str) -> str:
    return value.replace("_", " ").capitalize()


urlpatterns = [
    path("sources/<slug:slug>/leads/", leads_table, name="leads"),
    path("sources/<slug:slug>/leads/<str:lead_id>/", lead_detail, name="lead"),
    path("sources/<slug:slug>/leads/<str:lead_id>/edit", edit_lead, name="lead_edit"),
    path("sources/<slug:slug>/leads/<str:lead_id>/reject", reject_lead, name="lead_reject"),
    path("sources/<slug:slug>/leads/<str:lead_id>/redeliver", redeliver_lead, name="lead_redeliver"),
]
