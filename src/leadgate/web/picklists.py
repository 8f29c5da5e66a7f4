"""Global Picklists and List mappers pages (SPEC §1): values with their aliases, bulk adding, duplicates,
unmapped values; each mapper's entries in one table.

Every change goes through ``leadgate.sources.services``, as the API's does, so both agree and every change
replaces the rules version: the next lead decided anywhere sees it. Forms post and redirect back
(post/redirect/get); the answer is a flash message. Values people paste or upload are shown autoescaped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from leadgate.accounts.models import Role
from leadgate.delivery.models import DestinationMapping
from leadgate.files import reading
from leadgate.files.errors import FileError
from leadgate.rules.normalize import fold
from leadgate.rules.picklists import PicklistMatcher
from leadgate.sources import services as lists
from leadgate.sources.compile import compile_picklist
from leadgate.sources.models import ListMapper, Picklist, PicklistValue

from .access import requires

NAV = "lists"
#: Session key: per picklist, the values just added, so the page can ask for their list-mapper entries.
ADDED = "picklist-added"
#: An uploaded list of values larger than this is refused (a picklist of a few thousand values is ~100 KB).
MAX_UPLOAD = 5 * 1024 * 1024
#: Mapper columns shown next to the values; the rest are on the mappers' own pages.
MAPPER_COLUMNS = 3
HEADER_NAMES = {"value", "values", "picklist value", "name"}


def _picklist(key: str) -> Picklist:
    return get_object_or_404(Picklist, key=key)


def _back(picklist: Picklist, anchor: str = "") -> HttpResponse:
    return redirect(reverse("web:picklist", args=[picklist.key]) + (f"#{anchor}" if anchor else ""))


def _plural(n: int, word: str, many: str = "") -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


# --- reading pasted and uploaded values ------------------------------------------------------------------


class ValuesFileError(ValueError):
    """An uploaded list of values that cannot be read; the message says why."""


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of an uploaded file and its encoding, read as Upload Leads reads text files."""
    try:
        text, encoding = reading.decode_text(data)
    except FileError as exc:
        if exc.code == "binary_file":
            message = "The file is not text: upload a CSV or TXT file with one value per line."
            raise ValuesFileError(message) from None
        raise ValuesFileError(exc.message) from None
    return text.decode("utf-8"), encoding


def first_column(text: str, *, csv_file: bool) -> list[str]:
    """The first cell of each line: CSV with its delimiter detected, or for a .txt whole lines (a tab ends
    the first column). Blank lines are kept, so they can be counted."""
    lines = text.splitlines()
    if not csv_file:
        return [line.split("\t", 1)[0] for line in lines]
    try:
        dialect: Any = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=",;\t|")
    except csv.Error:  # one column: nothing to split on
        return lines
    cells = []
    for row in csv.reader(io.StringIO(text), dialect):
        cells.append(row[0] if row else "")
    return cells


@dataclass
class Added:
    added: list[str] = field(default_factory=list)
    present: int = 0  # already a value or an alias (or repeated in what was given)
    blank: int = 0
    header: bool = False

    def sentence(self, picklist: Picklist) -> str:
        parts = [f"Added {_plural(len(self.added), 'value')} to {picklist.name}"]
        if self.present:
            parts.append(f"{self.present:,} already present")
        if self.blank:
            parts.append(f"{_plural(self.blank, 'blank line')} skipped")
        if self.header:
            parts.append("the header row skipped")
        return "; ".join(parts) + "."


def add_values(picklist: Picklist, given: list[str], *, may_have_header: bool = False) -> Added:
    """Add the values people gave, one per line: those already on the picklist (as a value or an alias)
    and blank lines are counted, not added."""
    outcome = Added()
    cleaned = [line.strip() for line in given]
    if (
        may_have_header
        and cleaned
        and cleaned[0].casefold() in {*HEADER_NAMES, picklist.key, picklist.name.casefold()}
    ):
        cleaned, outcome.header = cleaned[1:], True
    outcome.blank = sum(1 for line in cleaned if not line)
    cleaned = [line for line in cleaned if line]
    matcher = PicklistMatcher(compile_picklist(picklist))
    new = [line for line in cleaned if matcher.match(line) is None]
    outcome.added = lists.add_picklist_values(picklist, new)
    outcome.present = len(cleaned) - len(outcome.added)
    return outcome


# --- the pages --------------------------------------------------------------------------------------------


@require_GET
@requires(Role.VIEWER)
def picklist_list(request: HttpRequest) -> HttpResponse:
    """Every picklist: its size, its list mappers with their unmapped values, and the sources using it."""
    picklists = Picklist.objects.annotate(
        n_values=Count("values", distinct=True), n_aliases=Count("aliases", distinct=True)
    ).prefetch_related("mappers", Prefetch("fields", to_attr="using"), "fields__source")
    rows = [
        {
            "picklist": p,
            "mappers": [(m, len(lists.unmapped_values(m))) for m in p.mappers.all()],
            "sources": sorted({f.source.name for f in p.using}),
        }
        for p in picklists
    ]
    return render(request, "web/picklists/list.html", {"rows": rows, "nav": NAV})


@dataclass
class ValueRow:
    value: PicklistValue
    aliases: list[str]
    outputs: list[str | None]  # per shown mapper; None where unmapped


@dataclass
class Prompt:
    """New values and, per attached mapper, an input for their entry (the seed's "be sure to also update
    list mappers")."""

    mappers: list[ListMapper]
    values: list[str]


def _prompt(request: HttpRequest, picklist: Picklist, mappers: list[ListMapper]) -> Prompt | None:
    added = request.session.get(ADDED, {}).get(picklist.key)
    if not added or not mappers:
        return None
    still = set().union(*(lists.unmapped_values(m) for m in mappers))
    values = [v for v in added if v in still]
    if not values:
        return None
    return Prompt(mappers, values)


@require_GET
@requires(Role.VIEWER)
def picklist_detail(request: HttpRequest, key: str) -> HttpResponse:
    picklist = _picklist(key)
    mappers = list(picklist.mappers.all())
    shown = mappers[:MAPPER_COLUMNS]
    entries: dict[tuple[int, int], str] = {}
    for mapper in shown:
        for value_id, output in mapper.entries.values_list("value_id", "output"):
            entries[(mapper.pk, value_id)] = output
    values = list(picklist.values.prefetch_related("aliases"))
    rows = [
        ValueRow(
            v,
            [a.alias for a in v.aliases.all()],
            [entries.get((m.pk, v.pk)) for m in shown],
        )
        for v in values
    ]
    fields = list(picklist.fields.select_related("source").order_by("source__name", "position"))
    return render(
        request,
        "web/picklists/detail.html",
        {
            "picklist": picklist,
            "rows": rows,
            "n_aliases": sum(len(r.aliases) for r in rows),
            "shown_mappers": shown,
            "unmapped": [(m, lists.unmapped_values(m)) for m in mappers],
            "duplicates": lists.picklist_duplicates(picklist),
            "fields": fields,
            "prompt": _prompt(request, picklist, mappers),
            "nav": NAV,
        },
    )


def _remember_added(request: HttpRequest, picklist: Picklist, added: list[str]) -> None:
    if added and picklist.mappers.exists():
        remembered = request.session.get(ADDED, {})
        remembered[picklist.key] = added[:200]
        request.session[ADDED] = remembered


@require_POST
@requires(Role.MANAGER)
def picklist_add(request: HttpRequest, key: str) -> HttpResponse:
    """Bulk paste: one value per line."""
    picklist = _picklist(key)
    outcome = add_values(picklist, request.POST.get("values", "").splitlines())
    messages.success(request, outcome.sentence(picklist))
    _remember_added(request, picklist, outcome.added)
    return _back(picklist, "mapper-prompt" if outcome.added else "")


@require_POST
@requires(Role.MANAGER)
def picklist_upload(request: HttpRequest, key: str) -> HttpResponse:
    """A CSV or TXT file: the first column of each line is a value."""
    picklist = _picklist(key)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a CSV or TXT file to upload.")
        return _back(picklist)
    if upload.size and upload.size > MAX_UPLOAD:
        messages.error(request, f"The file is larger than {MAX_UPLOAD // (1024 * 1024)} MB.")
        return _back(picklist)
    try:
        text, encoding = decode_text(upload.read())
    except ValuesFileError as exc:
        messages.error(request, str(exc))
        return _back(picklist)
    name = (upload.name or "").lower()
    cells = first_column(text, csv_file=not name.endswith(".txt"))
    outcome = add_values(picklist, cells, may_have_header=True)
    sentence = outcome.sentence(picklist)
    if encoding == "windows-1252":
        sentence += " The file was read as Windows-1252 (it is not UTF-8)."
    messages.success(request, sentence)
    _remember_added(request, picklist, outcome.added)
    return _back(picklist, "mapper-prompt" if outcome.added else "")


@require_POST
@requires(Role.MANAGER)
def picklist_entries(request: HttpRequest, key: str) -> HttpResponse:
    """The answers to the prompt after adding values: ``entry:<mapper key>:<value>`` = output."""
    picklist = _picklist(key)
    mappers = {m.key: m for m in picklist.mappers.all()}
    by_mapper: dict[str, dict[str, str]] = {}
    for name, output in request.POST.items():
        if not name.startswith("entry:") or not output.strip():
            continue
        _, mapper_key, value = name.split(":", 2)
        if mapper_key in mappers:
            by_mapper.setdefault(mapper_key, {})[value] = output.strip()
    try:
        for mapper_key, entries in by_mapper.items():
            lists.set_mapper_entries(mappers[mapper_key], entries)
    except lists.ListError as exc:
        messages.error(request, str(exc))
        return _back(picklist, "mapper-prompt")
    request.session.get(ADDED, {}).pop(picklist.key, None)
    request.session.modified = True
    total = sum(len(e) for e in by_mapper.values())
    messages.success(request, f"Saved {_plural(total, 'list-mapper entry', 'list-mapper entries')}.")
    return _back(picklist)


@require_POST
@requires(Role.MANAGER)
def picklist_alias_add(request: HttpRequest, key: str) -> HttpResponse:
    picklist = _picklist(key)
    alias, value = request.POST.get("alias", "").strip(), request.POST.get("value", "")
    if not alias:
        messages.error(request, "Type the alias: the variant that should mean the value.")
        return _back(picklist, "aliases")
    try:
        lists.set_picklist_aliases(picklist, {alias: value})
    except lists.ListError as exc:
        messages.error(request, f"{exc}.")
    else:
        messages.success(request, f'"{alias}" now means "{value}".')
    return _back(picklist, "aliases")


@require_POST
@requires(Role.MANAGER)
def picklist_alias_remove(request: HttpRequest, key: str) -> HttpResponse:
    picklist = _picklist(key)
    alias = request.POST.get("alias", "")
    try:
        lists.remove_picklist_alias(picklist, alias)
    except lists.ListError as exc:
        messages.error(request, f"{exc}.")
    else:
        messages.success(request, f'Alias "{alias}" removed: it is an invalid list value again.')
    return _back(picklist)


@require_POST
@requires(Role.MANAGER)
def picklist_value_remove(request: HttpRequest, key: str) -> HttpResponse:
    picklist = _picklist(key)
    value = request.POST.get("value", "")
    try:
        lists.remove_picklist_value(picklist, value)
    except lists.ListError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f'Value "{value}" removed from {picklist.name}.')
    return _back(picklist)


@require_POST
@requires(Role.MANAGER)
def picklist_case(request: HttpRequest, key: str) -> HttpResponse:
    picklist = _picklist(key)
    case_sensitive = request.POST.get("case_sensitive") == "1"
    try:
        lists.set_picklist_case_sensitive(picklist, case_sensitive)
    except lists.ListError as exc:
        messages.error(request, str(exc))
    else:
        how = "Matching now tells upper from lower case" if case_sensitive else "Matching now ignores case"
        messages.success(request, f"{how} on {picklist.name}.")
    return _back(picklist)


@require_POST
@requires(Role.MANAGER)
def picklist_make_alias(request: HttpRequest, key: str) -> HttpResponse:
    """The duplicate finder's one click: a value becomes an alias of another (its aliases follow), or an
    alias is pointed at another value."""
    picklist = _picklist(key)
    label, into = request.POST.get("label", ""), request.POST.get("into", "")
    try:
        if picklist.values.filter(value=label).exists():
            lists.merge_picklist_value(picklist, label, into)
        else:
            lists.set_picklist_aliases(picklist, {label: into})
    except lists.ListError as exc:
        messages.error(request, f"{exc}.")
    else:
        messages.success(request, f'"{label}" is now an alias of "{into}".')
    return _back(picklist, "duplicates")


# --- list mappers -----------------------------------------------------------------------------------------


def _mapper(key: str) -> ListMapper:
    return get_object_or_404(ListMapper.objects.select_related("picklist"), key=key)


def _destinations_by_mapper() -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for row in DestinationMapping.objects.filter(mapper__isnull=False).select_related("destination"):
        assert row.mapper_id is not None
        if row.destination not in found.setdefault(row.mapper_id, []):
            found[row.mapper_id].append(row.destination)
    return found


@require_GET
@requires(Role.VIEWER)
def mapper_list(request: HttpRequest) -> HttpResponse:
    mappers = ListMapper.objects.select_related("picklist").annotate(n_entries=Count("entries"))
    used = _destinations_by_mapper()
    rows = [
        {"mapper": m, "unmapped": len(lists.unmapped_values(m)), "destinations": used.get(m.pk, [])}
        for m in mappers
    ]
    return render(request, "web/picklists/mapper_list.html", {"rows": rows, "nav": NAV})


@require_GET
@requires(Role.VIEWER)
def mapper_detail(request: HttpRequest, key: str) -> HttpResponse:
    mapper = _mapper(key)
    outputs = dict(mapper.entries.values_list("value_id", "output"))
    rows = [(v, outputs.get(v.pk)) for v in mapper.picklist.values.all()]
    return render(
        request,
        "web/picklists/mapper_detail.html",
        {
            "mapper": mapper,
            "rows": rows,
            "unmapped": sum(1 for _, output in rows if output is None),
            "destinations": _destinations_by_mapper().get(mapper.pk, []),
            "nav": NAV,
        },
    )


@require_POST
@requires(Role.MANAGER)
def mapper_save(request: HttpRequest, key: str) -> HttpResponse:
    """The whole table: ``out-<value id>`` per picklist value; an empty output removes the entry."""
    mapper = _mapper(key)
    values = {str(v.pk): v.value for v in mapper.picklist.values.all()}
    current = {v: o for v, o in mapper.entries.values_list("value__value", "output")}
    setting: dict[str, str] = {}
    clearing: list[str] = []
    for pk, value in values.items():
        name = f"out-{pk}"
        if name not in request.POST:
            continue
        output = request.POST[name].strip()
        if output and current.get(value) != output:
            setting[value] = output
        elif not output and value in current:
            clearing.append(value)
    try:
        lists.set_mapper_entries(mapper, setting)
    except lists.ListError as exc:
        messages.error(request, f"{exc}.")
        return redirect("web:mapper", mapper.key)
    lists.clear_mapper_entries(mapper, clearing)
    changed = len(setting) + len(clearing)
    messages.success(
        request,
        f"Saved {mapper}: {_plural(changed, 'entry', 'entries')} changed." if changed else "Nothing changed.",
    )
    return redirect("web:mapper", mapper.key)


def parse_entry_lines(text: str) -> tuple[dict[str, str], list[str]]:
    """``value,output`` lines (a tab or ``;`` works too; quotes as in CSV) → entries, and the problems of
    the lines that are not such a pair."""
    entries: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        delimiter = "\t" if "\t" in line else ("," if "," in line else ";")
        cells = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])
        if len(cells) < 2 or not cells[0].strip() or not cells[1].strip():
            problems.append(f'Line {number}: "{line.strip()}" is not "value,output".')
            continue
        value = cells[0].strip()
        output = delimiter.join(cells[1:]).strip()
        entries[value] = output
    return entries, problems


@require_POST
@requires(Role.MANAGER)
def mapper_paste(request: HttpRequest, key: str) -> HttpResponse:
    """Bulk paste of ``value,output`` lines; values not on the picklist are reported, the rest saved."""
    mapper = _mapper(key)
    entries, problems = parse_entry_lines(request.POST.get("lines", ""))
    picklist = mapper.picklist
    canonical = {
        fold(v, case_sensitive=picklist.case_sensitive)
        for v in picklist.values.values_list("value", flat=True)
    }
    known = {v: o for v, o in entries.items() if fold(v, case_sensitive=picklist.case_sensitive) in canonical}
    matcher = PicklistMatcher(compile_picklist(picklist))
    for value in entries:
        if value not in known:
            alias_of = matcher.match(value)
            hint = f' (it is an alias of "{alias_of}": map "{alias_of}")' if alias_of else ""
            problems.append(f'"{value}" is not a value of picklist {mapper.picklist.name}{hint}.')
    try:
        lists.set_mapper_entries(mapper, known)
    except lists.ListError as exc:
        problems.append(f"{exc}.")
        known = {}
    if known:
        messages.success(request, f"Saved {_plural(len(known), 'entry', 'entries')} in {mapper}.")
    for problem in problems[:20]:
        messages.error(request, problem)
    if len(problems) > 20:
        messages.error(request, f"… and {len(problems) - 20:,} more lines not saved.")
    return redirect("web:mapper", mapper.key)


urlpatterns = [
    path("picklists/", picklist_list, name="picklists"),
    path("picklists/<slug:key>/", picklist_detail, name="picklist"),
    path("picklists/<slug:key>/add", picklist_add, name="picklist_add"),
    path("picklists/<slug:key>/upload", picklist_upload, name="picklist_upload"),
    path("picklists/<slug:key>/entries", picklist_entries, name="picklist_entries"),
    path("picklists/<slug:key>/aliases/add", picklist_alias_add, name="picklist_alias_add"),
    path("picklists/<slug:key>/aliases/remove", picklist_alias_remove, name="picklist_alias_remove"),
    path("picklists/<slug:key>/values/remove", picklist_value_remove, name="picklist_value_remove"),
    path("picklists/<slug:key>/case", picklist_case, name="picklist_case"),
    path("picklists/<slug:key>/make-alias", picklist_make_alias, name="picklist_make_alias"),
    path("mappers/", mapper_list, name="mappers"),
    path("mappers/<slug:key>/", mapper_detail, name="mapper"),
    path("mappers/<slug:key>/save", mapper_save, name="mapper_save"),
    path("mappers/<slug:key>/paste", mapper_paste, name="mapper_paste"),
]
