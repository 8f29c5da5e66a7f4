"""The web UI's pages. Each view checks the role, reads through services and stats, and renders."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from leadgate.accounts.models import Role
from leadgate.files.downloads import (
    Download,
    DownloadError,
    filename,
    parse_time,
    prepare_download,
    prepare_template,
)
from leadgate.files.writing import FORMATS
from leadgate.leads.services import summary
from leadgate.rules.catalogue import CATALOGUE, Status
from leadgate.sources.models import Source

from . import stats
from .access import has_role, requires

#: A source's tabs: (url name, label). Summary is built; the others are placeholders until their session.
TABS = (
    ("summary", "Summary"),
    ("leads", "Leads"),
    ("resolve", "Resolve"),
    ("fields", "Fields"),
    ("rules", "Rules"),
    ("settings", "Settings"),
    ("postout", "Post-out"),
    ("uploads", "Uploads"),
)
#: Columns of the latest-leads table on the Summary: the source's first fields.
LATEST_COLUMNS = 3
DOWNLOAD_STATUSES = {"all": "All leads", **{s.value: s.value.replace("_", " ").capitalize() for s in Status}}
FORMAT_LABELS = {"xlsx": "Excel (XLSX)", "csv": "CSV", "csv-semicolon": "CSV for European Excel (;)"}


@require_GET
@requires(Role.VIEWER)
def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:sources")


@require_GET
@requires(Role.VIEWER)
def sources(request: HttpRequest) -> HttpResponse:
    """All sources with their counts; search by name or slug and filter by status (plain GET, no JS)."""
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    found = Source.objects.all()
    if query:
        found = found.filter(Q(name__icontains=query) | Q(slug__icontains=query))
    if status in Source.Status.values:
        found = found.filter(status=status)
    else:
        status = ""
    listed = list(found)
    ids = [source.pk for source in listed]
    counts = stats.counts_by_source(ids)
    sparklines = stats.sparklines(ids)
    return render(
        request,
        "web/sources.html",
        {
            "rows": [(source, counts[source.pk], sparklines.get(source.pk)) for source in listed],
            "query": query,
            "status": status,
            "statuses": Source.Status.values,
            "filtered": bool(query or status),
        },
    )


def _source(slug: str) -> Source:
    return get_object_or_404(Source, slug=slug)


def _counters(source: Source) -> dict[str, object]:
    counts = summary(source)
    return {
        "total": counts["total"],
        "status": counts["status"],
        "dispositions": counts["dispositions"],
        "deliveries": counts["deliveries"],
        "destinations": stats.delivery_lines(source),
        "reconciliation": stats.reconcile(source, counts),
    }


@require_GET
@requires(Role.VIEWER)
def source_summary(request: HttpRequest, slug: str) -> HttpResponse:
    """Source → Summary: counters of leads and deliveries with each destination's health and the
    reconciliation (kept fresh by htmx), disposition breakdown, leads over time."""
    source = _source(slug)
    counts = _counters(source)
    fields = list(source.fields.order_by("position", "id")[:LATEST_COLUMNS])
    hours = stats.leads_per_hour(source)
    return render(
        request,
        "web/summary.html",
        {
            "source": source,
            "tabs": TABS,
            "tab": "summary",
            "counts": counts,
            "breakdown": stats.breakdown(counts["dispositions"], counts["total"]),  # type: ignore[arg-type]
            "hours": hours,
            "busiest_hour": max(hour.count for hour in hours),
            "latest_fields": fields,
            "latest": stats.latest_leads(
                source,
                fields,
                masked=not has_role(request.user, Role.MANAGER),  # type: ignore[arg-type]
            ),
            "download_statuses": DOWNLOAD_STATUSES,
            "codes": [(d.code, d.title) for d in CATALOGUE],
            "formats": FORMAT_LABELS,
        },
    )


@require_GET
@requires(Role.VIEWER)
def source_counters(request: HttpRequest, slug: str) -> HttpResponse:
    """The Summary's counters alone: htmx fetches them every few seconds while the page is open."""
    source = _source(slug)
    return render(request, "web/partials/counters.html", {"source": source, "counts": _counters(source)})


@require_GET
@requires(Role.VIEWER)
def source_tab(request: HttpRequest, slug: str, tab: str) -> HttpResponse:
    """A tab that a later session builds: the source's header and tabs, and a sentence saying so."""
    source = _source(slug)
    return render(request, "web/tab_placeholder.html", {"source": source, "tabs": TABS, "tab": tab})


def _date_bounds(request: HttpRequest) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The form's From and To dates (both inclusive, as people mean them) as the download's since/until."""
    since = parse_time(request.GET["since"]) if request.GET.get("since") else None
    until = None
    if request.GET.get("until"):
        until = parse_time(request.GET["until"]) + dt.timedelta(days=1)  # the whole To day
    return since, until


def _stream(prepared: Download, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(prepared.chunks(), content_type=prepared.content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"  # leads are personal data: no copies in caches on the way
    return response


@require_GET
@requires(Role.VIEWER)  # a download changes nothing; the API lets viewers download too
def download_leads(request: HttpRequest, slug: str) -> HttpResponse:
    """Download Leads (SPEC §3) from the Summary's form, streamed; a bad option is one sentence back there."""
    source = _source(slug)
    file_format = request.GET.get("format", "xlsx")
    try:
        since, until = _date_bounds(request)
        prepared = prepare_download(
            source,
            format=file_format,
            statuses=request.GET.getlist("status") or None,
            codes=request.GET.getlist("code") or None,
            since=since,
            until=until,
            time_field=request.GET.get("by", "submitted"),
        )
    except DownloadError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("web:summary", args=[source.slug]) + "#download")
    return _stream(prepared, filename(source, file_format))


@require_GET
@requires(Role.VIEWER)
def lead_template(request: HttpRequest, slug: str) -> HttpResponse:
    """The lead template: the source's field keys as a header row, to fill in and upload."""
    source = _source(slug)
    file_format = request.GET.get("format", "xlsx")
    if file_format not in FORMATS:
        file_format = "xlsx"
    return _stream(prepare_template(source, format=file_format), filename(source, file_format, template=True))
