"""The numbers the web UI's pages show, each read in one query (the pages are polled during an event)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from leadgate.leads.models import Lead
from leadgate.rules.catalogue import BY_CODE, Status
from leadgate.sources.models import Field, Source

#: The counters a source shows everywhere, in this order.
COUNTED = (Status.PROCESSING, Status.ACCEPTED, Status.REJECTED, Status.IN_REVIEW, Status.FAILED)


def counts_by_source(source_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """{source id: {"received": n, "accepted": n, …}} for the given sources, from one GROUP BY.

    It reads the (source, status) index only, so it stays cheap with millions of leads.
    """
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(["received", *COUNTED], 0))
    rows = (
        Lead.objects.filter(source_id__in=list(source_ids))
        .order_by()
        .values("source_id", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        source_counts = counts[row["source_id"]]
        source_counts[row["status"]] = source_counts.get(row["status"], 0) + row["n"]
        source_counts["received"] += row["n"]
    return counts


@dataclass(frozen=True)
class BreakdownRow:
    code: str
    title: str
    count: int
    share: float  # percent of all the source's leads


def breakdown(dispositions: dict[str, int], total: int) -> list[BreakdownRow]:
    """The disposition breakdown from :func:`leadgate.leads.services.summary`'s counts, largest first."""
    return [
        BreakdownRow(
            code=code,
            title=BY_CODE[code].title if code in BY_CODE else code,
            count=n,
            share=100 * n / total if total else 0.0,
        )
        for code, n in dispositions.items()
    ]


@dataclass(frozen=True)
class Hour:
    start: dt.datetime
    count: int
    height: float  # percent of the busiest hour's count, for the chart


def leads_per_hour(source: Source, hours: int = 48, now: dt.datetime | None = None) -> list[Hour]:
    """Leads submitted in each of the last ``hours`` hours (the current hour last), empty hours included."""
    end = (now or timezone.now()).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    start = end - dt.timedelta(hours=hours)
    rows = (
        Lead.objects.filter(source=source, submitted_at__gte=start, submitted_at__lt=end)
        .order_by()
        .annotate(hour=TruncHour("submitted_at", tzinfo=dt.UTC))
        .values("hour")
        .annotate(n=Count("id"))
    )
    by_hour = {row["hour"]: row["n"] for row in rows}
    starts = [start + dt.timedelta(hours=i) for i in range(hours)]
    busiest = max(by_hour.values(), default=0)
    return [
        Hour(at, by_hour.get(at, 0), 100 * by_hour.get(at, 0) / busiest if busiest else 0.0) for at in starts
    ]


def sparklines(source_ids: Iterable[int], hours: int = 48) -> dict[int, list[float]]:
    """{source id: [height of each of the last ``hours`` hours, 0–100]} for the sources list, in one query.

    Each source's bars are scaled to its own busiest hour: the sparkline shows the shape of its day.
    """
    end = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    start = end - dt.timedelta(hours=hours)
    rows = (
        Lead.objects.filter(source_id__in=list(source_ids), submitted_at__gte=start, submitted_at__lt=end)
        .order_by()
        .annotate(hour=TruncHour("submitted_at", tzinfo=dt.UTC))
        .values("source_id", "hour")
        .annotate(n=Count("id"))
    )
    counts: dict[int, list[int]] = defaultdict(lambda: [0] * hours)
    for row in rows:
        index = int((row["hour"] - start).total_seconds() // 3600)
        counts[row["source_id"]][index] = row["n"]
    return {source_id: [100 * n / max(per_hour) for n in per_hour] for source_id, per_hour in counts.items()}


def latest_leads(
    source: Source, fields: list[Field], *, masked: bool, limit: int = 10
) -> list[dict[str, object]]:
    """The newest leads, each with the values of ``fields`` in order (as submitted: attacker-controlled) and
    its reason; with ``masked``, personal values are hidden as the Leads tab hides them from viewers."""
    from .leads import Masker  # the Leads tab's rule, in one place (imported here: leads imports stats)

    pii = set(source.fields.filter(pii=True).values_list("key", flat=True))
    rows = []
    for lead in Lead.objects.filter(source=source).order_by("-submitted_at", "-id")[:limit]:
        masker = Masker(lead, pii, masked)
        values = [masker.value(field.key, lead.values.get(field.key) or "") for field in fields]
        rows.append({"lead": lead, "values": values, "reason": masker.text(lead.custom_reason)})
    return rows
