"""Source → Settings: name, kind, dates, time zone, status, capture form, status callback and ingestion keys.

(Named so that it is not mistaken for Django's settings.) The source's own attributes are saved through the
definition file like the Fields and Rules tabs; status, the callback secret and keys have their services.
An ingestion key's secret is shown once, in the answer to creating it: leadgate keeps only its digest, and
the page is neither redirected to nor cached, so the secret is not stored anywhere on the way.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from leadgate.accounts.models import ApiKey, Role
from leadgate.accounts.services import create_api_key, describe_api_key, revoke_api_key
from leadgate.sources.models import Source
from leadgate.sources.services import rotate_callback_secret, set_source_status

from .access import has_role, requires
from .fields import save_source, source_item, split_errors
from .views import TABS

#: What a source in each status may become, as buttons: (new status, button label).
STATUS_ACTIONS: dict[str, list[tuple[str, str]]] = {
    "draft": [("live", "Go live")],
    "live": [("paused", "Pause"), ("closed", "Close")],
    "paused": [("live", "Resume"), ("closed", "Close")],
    "closed": [("live", "Reopen")],
}
STATUS_DONE = {
    "live": "is live: it accepts leads",
    "paused": "is paused: leads are rejected as not live until it is resumed",
    "closed": "is closed: leads are rejected as not live",
}


@cache
def timezones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _source(slug: str) -> Source:
    return get_object_or_404(Source, slug=slug)


def _context(request: HttpRequest, source: Source, **extra: Any) -> dict[str, Any]:
    keys = source.api_keys.filter(kind=ApiKey.Kind.INGESTION).order_by("revoked_at", "-created_at", "-id")
    return {
        "source": source,
        "tabs": TABS,
        "tab": "settings",
        "kinds": Source.Kind.values,
        "timezones": timezones(),
        "actions": STATUS_ACTIONS.get(source.status, []),
        "keys": [describe_api_key(key) for key in keys],
        "show_secret": has_role(request.user, Role.MANAGER),  # type: ignore[arg-type]
        "form": {
            "name": source.name,
            "kind": source.kind,
            "starts_on": source.starts_on.isoformat() if source.starts_on else "",
            "ends_on": source.ends_on.isoformat() if source.ends_on else "",
            "timezone": source.timezone,
            "form": source.form_enabled,
            "callback_url": source.callback_url,
        },
        "errors": {},
        "others": [],
        **extra,
    }


def _back(source: Source, anchor: str = "") -> HttpResponse:
    return redirect(reverse("web:settings", args=[source.slug]) + (f"#{anchor}" if anchor else ""))


@require_GET
@requires(Role.VIEWER)
def settings_tab(request: HttpRequest, slug: str) -> HttpResponse:
    source = _source(slug)
    return render(request, "web/settings/tab.html", _context(request, source))


@require_POST
@requires(Role.MANAGER)
def settings_save(request: HttpRequest, slug: str) -> HttpResponse:
    source = _source(slug)
    post = request.POST
    typed = {
        "name": post.get("name", "").strip(),
        "kind": post.get("kind", ""),
        "starts_on": post.get("starts_on", "").strip() or None,
        "ends_on": post.get("ends_on", "").strip() or None,
        "timezone": post.get("timezone", "").strip(),
        "form": post.get("form") == "on",
        "callback_url": post.get("callback_url", "").strip(),
    }
    errors, others = split_errors(save_source(source, {**source_item(source), **typed}), typed)
    if errors or others:
        shown = {**typed, "starts_on": typed["starts_on"] or "", "ends_on": typed["ends_on"] or ""}
        context = _context(request, source, form=shown, errors=errors, others=others)
        return render(request, "web/settings/tab.html", context)
    messages.success(request, "Settings saved.")
    return _back(source)


@require_POST
@requires(Role.MANAGER)
def settings_status(request: HttpRequest, slug: str) -> HttpResponse:
    """Pause, resume, close, reopen or take live: only a live source accepts leads."""
    source = _source(slug)
    wanted = request.POST.get("status", "")
    allowed = {status for status, _ in STATUS_ACTIONS.get(source.status, [])}
    if wanted not in allowed:
        messages.error(
            request, f"A {source.status} source cannot become {wanted or 'that'}: nothing was changed."
        )
        return _back(source, "status")
    set_source_status(source, wanted)
    messages.success(request, f"{source.name} {STATUS_DONE[wanted]}.")
    return _back(source, "status")


@require_POST
@requires(Role.MANAGER)
def settings_rotate(request: HttpRequest, slug: str) -> HttpResponse:
    """A new callback signing secret; the old one stops at once."""
    source = _source(slug)
    if not source.callback_url:
        messages.error(request, "Set a callback URL first: there is no secret to rotate.")
        return _back(source, "callback")
    rotate_callback_secret(source)
    messages.success(request, "The callback secret was replaced; the old one no longer signs callbacks.")
    return _back(source, "callback")


@require_POST
@requires(Role.MANAGER)
def key_create(request: HttpRequest, slug: str) -> HttpResponse:
    """A new ingestion key; its secret is in this answer only."""
    source = _source(slug)
    name = request.POST.get("name", "").strip()[:200]
    key, secret = create_api_key(name, source=source, created_by=request.user)  # type: ignore[arg-type]
    context = _context(request, source, new_key={"name": key.name, "secret": secret})
    response = render(request, "web/settings/tab.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@requires(Role.MANAGER)
def key_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    source = _source(slug)
    key = get_object_or_404(ApiKey, pk=pk, source=source, kind=ApiKey.Kind.INGESTION)
    if revoke_api_key(key):
        messages.success(request, f"Key “{key.name}” ({key.prefix}…) is revoked: posts with it are refused.")
    else:
        messages.error(request, f"Key “{key.name}” was revoked already.")
    return _back(source, "keys")


urlpatterns = [
    path("sources/<slug:slug>/settings/", settings_tab, name="settings"),
    path("sources/<slug:slug>/settings/save", settings_save, name="settings_save"),
    path("sources/<slug:slug>/settings/status", settings_status, name="settings_status"),
    path("sources/<slug:slug>/settings/rotate-secret", settings_rotate, name="settings_rotate"),
    path("sources/<slug:slug>/settings/keys", key_create, name="settings_key_create"),
    path("sources/<slug:slug>/settings/keys/<int:pk>/revoke", key_revoke, name="settings_key_revoke"),
]
