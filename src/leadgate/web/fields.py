"""Source → Fields: the source's fields in order; managers edit, add, remove and reorder them.

Every change goes through the definition file (SPEC §6): the page builds the source's item as `leadgate
export` writes it, changes it, and applies it with ``apply_definition``. So the UI and `leadgate apply`
check with the same reader and can never disagree, and the apply bumps the rules version, so the next lead
posted is decided with the new rules. The reader's ``sources[0].fields[3].max_length: …`` errors are shown
next to the input they are about. The Rules and Settings tabs save the same way (``save_source``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import yaml
from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadgate.accounts.models import Role
from leadgate.leads.models import Lead
from leadgate.rules.definitions import FieldType
from leadgate.sources.definition_file import FIELD_KEYS, DefinitionError, apply_definition, export_definition
from leadgate.sources.models import Field, Picklist, Source
from leadgate.web.resolve import shown_runs

from .access import requires
from .views import TABS

#: Session key: sources whose rules changed since their rejected leads were last reprocessed from here.
CHANGED = "rules-changed"
#: The statuses reprocessing takes by default (``reprocess_matching``): decisions new rules may change.
REPROCESSED = ("rejected", "failed")
PICKLIST_TYPES = (FieldType.PICKLIST.value, FieldType.MULTI_PICKLIST.value)
TYPES = [t.value for t in FieldType]
#: What each input of the field form is called in the definition file (and so in its errors).
FIELD_INPUTS = tuple(key for key in FIELD_KEYS if key != "domain_lists")  # domain lists: the Rules tab
_ERROR = re.compile(
    r"^sources\[0\](?:\.fields\[(?P<index>\d+)\])?(?:\.(?P<key>[a-z_]+))?[^:]*: (?P<text>.*)$"
)


# --- the source as a definition-file item ------------------------------------------------------------------


def source_item(source: Source) -> dict[str, Any]:
    """The source as `leadgate export` writes it (what `apply` leaves out is filled in again when read)."""
    data = yaml.safe_load(export_definition([source.slug]))
    return dict(data["sources"][0])


def save_source(source: Source, item: dict[str, Any]) -> list[str]:
    """Apply the changed item; returns the definition reader's errors (then nothing was changed)."""
    text = yaml.safe_dump({"sources": [item]}, allow_unicode=True, sort_keys=False)
    try:
        apply_definition(text)
    except DefinitionError as exc:
        return exc.errors
    source.refresh_from_db()
    return []


def split_errors(
    errors: list[str], inputs: Iterable[str], field_index: int | None = None
) -> tuple[dict[str, list[str]], list[str]]:
    """Errors about one of the form's ``inputs`` (of the source, or of field ``field_index``) by input
    name, and the rest as sentences for the top of the form."""
    shown = set(inputs)
    by_input: dict[str, list[str]] = {}
    rest = []
    for line in errors:
        found = _ERROR.match(line)
        if found is not None:
            index = int(found["index"]) if found["index"] is not None else None
            # A field's error without a key is about the field as a whole: its key appears twice.
            key = found["key"] or ("key" if index is not None else "")
            if key in shown and index == field_index:
                by_input.setdefault(key, []).append(found["text"])
                continue
        rest.append(line.removeprefix("sources[0]."))
    return by_input, rest


def mark_changed(request: HttpRequest, source: Source) -> None:
    """Offer to reprocess the rejected leads: their decisions were made with the old rules."""
    changed = set(request.session.get(CHANGED, []))
    changed.add(source.slug)
    request.session[CHANGED] = sorted(changed)


def rules_changed(request: HttpRequest, source: Source) -> bool:
    return source.slug in request.session.get(CHANGED, [])


def forget_changed(request: HttpRequest, source: Source) -> None:
    request.session[CHANGED] = [slug for slug in request.session.get(CHANGED, []) if slug != source.slug]


def offer_context(source: Source) -> dict[str, int]:
    """The leads "Reprocess rejected leads" would decide again: rejected and failed ones (as the CLI)."""
    counts = dict(
        Lead.objects.filter(source=source, status__in=REPROCESSED)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    rejected, failed = counts.get("rejected", 0), counts.get("failed", 0)
    return {"rejected": rejected, "failed": failed, "candidates": rejected + failed}


# --- the form ------------------------------------------------------------------------------------------


def whole_number(text: str) -> int | str | None:
    """The number typed, or the text itself for the reader to refuse (never a guess)."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _number(text: str) -> float | int | str | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value):
        return text
    return int(value) if value.is_integer() else value


def field_from_form(post: Any, before: dict[str, Any]) -> dict[str, Any]:
    """The field's item from the form; settings the form does not show (domain lists) are kept."""
    item = dict(before)
    field_type = post.get("type", "text")
    item.update(
        {
            "label": post.get("label", "").strip(),
            "type": field_type,
            "required": post.get("required") == "on",
            "aliases": [line.strip() for line in post.get("aliases", "").splitlines() if line.strip()],
            "default": post.get("default", "").strip(),
            "pii": post.get("pii") == "on",
            "max_length": whole_number(post.get("max_length", "")),
            "min": _number(post.get("min", "")),
            "max": _number(post.get("max", "")),
            "integer": post.get("integer") == "on",
            "separator": post.get("separator", ";"),
            "mode": post.get("mode", "all"),
            "check_deliverability": post.get("check_deliverability") == "on",
            "country_format": post.get("country_format", "name"),
        }
    )
    if "key" in post:
        item["key"] = post.get("key", "").strip()
    # Options of another type are hidden in the form, so they are dropped rather than refused.
    if field_type in PICKLIST_TYPES:
        item["picklist"] = post.get("picklist", "")
        # No tick means every value, also those added to the picklist later.
        item["allowed_values"] = [v for v in post.getlist("allowed_values") if v] or None
    else:
        item["picklist"], item["allowed_values"] = "", None
    if field_type != FieldType.NUMBER.value:
        item["min"], item["max"], item["integer"] = None, None, False
    return item


def _form_context(
    request: HttpRequest,
    source: Source,
    item: dict[str, Any],
    *,
    new: bool,
    errors: dict[str, list[str]] | None = None,
    others: list[str] | None = None,
) -> dict[str, Any]:
    picklist = Picklist.objects.filter(key=item.get("picklist") or "").first()
    shown = {
        **item,
        "aliases": "\n".join(item.get("aliases") or []),
        "max_length": "" if item.get("max_length") is None else item["max_length"],
        "min": "" if item.get("min") is None else item["min"],
        "max": "" if item.get("max") is None else item["max"],
    }
    return {
        "source": source,
        "tabs": TABS,
        "tab": "fields",
        "item": shown,
        "new": new,
        "types": TYPES,
        "picklists": list(Picklist.objects.all()),
        "picklist": picklist,
        "picklist_values": list(picklist.values.values_list("value", flat=True)) if picklist else [],
        "allowed": set(item.get("allowed_values") or []),
        "errors": errors or {},
        "others": others or [],
    }


def _source(slug: str) -> Source:
    return get_object_or_404(Source, slug=slug)


def _index(item: dict[str, Any], key: str) -> int:
    for i, f in enumerate(item.get("fields") or []):
        if f["key"] == key:
            return i
    raise Field.DoesNotExist


def _fields_url(source: Source, key: str = "") -> str:
    url = reverse("web:fields", args=[source.slug])
    return f"{url}#field-{key}" if key else url


# --- views ------------------------------------------------------------------------------------------


@require_GET
@requires(Role.VIEWER)
def fields(request: HttpRequest, slug: str) -> HttpResponse:
    """The fields in order, everything the engine checks about each."""
    source = _source(slug)
    rows = list(
        source.fields.select_related("picklist")
        .prefetch_related("domain_rules__domain_list")
        .order_by("position", "id")
    )
    return render(
        request,
        "web/fields/tab.html",
        {
            "source": source,
            "tabs": TABS,
            "tab": "fields",
            "rows": rows,
            "changed": rules_changed(request, source),
            "offer": offer_context(source),
            "runs": shown_runs(request, source),
        },
    )


def _edit(request: HttpRequest, source: Source, key: str | None) -> HttpResponse:
    whole = source_item(source)
    whole.setdefault("fields", [])
    new = key is None
    if new:
        index = len(whole["fields"])
        before: dict[str, Any] = {"key": "", "label": "", "type": "text"}
    else:
        try:
            index = _index(whole, key)  # type: ignore[arg-type]
        except Field.DoesNotExist:
            raise Http404(f"{source} has no field {key!r}") from None
        before = whole["fields"][index]
    if request.method == "GET":
        item = dict(before)
        if "picklist" in request.GET:  # the picklist select changed: show that picklist's values
            item["picklist"], item["allowed_values"] = request.GET["picklist"], None
            if getattr(request, "htmx", False):
                return render(
                    request, "web/fields/allowed.html", _form_context(request, source, item, new=new)
                )
        return render(request, "web/fields/edit.html", _form_context(request, source, item, new=new))
    item = field_from_form(request.POST, before)
    if new:
        whole["fields"].append(item)
    else:
        whole["fields"][index] = item
    errors, others = split_errors(save_source(source, whole), FIELD_INPUTS, index)
    if errors or others:
        context = _form_context(request, source, item, new=new, errors=errors, others=others)
        return render(request, "web/fields/edit.html", context)
    mark_changed(request, source)
    messages.success(request, f"Field “{item['label'] or item['key']}” {'added' if new else 'saved'}.")
    return redirect(_fields_url(source, item["key"]))


@require_http_methods(["GET", "POST"])
@requires(Role.MANAGER)
def field_new(request: HttpRequest, slug: str) -> HttpResponse:
    return _edit(request, _source(slug), None)


@require_http_methods(["GET", "POST"])
@requires(Role.MANAGER)
def field_edit(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    return _edit(request, _source(slug), key)


def _change_list(request: HttpRequest, source: Source, key: str, change: str) -> HttpResponse:
    whole = source_item(source)
    try:
        index = _index(whole, key)
    except Field.DoesNotExist:
        raise Http404(f"{source} has no field {key!r}") from None
    listed = whole["fields"]
    label = listed[index].get("label") or key
    if change == "remove":
        del listed[index]
        done = f"Field “{label}” removed. Leads keep the values they were sent."
    else:
        to = index - 1 if change == "up" else index + 1
        if not 0 <= to < len(listed):
            return redirect(_fields_url(source, key))
        listed[index], listed[to] = listed[to], listed[index]
        done = f"Field “{label}” moved {change}."
    errors = save_source(source, whole)
    if errors:
        messages.error(request, "Nothing was changed: " + "; ".join(split_errors(errors, ())[1]))
        return redirect(_fields_url(source, key))
    if change == "remove":
        mark_changed(request, source)
    messages.success(request, done)
    return redirect(_fields_url(source, "" if change == "remove" else key))


@require_POST
@requires(Role.MANAGER)
def field_move(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    direction = request.POST.get("direction", "")
    if direction not in ("up", "down"):
        return HttpResponse("Say up or down.", status=400)
    return _change_list(request, _source(slug), key, direction)


@require_POST
@requires(Role.MANAGER)
def field_remove(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    return _change_list(request, _source(slug), key, "remove")


urlpatterns = [
    path("sources/<slug:slug>/fields/", fields, name="fields"),
    path("sources/<slug:slug>/fields/new", field_new, name="field_new"),
    path("sources/<slug:slug>/fields/<slug:key>/", field_edit, name="field_edit"),
    path("sources/<slug:slug>/fields/<slug:key>/move", field_move, name="field_move"),
    path("sources/<slug:slug>/fields/<slug:key>/remove", field_remove, name="field_remove"),
]
