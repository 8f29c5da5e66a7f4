"""Global Destinations pages: every destination with its health, create and edit (admins), field mapping.

Also the pieces the source's Post-out tab shares (`web.postout`): health, delivery counts, the delivery log,
and the Test connection / Send test lead answers with their exchanges.

Secrets are write-only: no page renders one back, an empty secret field keeps the current one. Exchange
bodies carry personal data (the lead's values), so viewers see the log's verdicts but not the bodies.
Everything shown from an exchange came from the outside world: templates autoescape, never ``|safe``.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadgate.accounts.models import Role
from leadgate.delivery import services
from leadgate.delivery.destinations.forms import KindForm
from leadgate.delivery.mapping import mapping_problems
from leadgate.delivery.models import Delivery, DeliveryAttempt, Destination, DestinationMapping, Exchange
from leadgate.lib.http import redact_url
from leadgate.lib.tokens import new_webhook_secret
from leadgate.lib.webhooks import secret_key
from leadgate.sources.models import ListMapper, Source

from .access import has_role, requires

STATES = [state.value for state in Delivery.State]
#: Attempts shown in a delivery log, newest first.
LOG_SIZE = 30
#: Empty rows under a destination's mapping, to add fields without a script.
EXTRA_ROWS = 3
KIND_LABELS = {
    "webhook": "Webhook",
    "hubspot": "HubSpot",
    "salesforce": "Salesforce",
    "marketo": "Marketo",
}


# --- shown on both pages --------------------------------------------------------------------------------


def may_hold_token(url: str) -> bool:
    """A URL with a path, query or user info may carry a token (``/hooks/T0K3N``, ``?key=…``)."""
    try:
        parsed = httpx.URL(url)
    except Exception:
        return True
    return bool(parsed.path not in ("", "/") or parsed.query or parsed.userinfo)


def shown_url(url: str) -> str:
    """A destination's URL as lists and logs show it: whole when it cannot hold a token, else host only."""
    if not url:
        return ""
    return redact_url(url) if may_hold_token(url) else url


def shown_exchange_url(url: str, destination: Destination) -> str:
    """An exchange's URL: host only where it is the destination's own token-bearing URL (a webhook's)."""
    if destination.url and may_hold_token(destination.url) and url.startswith(destination.url):
        return redact_url(url)
    return url


@dataclass
class Health:
    state: str  # delivering | paused | disabled
    text: str
    reason: str = ""
    failures: int = 0
    until: Any = None  # while paused


def health(destination: Destination) -> Health:
    """Delivering, paused by the circuit breaker (until when and why), or disabled."""
    state = destination.health
    if state == "disabled":
        return Health("disabled", "Disabled: nothing is posted", failures=destination.failures_in_a_row)
    if state == "paused":
        return Health(
            "paused",
            "Paused",
            destination.pause_reason,
            destination.failures_in_a_row,
            destination.paused_until,
        )
    return Health("delivering", "Delivering", failures=destination.failures_in_a_row)


def counts_by_state(destinations: Iterable[Destination], source: Source | None = None) -> dict[int, dict]:
    """Deliveries per destination and state (of one source's leads, or of all)."""
    ids = [d.pk for d in destinations]
    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(STATES, 0) for pk in ids}
    rows = Delivery.objects.filter(destination_id__in=ids)
    if source is not None:
        rows = rows.filter(source=source)
    for row in rows.values("destination_id", "state").annotate(n=Count("id")).order_by():
        counts[row["destination_id"]][row["state"]] = row["n"]
    return counts


@dataclass
class ShownExchange:
    """One exchange as the page shows it: the URL cut down, JSON bodies indented."""

    method: str
    url: str
    at: Any
    purpose: str
    request_headers: list[tuple[str, str]]
    request_body: str
    status: int | None
    reason: str
    response_body: str
    duration_ms: int
    error: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _pretty(body: str) -> str:
    if not body or body[:1] not in "{[":
        return body
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def shown_exchanges(exchanges: Iterable[Exchange], destination: Destination) -> list[ShownExchange]:
    return [
        ShownExchange(
            method=x.method,
            url=shown_exchange_url(x.url, destination),
            at=x.at,
            purpose=x.purpose,
            request_headers=sorted((str(k), str(v)) for k, v in (x.request_headers or {}).items()),
            request_body=_pretty(x.request_body),
            status=x.status,
            reason=x.reason,
            response_body=_pretty(x.response_body),
            duration_ms=round(x.duration * 1000),
            error=x.error,
        )
        for x in exchanges
    ]


@dataclass
class LogRow:
    attempt: DeliveryAttempt
    lead_id: str
    source_slug: str
    exchanges: list[ShownExchange] = field(default_factory=list)

    @property
    def duration_ms(self) -> int:
        return round(self.attempt.duration * 1000)


def delivery_log(
    destination: Destination, source: Source | None = None, size: int = LOG_SIZE
) -> list[LogRow]:
    """The destination's latest attempts (of one source's deliveries, or all), each with its exchanges."""
    attempts: QuerySet[DeliveryAttempt] = DeliveryAttempt.objects.filter(delivery__destination=destination)
    if source is not None:
        attempts = attempts.filter(delivery__source=source)
    attempts = (
        attempts.select_related("delivery__lead", "delivery__source")
        .prefetch_related("exchanges")
        .order_by("-at", "-id")[:size]
    )
    return [
        LogRow(
            attempt,
            attempt.delivery.lead.lead_id,
            attempt.delivery.source.slug,
            shown_exchanges(attempt.exchanges.all(), destination),
        )
        for attempt in attempts
    ]


def check_context(
    request: HttpRequest, destination: Destination, check: services.Check, action: str
) -> dict[str, Any]:
    return {
        "destination": destination,
        "check": check,
        "action": action,
        "exchanges": shown_exchanges(check.exchanges, destination),
    }


def run_check(action: str, destination: Destination, source: Source | None = None) -> services.Check:
    """Test connection or send a test lead; never an error page, whatever the destination does."""
    try:
        if action == "test":
            return services.test_connection(destination)
        return services.send_test_lead(destination, source=source)
    except Exception as exc:  # a transport is not supposed to raise; if one does, say so on the page
        return services.Check(False, f"The check could not run: {type(exc).__name__}: {exc}")


def mapping_rows(destination: Destination) -> list[dict[str, str]]:
    """The mapping as the definition file writes it (``from``/``value``/``to``/``mapper``)."""
    return [
        {
            "from": row.from_field,
            "value": row.value,
            "to": row.to,
            "mapper": row.mapper.key if row.mapper else "",
        }
        for row in destination.mapping.select_related("mapper")
    ]


# --- the list and a destination's page ------------------------------------------------------------------


def _destination(key: str) -> Destination:
    return get_object_or_404(Destination, key=key)


def _can_manage(request: HttpRequest) -> bool:
    return has_role(request.user, Role.MANAGER)  # type: ignore[arg-type]


@require_GET
@requires(Role.VIEWER)
def destination_list(request: HttpRequest) -> HttpResponse:
    """Every destination: kind, health, the sources posting to it and its deliveries by state."""
    found = list(Destination.objects.prefetch_related("sources"))
    counts = counts_by_state(found)
    rows = [
        {
            "destination": d,
            "kind": KIND_LABELS.get(d.kind, d.kind),
            "url": shown_url(d.url),
            "health": health(d),
            "sources": list(d.sources.all()),
            "counts": counts[d.pk],
        }
        for d in found
    ]
    return render(
        request,
        "web/destinations/list.html",
        {"rows": rows, "states": STATES, "nav": "destinations", "kinds": KIND_LABELS},
    )


def _detail_context(request: HttpRequest, destination: Destination) -> dict[str, Any]:
    return {
        "destination": destination,
        "kind": KIND_LABELS.get(destination.kind, destination.kind),
        "url": shown_url(destination.url),
        "health": health(destination),
        "sources": list(destination.sources.all()),
        "counts": counts_by_state([destination])[destination.pk],
        "states": STATES,
        "warnings": services.mapping_warnings(destination),
        "mapping": mapping_rows(destination),
        "log": delivery_log(destination),
        "secret_state": secret_state(destination),
        "show_bodies": _can_manage(request),
        "nav": "destinations",
    }


@require_GET
@requires(Role.VIEWER)
def destination_detail(request: HttpRequest, key: str) -> HttpResponse:
    destination = _destination(key)
    return render(request, "web/destinations/detail.html", _detail_context(request, destination))


@require_POST
@requires(Role.MANAGER)
def destination_check(request: HttpRequest, key: str, action: str) -> HttpResponse:
    """Test connection (``test``) or Send test lead (``test-lead``), answered in place for htmx."""
    destination = _destination(key)
    check = run_check(action, destination)
    context = check_context(request, destination, check, action)
    if getattr(request, "htmx", False):
        return render(request, "web/postout/check.html", context)
    page = _detail_context(request, destination)
    page["result"] = context
    return render(request, "web/destinations/detail.html", page)


def secret_state(destination: Destination) -> str:
    """Whether a secret is set and where it lives, never the secret."""
    if destination.secret_encrypted:
        return "Set (stored encrypted)."
    if destination.secret_env:
        return f"From the environment variable {destination.secret_env}."
    return "None."


# --- create and edit (admins) ---------------------------------------------------------------------------


def _formfield(field: Any, **kwargs: Any) -> forms.Field | None:
    if field.name == "url":
        kwargs["assume_scheme"] = "https"
    formfield: forms.Field | None = field.formfield(**kwargs)
    return formfield


class DestinationForm(forms.ModelForm):
    """The fields every kind has; the kind's own settings are its `KindForm`, shown under these."""

    class Meta:
        model = Destination
        formfield_callback = _formfield
        fields = ["key", "name", "url", "enabled"]
        labels = {"key": "Key", "name": "Name", "url": "URL", "enabled": "Enabled"}
        help_texts = {
            "key": "snake_case; names the destination in definition files and the API. Fixed once created.",
            "url": "Where leads are posted (a webhook's endpoint, the CRM instance or API base).",
            "enabled": "A disabled destination keeps its deliveries waiting; nothing is posted.",
        }
        widgets = {"url": forms.URLInput(attrs={"size": 60})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["key"].disabled = True


def kind_form_class(kind: str) -> type[KindForm]:
    module = importlib.import_module(f"leadgate.delivery.destinations.{kind}.forms")
    form: type[KindForm] = module.Form
    return form


def _kind_form(kind: str, data: Any = None, initial: dict[str, Any] | None = None) -> KindForm:
    return kind_form_class(kind)(data, initial=initial, prefix="config")


def _save_destination(
    request: HttpRequest, destination: Destination | None, kind: str
) -> tuple[Destination | None, DestinationForm, KindForm]:
    """Validate both forms and save; the secret only when one was typed (a new webhook gets one)."""
    common = DestinationForm(request.POST, instance=destination)
    own = _kind_form(kind, request.POST)
    common_ok, own_ok = common.is_valid(), own.is_valid()
    secret = own.cleaned_data.get("secret", "") if own_ok else ""
    if own_ok and secret and kind == "webhook":
        try:
            secret_key(secret)
        except ValueError as exc:
            own.add_error("secret", str(exc).capitalize() + ".")
            own_ok = False
    if not (common_ok and own_ok):
        return None, common, own
    saved: Destination = common.save(commit=False)
    saved.kind = kind
    saved.config = own.config()
    if secret:
        saved.set_secret(secret)
    elif not saved.pk and kind == "webhook" and not saved.secret_env:
        saved.set_secret(new_webhook_secret())
    saved.save()  # bumps updated_at: workers read the destination again
    return saved, common, own


@require_http_methods(["GET", "POST"])
@requires(Role.ADMIN)
def destination_new(request: HttpRequest) -> HttpResponse:
    """Choose the kind first (its settings differ), then fill in the common fields and the kind's."""
    kind = request.GET.get("kind") or request.POST.get("kind", "")
    if kind not in KIND_LABELS:
        return render(
            request, "web/destinations/choose_kind.html", {"kinds": KIND_LABELS, "nav": "destinations"}
        )
    if request.method == "POST":
        saved, common, own = _save_destination(request, None, kind)
        if saved is not None:
            messages.success(request, f'Destination "{saved}" created. Now map its fields.')
            return redirect("web:destination_mapping", saved.key)
    else:
        common = DestinationForm(initial={"enabled": True})
        own = _kind_form(kind)
    return render(
        request,
        "web/destinations/form.html",
        {
            "common": common,
            "own": own,
            "kind": kind,
            "kind_label": KIND_LABELS[kind],
            "destination": None,
            "nav": "destinations",
        },
    )


@require_http_methods(["GET", "POST"])
@requires(Role.ADMIN)
def destination_edit(request: HttpRequest, key: str) -> HttpResponse:
    destination = _destination(key)
    if request.method == "POST":
        saved, common, own = _save_destination(request, destination, destination.kind)
        if saved is not None:
            messages.success(request, f'Destination "{saved}" saved.')
            return redirect("web:destination", saved.key)
        destination.refresh_from_db()  # the form may have touched the instance
    else:
        common = DestinationForm(instance=destination)
        own = _kind_form(destination.kind, initial=dict(destination.config or {}))
    return render(
        request,
        "web/destinations/form.html",
        {
            "common": common,
            "own": own,
            "kind": destination.kind,
            "kind_label": KIND_LABELS.get(destination.kind, destination.kind),
            "destination": destination,
            "secret_state": secret_state(destination),
            "nav": "destinations",
        },
    )


# --- the field mapping (admins) -------------------------------------------------------------------------


class MappingRowForm(forms.Form):
    from_field = forms.CharField(label="From field", required=False, max_length=100)
    value = forms.CharField(label="Or value", required=False, max_length=500)
    to = forms.CharField(label="Output field", required=False, max_length=200)
    # Free text under a select: an unknown mapper key is refused by mapping_problems, in its words.
    mapper = forms.CharField(label="List mapper", required=False, max_length=100)

    def row(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            "from": data.get("from_field", "").strip(),
            "value": data.get("value", ""),
            "to": data.get("to", "").strip(),
            "mapper": data.get("mapper", "").strip(),
        }


MappingFormSet = forms.formset_factory(MappingRowForm, extra=EXTRA_ROWS, can_delete=True, max_num=500)


def _mapping_initial(destination: Destination) -> list[dict[str, str]]:
    return [
        {"from_field": r["from"], "value": r["value"], "to": r["to"], "mapper": r["mapper"]}
        for r in mapping_rows(destination)
    ]


def save_mapping(destination: Destination, rows: list[dict[str, str]]) -> None:
    """Replace the destination's mapping rows and save it, so workers reload it (one transaction)."""
    mappers = {
        m.key: m for m in ListMapper.objects.filter(key__in=[r["mapper"] for r in rows if r["mapper"]])
    }
    with transaction.atomic():
        DestinationMapping.objects.filter(destination=destination).delete()
        DestinationMapping.objects.bulk_create(
            DestinationMapping(
                destination=destination,
                position=i,
                from_field=row["from"],
                value="" if row["from"] else row["value"],
                to=row["to"],
                mapper=mappers.get(row["mapper"]) if row["mapper"] else None,
            )
            for i, row in enumerate(rows)
        )
        destination.save()


def _on_row(problem: str, numbers: list[int]) -> str:
    """``mapping[2].mapper: …`` (the definition file's words) as the editor's ``Row 4, list mapper: …``."""
    found = re.match(r"mapping\[(\d+)\](\.mapper)?: ", problem)
    if not found or int(found.group(1)) >= len(numbers):
        return problem
    where = f"Row {numbers[int(found.group(1))]}" + (", list mapper" if found.group(2) else "")
    return f"{where}: {problem[found.end() :]}"


@require_http_methods(["GET", "POST"])
@requires(Role.ADMIN)
def destination_mapping(request: HttpRequest, key: str) -> HttpResponse:
    """The field mapping: rows checked against every source posting here before anything is saved."""
    destination = _destination(key)
    sources = list(destination.sources.all())
    problems: list[str] = []
    if request.method == "POST":
        formset = MappingFormSet(request.POST, prefix="row")
        if formset.is_valid():
            kept = [
                (number, form.row())
                for number, form in enumerate(formset.forms, start=1)
                if form.cleaned_data and not form.cleaned_data.get("DELETE") and any(form.row().values())
            ]
            rows = [row for _, row in kept]
            numbers = [number for number, _ in kept]
            problems = [_on_row(problem, numbers) for problem in mapping_problems(rows, sources)]
            if not problems:
                save_mapping(destination, rows)
                messages.success(request, f'Field mapping of "{destination}" saved ({len(rows)} rows).')
                return redirect("web:destination", destination.key)
    else:
        formset = MappingFormSet(initial=_mapping_initial(destination), prefix="row")
    field_keys = sorted({key for s in sources for key in s.fields.values_list("key", flat=True)})
    return render(
        request,
        "web/destinations/mapping.html",
        {
            "destination": destination,
            "formset": formset,
            "problems": problems,
            "sources": sources,
            "field_keys": field_keys,
            "mappers": list(ListMapper.objects.select_related("picklist")),
            "warnings": services.mapping_warnings(destination),
            "nav": "destinations",
        },
    )


urlpatterns = [
    path("destinations/", destination_list, name="destinations"),
    path("destinations/new", destination_new, name="destination_new"),
    path("destinations/<slug:key>/", destination_detail, name="destination"),
    path("destinations/<slug:key>/edit", destination_edit, name="destination_edit"),
    path("destinations/<slug:key>/mapping", destination_mapping, name="destination_mapping"),
    path(
        "destinations/<slug:key>/test",
        destination_check,
        {"action": "test"},
        name="destination_test",
    ),
    path(
        "destinations/<slug:key>/test-lead",
        destination_check,
        {"action": "test-lead"},
        name="destination_test_lead",
    ),
]
