"""Source → Post-out: where the source's accepted leads go, how that is going, and what to do about it.

Per destination: its health, this source's deliveries by state, unmapped list values, Test connection and
Send test lead (answered in place with the exact request and response), the delivery log and the dead
letters with Retry. Managers act here; creating and editing destinations is the admins' global page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from leadgate.accounts.models import Role
from leadgate.delivery import services
from leadgate.delivery.mapping import mapping_problems
from leadgate.delivery.models import Delivery, Destination
from leadgate.sources.models import Source

from . import destinations as shared
from .access import has_role, requires
from .views import TABS

#: Dead letters listed per destination (the oldest first: they have waited longest).
DEAD_SHOWN = 100
#: Message ids per retry call: "Retry all dead" of a big source goes in slices (SQLite's variable limit).
RETRY_SLICE = 500


def _source(slug: str) -> Source:
    return get_object_or_404(Source, slug=slug)


def _attached(source: Source, key: str) -> Destination:
    return get_object_or_404(source.destinations.all(), key=key)


def _cards(request: HttpRequest, source: Source) -> list[dict[str, Any]]:
    attached = list(source.destinations.all())
    counts = shared.counts_by_state(attached, source)
    cards = []
    for destination in attached:
        dead = (
            Delivery.objects.filter(source=source, destination=destination, state=Delivery.State.DEAD)
            .select_related("lead")
            .order_by("updated_at", "id")
        )
        cards.append(
            {
                "destination": destination,
                "kind": shared.KIND_LABELS.get(destination.kind, destination.kind),
                "url": shared.shown_url(destination.url),
                "health": shared.health(destination),
                "counts": counts[destination.pk],
                "warnings": services.mapping_warnings(destination),
                "log": shared.delivery_log(destination, source),
                "dead": list(dead[:DEAD_SHOWN]),
                "dead_count": counts[destination.pk]["dead"],
            }
        )
    return cards


def _context(request: HttpRequest, source: Source) -> dict[str, Any]:
    attached = set(source.destinations.values_list("pk", flat=True))
    return {
        "source": source,
        "tabs": TABS,
        "tab": "postout",
        "cards": _cards(request, source),
        "states": shared.STATES,
        "available": list(Destination.objects.exclude(pk__in=attached)),
        "show_bodies": has_role(request.user, Role.MANAGER),  # type: ignore[arg-type]
    }


@require_GET
@requires(Role.VIEWER)
def postout(request: HttpRequest, slug: str) -> HttpResponse:
    source = _source(slug)
    return render(request, "web/postout/tab.html", _context(request, source))


@require_POST
@requires(Role.MANAGER)
def check(request: HttpRequest, slug: str, key: str, action: str) -> HttpResponse:
    """Test connection or Send test lead (a made-up lead from this source's fields), answered in place."""
    source = _source(slug)
    destination = _attached(source, key)
    result = shared.check_context(request, destination, shared.run_check(action, destination, source), action)
    if getattr(request, "htmx", False):
        return render(request, "web/postout/check.html", result)
    context = _context(request, source)
    context["result"] = result  # without a script: the whole tab, the answer under its destination
    return render(request, "web/postout/tab.html", context)


def _back(source: Source, destination: Destination | None = None) -> HttpResponse:
    url = reverse("web:postout", args=[source.slug])
    return redirect(f"{url}#dest-{destination.key}" if destination else url)


@require_POST
@requires(Role.MANAGER)
def retry(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    """Retry the ticked dead letters, or all of this source's ("Retry all dead"): due now, attempts anew."""
    source = _source(slug)
    destination = _attached(source, key)
    if request.POST.get("all") == "1":
        ids = list(
            Delivery.objects.filter(
                source=source, destination=destination, state=Delivery.State.DEAD
            ).values_list("message_id", flat=True)
        )
    else:
        ids = [m for m in request.POST.getlist("message")[:DEAD_SHOWN] if m]
        if not ids:
            messages.error(request, "Tick the dead letters to retry first: nothing was changed.")
            return _back(source, destination)
    retried = 0
    for start in range(0, len(ids), RETRY_SLICE):
        retried += services.retry_deliveries(destination, ids[start : start + RETRY_SLICE])
    messages.success(
        request,
        f"{retried:,} dead deliver{'y' if retried == 1 else 'ies'} to {destination} "
        "will be posted again now.",
    )
    return _back(source, destination)


@require_POST
@requires(Role.MANAGER)
def attach(request: HttpRequest, slug: str) -> HttpResponse:
    """Post this source's accepted leads to one more destination (leads accepted from now on)."""
    source = _source(slug)
    destination = get_object_or_404(Destination, key=request.POST.get("destination", ""))
    problems = mapping_problems(shared.mapping_rows(destination), [source])
    if problems:
        messages.error(
            request,
            f"{destination} cannot take this source's leads: {'; '.join(problems)}. "
            "Change its field mapping first.",
        )
        return _back(source)
    source.destinations.add(destination)
    source.save(update_fields=["updated_at"])
    messages.success(request, f"Leads accepted from now on are also posted to {destination}.")
    return _back(source, destination)


@require_POST
@requires(Role.MANAGER)
def detach(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    """Stop posting new leads to a destination; deliveries already waiting still go out."""
    source = _source(slug)
    destination = _attached(source, key)
    source.destinations.remove(destination)
    source.save(update_fields=["updated_at"])
    messages.success(request, f"New leads are no longer posted to {destination}.")
    return _back(source)


urlpatterns = [
    path("sources/<slug:slug>/postout/", postout, name="postout"),
    path("sources/<slug:slug>/postout/attach", attach, name="postout_attach"),
    path(
        "sources/<slug:slug>/postout/<slug:key>/test",
        check,
        {"action": "test"},
        name="postout_test",
    ),
    path(
        "sources/<slug:slug>/postout/<slug:key>/test-lead",
        check,
        {"action": "test-lead"},
        name="postout_test_lead",
    ),
    path("sources/<slug:slug>/postout/<slug:key>/retry", retry, name="postout_retry"),
    path("sources/<slug:slug>/postout/<slug:key>/detach", detach, name="postout_detach"),
]
