"""Source → Rules: dedupe, domain lists of the email fields, suppression, allocation cap and review hold.

Saved through the definition file like the Fields tab (``fields.save_source``). After a change of rules or
fields, "Reprocess rejected leads with the new rules" first shows what the new rules would decide, without
storing anything (``preview_reprocess``), then reprocesses them in the background (a ``ReprocessRun``, with
its progress on the tab), as the Resolve tab does.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from leadgate.accounts.models import Role
from leadgate.leads.dedupe import ORIGINAL_STATUSES
from leadgate.leads.models import Lead
from leadgate.leads.services import Actor, matching_lead_ids, preview_reprocess
from leadgate.leads.tasks import queue_reprocess
from leadgate.rules.catalogue import BY_CODE
from leadgate.rules.definitions import DedupeKey, DedupeScope, DomainMode, FieldType
from leadgate.sources.models import DomainList, Source, SuppressionList
from leadgate.web.resolve import shown_runs

from .access import requires
from .fields import (
    forget_changed,
    mark_changed,
    offer_context,
    rules_changed,
    save_source,
    source_item,
    split_errors,
    whole_number,
)
from .views import TABS

DEDUPE_KEYS = {
    DedupeKey.EMAIL.value: "Email",
    DedupeKey.PHONE.value: "Phone",
    DedupeKey.EMAIL_OR_PHONE.value: "Email or phone",
    DedupeKey.EMAIL_AND_PHONE.value: "Email and phone",
}
DEDUPE_SCOPES = {DedupeScope.SOURCE.value: "This source", DedupeScope.ALL.value: "All sources"}
_MODE_LABELS = {
    "allow": "Allow only these",
    "exclude": "Exclude these",
    "exempt": "Exempt: these always pass",
}
MODES = {m.value: _MODE_LABELS.get(m.value, m.value.capitalize()) for m in DomainMode}


#: The source's attributes this form edits, as the definition file names them (and so its errors).
RULE_INPUTS = ("dedupe", "allocation", "review", "suppression_lists")


def _source(slug: str) -> Source:
    return get_object_or_404(Source, slug=slug)


def _email_fields(source: Source, lists: list[DomainList], post: Any = None) -> list[dict[str, Any]]:
    """Each email field with every domain list and the mode it is attached in ("" when it is not)."""
    rows = []
    for field in source.fields.filter(type=FieldType.EMAIL.value).prefetch_related("domain_rules"):
        modes = {rule.domain_list_id: rule.mode for rule in field.domain_rules.all()}
        if post is not None:  # the form again, as it was sent
            modes = {x.pk: post.get(f"domain-{field.key}-{x.key}", "") for x in lists}
        chosen = [(x, modes.get(x.pk, "")) for x in lists]
        rows.append({"field": field, "lists": [(x, mode, MODES.get(mode, mode)) for x, mode in chosen]})
    return rows


def _context(request: HttpRequest, source: Source, post: Any = None, **extra: Any) -> dict[str, Any]:
    lists = list(DomainList.objects.all())
    attached = set(source.suppression_lists.values_list("key", flat=True))
    if post is not None:
        attached = set(post.getlist("suppression_lists"))
    form = {
        "dedupe_key": source.dedupe_key,
        "dedupe_scope": source.dedupe_scope,
        "dedupe_lookback_days": "" if source.dedupe_lookback_days is None else source.dedupe_lookback_days,
        "allocation": "" if source.allocation is None else source.allocation,
        "review": source.review,
    }
    dedupe = "No dedupe"
    if source.dedupe_key:
        dedupe = (
            f"{DEDUPE_KEYS.get(source.dedupe_key, source.dedupe_key)} among the leads of "
            f"{DEDUPE_SCOPES.get(source.dedupe_scope, source.dedupe_scope).lower()}, "
            + (
                f"over the last {source.dedupe_lookback_days} days"
                if source.dedupe_lookback_days
                else "all time"
            )
        )
    return {
        "source": source,
        "tabs": TABS,
        "tab": "rules",
        "runs": shown_runs(request, source),
        "dedupe": dedupe,
        "dedupe_keys": DEDUPE_KEYS,
        "dedupe_scopes": DEDUPE_SCOPES,
        "modes": MODES,
        "email_fields": _email_fields(source, lists, post),
        "domain_lists": lists,
        "suppression_lists": [(x, x.key in attached) for x in SuppressionList.objects.all()],
        "used": Lead.objects.filter(source=source, status__in=ORIGINAL_STATUSES).count(),
        "changed": rules_changed(request, source),
        "offer": offer_context(source),
        "form": _form_values(post) if post is not None else form,
        "errors": {},
        "others": [],
        **extra,
    }


@require_GET
@requires(Role.VIEWER)
def rules(request: HttpRequest, slug: str) -> HttpResponse:
    source = _source(slug)
    return render(request, "web/rules/tab.html", _context(request, source))


def rules_from_form(post: Any, item: dict[str, Any]) -> dict[str, Any]:
    """The source's item with the rules from the form; everything else as it was."""
    item = dict(item)
    key = post.get("dedupe_key", "")
    item["dedupe"] = (
        {
            "key": key,
            "scope": post.get("dedupe_scope", DedupeScope.SOURCE.value),
            "lookback_days": whole_number(post.get("dedupe_lookback_days", "")),
        }
        if key
        else None
    )
    item["allocation"] = whole_number(post.get("allocation", ""))
    item["review"] = post.get("review") == "on"
    item["suppression_lists"] = sorted(k for k in post.getlist("suppression_lists") if k)
    lists = list(DomainList.objects.values_list("key", flat=True))
    fields = []
    for field in item.get("fields") or []:
        field = dict(field)
        if field.get("type") == FieldType.EMAIL.value:
            chosen = [(k, post.get(f"domain-{field['key']}-{k}", "")) for k in lists]
            field["domain_lists"] = [{"list": k, "mode": mode} for k, mode in chosen if mode]
        fields.append(field)
    item["fields"] = fields
    return item


def _form_values(post: Any) -> dict[str, Any]:
    """What the manager typed, to show again next to the errors."""
    return {
        "dedupe_key": post.get("dedupe_key", ""),
        "dedupe_scope": post.get("dedupe_scope", ""),
        "dedupe_lookback_days": post.get("dedupe_lookback_days", ""),
        "allocation": post.get("allocation", ""),
        "review": post.get("review") == "on",
    }


@require_POST
@requires(Role.MANAGER)
def rules_save(request: HttpRequest, slug: str) -> HttpResponse:
    source = _source(slug)
    item = rules_from_form(request.POST, source_item(source))
    errors, others = split_errors(save_source(source, item), RULE_INPUTS)
    if errors or others:
        context = _context(request, source, request.POST, errors=errors, others=others)
        return render(request, "web/rules/tab.html", context)
    mark_changed(request, source)
    messages.success(request, "Rules saved. Leads posted from now on are decided with them.")
    return redirect(reverse("web:rules", args=[source.slug]) + "#reprocess")


def _preview(source: Source) -> dict[str, Any]:
    found = preview_reprocess(source)
    found["deciding"] = found["total"] - found["manual"]  # a reviewer's rejection is not reprocessed
    found["dispositions"] = [
        (code, BY_CODE[code].title if code in BY_CODE else code, n)
        for code, n in found["dispositions"].items()
    ]
    return found


@require_GET
@requires(Role.MANAGER)  # it changes nothing, but it decides every rejected lead: the first step of acting
def rules_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """What the rules now would decide for the rejected and failed leads; nothing is stored."""
    source = _source(slug)
    preview = _preview(source)
    if getattr(request, "htmx", False):
        return render(
            request,
            "web/rules/preview.html",
            {"source": source, "preview": preview, "offer": offer_context(source)},
        )
    return render(request, "web/rules/tab.html", _context(request, source, preview=preview))


@require_POST
@requires(Role.MANAGER)
def rules_reprocess(request: HttpRequest, slug: str) -> HttpResponse:
    """Reprocess the source's rejected and failed leads with the rules as they are now, in the background
    (a run the worker does batch by batch; the tab shows its progress, as Resolve does)."""
    source = _source(slug)
    actor = Actor(f"web {request.user.get_username()}", request.user)  # type: ignore[arg-type]
    ids = matching_lead_ids(source)
    forget_changed(request, source)
    if ids:
        queue_reprocess(source, ids, actor=actor, note="Reprocessed with the new rules (Rules tab)")
    else:
        messages.info(request, "No rejected or failed leads to reprocess.")
    return redirect(reverse("web:rules", args=[source.slug]) + "#reprocess")


urlpatterns = [
    path("sources/<slug:slug>/rules/", rules, name="rules"),
    path("sources/<slug:slug>/rules/save", rules_save, name="rules_save"),
    path("sources/<slug:slug>/rules/preview", rules_preview, name="rules_preview"),
    path("sources/<slug:slug>/rules/reprocess", rules_reprocess, name="rules_reprocess"),
]
