"""Source → Resolve: rejected leads grouped by what rejected them, each group with the fix that fits it.

The seed's loop (download, fix the picklist in another screen, edit a spreadsheet, upload, wait) becomes:
add the value to the picklist or map it as an alias, then reprocess the group's leads here. Every form posts
to one action view. Without JavaScript it redirects back (post/redirect/get); with htmx it answers the group
list alone, which replaces the one on the page.

Reprocessing runs in the background (leads.tasks): the button queues a run, and the page follows its
progress every second until the groups are shown again. "Keep rejected" is stored (``KeptRejection``): the
team shares it and it outlives the session. "Allow this domain" adds the domain to a domain list the source
owns, attached to the email field in ``exempt`` mode: it lets the domain through that source's allow and
exclude lists and changes nothing for any other source or list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from leadgate.accounts.models import Role
from leadgate.leads.models import KeptRejection, ReprocessRun
from leadgate.leads.resolve import DOMAIN_CODES, Group, group_lead_ids, group_leads, rejection_groups
from leadgate.leads.services import Actor
from leadgate.leads.tasks import queue_reprocess
from leadgate.rules.catalogue import BY_CODE, DISALLOWED_LIST_VALUE, INVALID_LIST_VALUE
from leadgate.rules.definitions import DomainMode, FieldRule, FieldType
from leadgate.rules.domains import matcher_for as domain_matcher_for
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
#: A finished reprocess run stays on the page this long for the person who started it.
RUN_SHOWN = dt.timedelta(minutes=5)
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
    kept_mark: KeptRejection | None = None  # who marked it "keep rejected", and when
    domain_allowed: bool = False  # a domain group whose domain the source has allowed since
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


def _kept(source: Source) -> dict[str, KeptRejection]:
    """The groups the team keeps rejected, by group key."""
    kept = KeptRejection.objects.filter(source=source).select_related("user")
    return {Group(k.code, k.field, k.value, 0).key: k for k in kept}


def _exempt(rule: FieldRule | None, domain: str) -> str | None:
    """The key of the exempt list of the field that lets ``domain`` through, if one does."""
    for domain_rule in rule.domain_rules if rule else ():
        exempt = domain_rule.mode is DomainMode.EXEMPT
        if exempt and domain_matcher_for(domain_rule.domain_list).matches(domain):
            return domain_rule.domain_list.key
    return None


@dataclass
class Rows:
    rows: list[Row]
    hidden: int  # leads in groups kept rejected, not shown
    more_groups: int  # groups past SHOWN
    more_leads: int


def _rows(request: HttpRequest, source: Source, code: str, show_kept: bool) -> Rows:
    rules = {rule.key: rule for rule in compiled_source(source).rules.fields}
    fields = {f.key: f for f in source.fields.select_related("picklist")}
    kept = _kept(source)
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
            kept_mark=kept.get(group.key),
            masked=group.field in masked_keys and group.code not in DOMAIN_CODES and bool(group.value),
            reprocessable=disposition is not None and disposition.engine,
        )
        row.value = mask(group.value) if row.masked else group.value
        if group.code in DOMAIN_CODES:
            row.domain_allowed = _exempt(rule, group.value) is not None
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
        "runs": shown_runs(request, source),
    }


def shown_runs(request: HttpRequest, source: Source) -> list[ReprocessRun]:
    """Runs to show: every run still going on this source (anyone's), and this user's recent results."""
    recent = Q(user=request.user.pk, finished_at__gte=timezone.now() - RUN_SHOWN)
    found = ReprocessRun.objects.filter(source=source).filter(Q(state__in=["queued", "running"]) | recent)
    return list(found.defer("lead_ids").select_related("user").order_by("-id")[:5])


@require_GET
@requires(Role.VIEWER)
def resolve(request: HttpRequest, slug: str) -> HttpResponse:
    """The groups, largest first, filterable by code (the Summary links here with ``?code=``).

    htmx asks for the group list alone when a reprocess run has finished."""
    source = _source(slug)
    template = "web/resolve/groups.html" if getattr(request, "htmx", False) else "web/resolve/page.html"
    return render(request, template, _context(request, source))


@require_GET
@requires(Role.VIEWER)
def run_status(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """One reprocess run's progress box: htmx polls it every second while the run is queued or running.

    When the run is over, the answer stops the polling and tells the page (HX-Trigger) to fetch the
    groups again: the reprocessed leads have left their group."""
    source = _source(slug)
    runs = ReprocessRun.objects.defer("lead_ids").select_related("user")
    run = get_object_or_404(runs, source=source, pk=run_id)
    response = render(request, "web/resolve/run.html", {"source": source, "run": run})
    if not run.active:
        response["HX-Trigger"] = "reprocessed"
    return response


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
    if group.code in DOMAIN_CODES:
        exempt = _exempt(rule, group.value)
        if exempt:
            return f'Resolve: "{group.value}" was allowed for this source (domain list "{exempt}")'
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
    if action == "allow_domain":
        if group.code not in DOMAIN_CODES:
            raise lists.ListError("Only a group rejected for its email domain can have the domain allowed.")
        allowed = lists.allow_domain(source, group.field, group.value)
        return f'{group.value} is allowed for this source now (domain list "{allowed}"). Reprocess the leads.'
    if action == "keep":
        KeptRejection.objects.update_or_create(
            source=source,
            code=group.code,
            field=group.field,
            value=group.value,
            defaults={"user": request.user, "at": timezone.now()},
        )
        return f"{group.count:,} leads stay rejected; the group is hidden."
    if action == "unkeep":
        KeptRejection.objects.filter(
            source=source, code=group.code, field=group.field, value=group.value
        ).delete()
        return "The group is shown again."
    if action == "reprocess":
        ids = group_lead_ids(source, group.code, group.field, group.value)
        if not ids:
            return "No leads are left in this group."
        queue_reprocess(source, ids, actor=_actor(request), note=_note(source, group))
        return f"Reprocessing {len(ids):,} lead{'s' if len(ids) != 1 else ''}…"
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
    path("sources/<slug:slug>/resolve/runs/<int:run_id>", run_status, name="resolve-run"),
]
