"""Source → Resolve: rejected leads grouped by what rejected them, each group with the fix that fits it.

The seed's loop (download, fix the picklist in another screen, edit a spreadsheet, upload, wait) becomes:
add the value to the picklist or map it as an alias, then reprocess the group's leads here. Every form posts
to one action view. Without JavaScript it redirects back (post/redirect/get); with htmx it answers the group
list alone, which replaces the one on the page.

Reprocessing runs in the request for now: a group of a few thousand leads takes seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from leadgate.accounts.models import Role
from leadgate.leads.resolve import DOMAIN_CODES, Group, group_lead_ids, group_leads, rejection_groups
from leadgate.leads.services import Actor, reprocess_leads
from leadgate.rules.catalogue import BY_CODE, DISALLOWED_LIST_VALUE, INVALID_LIST_VALUE
from leadgate.rules.definitions import FieldRule, FieldType
from leadgate.rules.picklists import matcher_for
from leadgate.sources import services as lists
from leadgate.sources.compile import compiled_source
from leadgate.sources.models import ListMapper, Picklist, Source

from . import views
from .access import has_role, requires
from .leads import mask

LIST_CODES = (INVALID_LIST_VALUE, DISALLOWED_LIST_VALUE)
SUGGESTIONS = 5
#: Groups shown at most: past these the groups are small, and a page of forms for each would not help.
SHOWN = 50
#: Session key: per source, the groups a manager chose to keep rejected (hidden until shown again).
KEPT = "resolve-kept"
#: Session key: the sentence answering the last action, shown once.
NOTICE = "resolve-notice"


@dataclass
class Row:
    """A group as the page shows it: its leads, its picklist, and what can be done about it."""

    group: Group
    title: str
    field_label: str
    value: str = ""  # the group's value as this user may see it
    masked: bool = False
    kept: bool = False
    reprocessable: bool = True  # False for a reviewer's or a destination's rejection: rules do not undo it
    picklist: Picklist | None = None
    picklist_values: list[str] = field(default_factory=list)
    allowed_values: list[str] | None = None
    suggestion: str | None = None
    candidates: list[str] = field(default_factory=list)
    resolved_as: str | None = None  # the canonical value the group's value stands for now
    mappers: list[tuple[ListMapper, bool]] = field(default_factory=list)  # (mapper, value unmapped in it)

    @property
    def can_change_picklist(self) -> bool:
        return self.picklist is not None and self.group.code == INVALID_LIST_VALUE and not self.resolved_as


def _source(slug: str) -> Source:
    return get_object_or_404(Source, slug=slug)


def _kept(request: HttpRequest, source: Source) -> set[str]:
    return set(request.session.get(KEPT, {}).get(source.slug, []))


@dataclass
class Rows:
    rows: list[Row]
    hidden: int  # leads in groups kept rejected, not shown
    more_groups: int  # groups past SHOWN
    more_leads: int


def _rows(request: HttpRequest, source: Source, code: str, show_kept: bool) -> Rows:
    rules = {rule.key: rule for rule in compiled_source(source).rules.fields}
    fields = {f.key: f for f in source.fields.select_related("picklist")}
    kept = _kept(request, source)
    # Viewers see personal values masked, as on the Leads tab; a blocked domain is not personal.
    viewer = not has_role(request.user, Role.MANAGER)  # type: ignore[arg-type]
    masked_keys = {key for key, f in fields.items() if f.pii} if viewer else set()
    every = rejection_groups(source, code=code or None)
    groups = [g for g in every if show_kept or g.key not in kept]
    rows = []
    for group in groups[:SHOWN]:
        disposition = BY_CODE.get(group.code)
        rule = rules.get(group.field)
        row = Row(
            group,
            title=disposition.title if disposition else group.code,
            field_label=rule.label if rule else group.field,
            kept=group.key in kept,
            masked=group.field in masked_keys and group.code not in DOMAIN_CODES and bool(group.value),
            reprocessable=disposition is not None and disposition.engine,
        )
        row.value = mask(group.value) if row.masked else group.value
        if group.code in LIST_CODES and rule is not None and rule.picklist is not None:
            _with_picklist(row, rule, fields[group.field].picklist, problem_suggestion(source, group))
        rows.append(row)
    rest = groups[SHOWN:]
    return Rows(
        rows,
        hidden=sum(g.count for g in every) - sum(g.count for g in groups),
        more_groups=len(rest),
        more_leads=sum(g.count for g in rest),
    )


def problem_suggestion(source: Source, group: Group) -> str | None:
    """The engine's suggestion, as stored on one of the group's leads."""
    found = group_leads(source, group.code, group.field, group.value).values_list("problems", flat=True)[:1]
    problems = next(iter(found), None)
    return (problems[0].get("suggestion") or None) if problems else None


def _with_picklist(row: Row, rule: FieldRule, picklist: Picklist | None, suggestion: str | None) -> None:
    compiled = rule.picklist
    assert compiled is not None
    row.picklist = picklist
    row.picklist_values = list(compiled.values)
    row.allowed_values = list(rule.allowed_values) if rule.allowed_values else None
    row.suggestion = suggestion
    matcher = matcher_for(compiled)
    if rule.type is FieldType.PICKLIST:  # a multi-picklist value holds several answers: no one-click fix
        row.resolved_as = matcher.match(row.group.value)
    ranked = [suggestion] if suggestion else []
    ranked += matcher.suggest(row.group.value, limit=SUGGESTIONS)
    allowed = set(row.allowed_values or compiled.values)
    row.candidates = [c for c in dict.fromkeys(ranked) if c in allowed][:SUGGESTIONS]
    if picklist is not None and row.resolved_as:
        row.mappers = [
            (mapper, row.resolved_as in lists.unmapped_values(mapper)) for mapper in picklist.mappers.all()
        ]


def _context(request: HttpRequest, source: Source) -> dict[str, Any]:
    code = request.GET.get("code", "") or request.POST.get("code_filter", "")
    code = code if code in BY_CODE else ""
    show_kept = request.GET.get("kept") == "1" or request.POST.get("show_kept") == "1"
    found = _rows(request, source, code, show_kept)
    return {
        "source": source,
        "tabs": views.TABS,
        "tab": "resolve",
        "rows": found.rows,
        "hidden": found.hidden,
        "more_groups": found.more_groups,
        "more_leads": found.more_leads,
        "code": code,
        "show_kept": show_kept,
        "codes": [(d.code, d.title) for d in BY_CODE.values() if d.status != "accepted"],
        "notice": request.session.pop(NOTICE, None),
    }


@require_GET
@requires(Role.VIEWER)
def resolve(request: HttpRequest, slug: str) -> HttpResponse:
    """The groups, largest first, filterable by code (the Summary links here with ``?code=``)."""
    source = _source(slug)
    return render(request, "web/resolve/page.html", _context(request, source))


def _actor(request: HttpRequest) -> Actor:
    return Actor(f"web {request.user.get_username()}", request.user)  # type: ignore[arg-type]


def _picklist_of(source: Source, field_key: str) -> Picklist:
    found = source.fields.filter(key=field_key, picklist__isnull=False).select_related("picklist").first()
    if found is None or found.picklist is None:
        raise lists.ListError(f'Field "{field_key}" has no picklist.')
    return found.picklist


def _note(source: Source, group: Group) -> str:
    """What the history says the reprocess was for."""
    rule = next((r for r in compiled_source(source).rules.fields if r.key == group.field), None)
    if group.code in LIST_CODES and rule is not None and rule.picklist is not None:
        now = matcher_for(rule.picklist).match(group.value)
        if now == group.value:
            return f'Resolve: "{group.value}" was added to picklist "{rule.picklist.key}"'
        if now:
            return f'Resolve: "{group.value}" was mapped to "{now}" on picklist "{rule.picklist.key}"'
    return f"Resolve: reprocessed the {group.code} group of {group.field or 'the lead'}"


def _act(request: HttpRequest, source: Source, action: str, group: Group) -> str:
    """Do one action; returns the sentence that answers it. Raises ListError for a change refused."""
    post = request.POST
    if action == "add":
        picklist = _picklist_of(source, group.field)
        added = lists.add_picklist_values(picklist, [group.value])
        if not added:
            return f'"{group.value}" is on picklist "{picklist.name}" already.'
        return f'Added "{group.value}" to picklist "{picklist.name}". Now reprocess the leads.'
    if action == "alias":
        picklist = _picklist_of(source, group.field)
        target = post.get("target", "")
        lists.set_picklist_aliases(picklist, {group.value: target})
        return f'"{group.value}" now means "{target}" on picklist "{picklist.name}". Now reprocess the leads.'
    if action == "map":
        picklist = _picklist_of(source, group.field)
        mapper = get_object_or_404(ListMapper, key=post.get("mapper", ""), picklist=picklist)
        output = post.get("output", "").strip()
        if not output:
            raise lists.ListError("Enter the value the list mapper should post out.")
        lists.set_mapper_entries(mapper, {post.get("target", ""): output})
        return f'List mapper "{mapper}" now posts "{post.get("target", "")}" as "{output}".'
    if action in ("keep", "unkeep"):
        kept_by_source = request.session.get(KEPT, {})
        kept = set(kept_by_source.get(source.slug, []))
        (kept.add if action == "keep" else kept.discard)(group.key)
        kept_by_source[source.slug] = sorted(kept)
        request.session[KEPT] = kept_by_source
        if action == "keep":
            return f"{group.count:,} leads stay rejected; the group is hidden."
        return "The group is shown again."
    if action == "reprocess":
        ids = group_lead_ids(source, group.code, group.field, group.value)
        outcome = reprocess_leads(source, ids, actor=_actor(request), note=_note(source, group)).as_dict()
        by_status = ", ".join(f"{n:,} {status.replace('_', ' ')}" for status, n in outcome["status"].items())
        return f"Reprocessed {outcome['reprocessed']:,} leads: {by_status or 'none left'}."
    raise lists.ListError("Unknown action.")


@require_POST
@requires(Role.MANAGER)
def resolve_action(request: HttpRequest, slug: str) -> HttpResponse:
    """One action on one group; the group list is then shown again (a fragment for htmx)."""
    source = _source(slug)
    post = request.POST
    group = Group(post.get("code", ""), post.get("field", ""), post.get("value", ""), 0)
    ids = group_lead_ids(source, group.code, group.field, group.value) if group.code in BY_CODE else []
    group = Group(group.code, group.field, group.value, len(ids))
    try:
        sentence = _act(request, source, post.get("action", ""), group)
        notice = {"text": sentence, "error": False}
    except lists.ListError as exc:
        notice = {"text": str(exc), "error": True}
    request.session[NOTICE] = notice
    if getattr(request, "htmx", False):
        return render(request, "web/resolve/groups.html", _context(request, source))
    back = reverse("web:resolve", args=[source.slug])
    query = {k: v for k, v in (("code", post.get("code_filter", "")), ("kept", post.get("show_kept"))) if v}
    return redirect(f"{back}?{urlencode(query)}" if query else back)


urlpatterns = [
    path("sources/<slug:slug>/resolve/", resolve, name="resolve"),
    path("sources/<slug:slug>/resolve/act", resolve_action, name="resolve-act"),
]
