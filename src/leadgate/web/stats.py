"""The numbers the web UI's pages show, each read in one query (the pages are polled during an event)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone

from leadgate.delivery.models import Delivery, Destination
from leadgate.leads.models import Lead
from leadgate.rules.catalogue import BY_CODE, DESTINATION, Status
from leadgate.sources.models import Field, Source

from .destinations import Health, health

#: The counters a source shows everywhere, in this order.
COUNTED = (Status.PROCESSING, Status.ACCEPTED, Status.REJECTED, Status.IN_REVIEW, Status.FAILED)
WAITING = (Delivery.State.PENDING, Delivery.State.RETRYING)


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


# --- Deliveries: counters per destination, and the reconciliation of received, decided and delivered ---


@dataclass(frozen=True)
class DestinationLine:
    """One destination on the Summary: this source's deliveries to it by state, and its health."""

    destination: Destination
    counts: dict[str, int]
    health: Health
    attached: bool  # False: detached since, its deliveries of this source are still counted


def delivery_lines(source: Source) -> list[DestinationLine]:
    """The source's destinations (and any it had deliveries to), with its deliveries to each by state."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(Delivery.State.values, 0))
    rows = Delivery.objects.filter(source=source).order_by().values_list("destination_id", "state")
    for destination_id, state, n in rows.annotate(n=Count("id")):
        counts[destination_id][state] = n
    attached = {d.pk for d in source.destinations.all()}
    destinations = Destination.objects.filter(pk__in=attached | set(counts)).order_by("key")
    return [DestinationLine(d, counts[d.pk], health(d), d.pk in attached) for d in destinations]


@dataclass(frozen=True)
class Gap:
    """Something that keeps the numbers from reconciling: a sentence, and where to act on it."""

    key: str
    count: int
    text: str
    link_text: str
    url: str


@dataclass(frozen=True)
class Reconciliation:
    """Received vs. decided vs. delivered, in leads (not deliveries).

    Decided: every lead that is not processing (accepted, rejected, in review or failed). Delivered: the
    accepted leads that every enabled destination of the source has. The other accepted leads are waiting
    (a delivery pending or retrying), dead (a delivery given up) or missing (no delivery to some
    destination: accepted before it was attached or enabled). Leads a destination refused are rejected.
    """

    received: int
    processing: int
    decided: int
    accepted: int
    rejected: int
    in_review: int
    failed: int
    destinations: int  # enabled destinations the source posts to
    attached: int  # destinations the source posts to, enabled or not
    delivered: int
    waiting: int
    dead: int
    missing: int
    refused: int  # rejected because a destination refused them
    verdict: str
    gaps: list[Gap]

    @property
    def reconciled(self) -> bool:
        return not self.gaps and (self.destinations > 0 or self.accepted == 0)


def _leads(n: int) -> str:
    return f"{n:,} lead{'' if n == 1 else 's'}"


def _accepted_leads(n: int) -> str:
    return f"{n:,} accepted lead{'' if n == 1 else 's'}"


def reconcile(source: Source, summary: dict[str, Any]) -> Reconciliation:
    """The Summary's reconciliation panel from ``leads.services.summary(source)`` and three small queries."""
    status: dict[str, int] = summary["status"]
    accepted = status.get(Status.ACCEPTED, 0)
    enabled = list(source.destinations.filter(enabled=True).values_list("pk", flat=True))
    attached = source.destinations.count()
    delivered = waiting = dead = 0
    if enabled and accepted:
        rows = Delivery.objects.filter(
            source=source, destination_id__in=enabled, lead__status=Status.ACCEPTED
        ).order_by()
        held = rows.aggregate(
            dead=Count("lead_id", distinct=True, filter=Q(state=Delivery.State.DEAD)),
            stuck=Count("lead_id", distinct=True, filter=Q(state__in=[*WAITING, Delivery.State.DEAD])),
        )
        dead, waiting = held["dead"], held["stuck"] - held["dead"]
        # Delivered to every destination: one delivered row per enabled destination (one row per pair).
        delivered = (
            rows.values("lead_id")
            .annotate(n=Count("id", filter=Q(state=Delivery.State.DELIVERED)))
            .filter(n=len(enabled))
            .count()
        )
    missing = max(0, accepted - delivered - waiting - dead) if enabled else 0
    refused = summary["dispositions"].get(DESTINATION, 0)
    leads_url = reverse("web:leads", args=[source.slug])
    postout_url = reverse("web:postout", args=[source.slug])
    gaps = [
        Gap(
            "processing",
            status.get(Status.PROCESSING, 0),
            f"{_leads(status.get(Status.PROCESSING, 0))} still being checked.",
            "See them",
            f"{leads_url}?status=processing",
        ),
        Gap(
            "waiting",
            waiting,
            f"{_accepted_leads(waiting)} on the way: a delivery is pending or retrying.",
            "Delivery log",
            postout_url,
        ),
        Gap(
            "dead",
            dead,
            f"{_accepted_leads(dead)} not delivered: a destination gave up after the last attempt.",
            "Retry the dead letters",
            postout_url,
        ),
        Gap(
            "missing",
            missing,
            f"{_accepted_leads(missing)} missing from a destination"
            " (accepted before it was added or enabled).",
            "Redeliver from each lead's page",
            f"{leads_url}?status=accepted",
        ),
        Gap(
            "refused",
            refused,
            f"{_leads(refused)} refused by a destination, and so rejected.",
            "See them",
            f"{leads_url}?code={DESTINATION}",
        ),
        Gap(
            "failed",
            status.get(Status.FAILED, 0),
            f"{_leads(status.get(Status.FAILED, 0))} failed while being checked (an internal error).",
            "See them and reprocess",
            f"{leads_url}?status=failed",
        ),
    ]
    return Reconciliation(
        received=summary["total"],
        processing=status.get(Status.PROCESSING, 0),
        decided=summary["total"] - status.get(Status.PROCESSING, 0),
        accepted=accepted,
        rejected=status.get(Status.REJECTED, 0),
        in_review=status.get(Status.IN_REVIEW, 0),
        failed=status.get(Status.FAILED, 0),
        destinations=len(enabled),
        attached=attached,
        delivered=delivered,
        waiting=waiting,
        dead=dead,
        missing=missing,
        refused=refused,
        verdict=_verdict(accepted, delivered, len(enabled), attached),
        gaps=[gap for gap in gaps if gap.count],
    )


def _verdict(accepted: int, delivered: int, enabled: int, attached: int) -> str:
    if not attached:
        return "This source posts to no destination: its accepted leads stay in leadgate."
    if not enabled:
        return "Every destination of this source is disabled: nothing is posted."
    if not accepted:
        return "No accepted lead to deliver yet."
    if delivered == accepted:
        if accepted == 1:
            return "The accepted lead is in every destination."
        return f"All {accepted:,} accepted leads are in every destination."
    return f"{delivered:,} of {_accepted_leads(accepted)} are in every destination."
