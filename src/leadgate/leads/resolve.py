"""Rejections grouped for the Resolve tab: one group per (code, field, value) of the first problem.

A lead's disposition code is its first problem's code (SPEC §2), so fixing that problem is what can move it;
later problems show up in a group of their own once it has been reprocessed. The counting is one GROUP BY
over the JSON of the first problem, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from leadgate.rules.catalogue import BLOCKED_EMAIL_DOMAIN, DOMAIN_NOT_ALLOWED
from leadgate.sources.models import Source

from .models import Lead

#: Codes whose value is an email address but whose cause is its domain: grouped by the domain.
DOMAIN_CODES = frozenset({BLOCKED_EMAIL_DOMAIN, DOMAIN_NOT_ALLOWED})
REJECTED = "rejected"


@dataclass(frozen=True)
class Group:
    """Rejected leads of one source that share their first problem."""

    code: str
    field: str
    value: str
    count: int

    @property
    def key(self) -> str:
        """A stable name for the group, for forms and the session (never shown as HTML)."""
        return "\x1f".join((self.code, self.field, self.value))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def rejection_groups(source: Source, *, code: str | None = None) -> list[Group]:
    """The source's rejected leads grouped by code, field and value of their first problem, largest first."""
    leads = Lead.objects.filter(source=source, status=REJECTED)
    if code:
        leads = leads.filter(disposition_code=code)
    rows = (
        leads.values("disposition_code", "problems__0__field", "problems__0__value")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[str, str, str], int] = {}
    for row in rows:
        code_, field = row["disposition_code"], _text(row["problems__0__field"])
        value = _text(row["problems__0__value"])
        if code_ in DOMAIN_CODES:
            value = _domain(value)
        key = (code_, field, value)
        counts[key] = counts.get(key, 0) + row["n"]
    groups = [Group(c, f, v, n) for (c, f, v), n in counts.items()]
    return sorted(groups, key=lambda g: (-g.count, g.code, g.field, g.value))


def group_leads(source: Source, code: str, field: str, value: str) -> QuerySet[Lead]:
    """The rejected leads of one group (as ``rejection_groups`` formed it)."""
    leads = Lead.objects.filter(source=source, status=REJECTED, disposition_code=code)
    leads = leads.filter(problems__0__field=field) if field else leads.filter(problems__0__field__isnull=True)
    if code in DOMAIN_CODES:
        return leads.filter(problems__0__value__iendswith=f"@{value}")
    if value:
        return leads.filter(problems__0__value=value)
    return leads.filter(problems__0__value__isnull=True)


def group_lead_ids(source: Source, code: str, field: str, value: str) -> Sequence[str]:
    """LeadIDs of one group, oldest first (the order reprocessing decides them in)."""
    leads = group_leads(source, code, field, value)
    ids = leads.order_by("submitted_at", "id").values_list("lead_id", "problems")
    if (
        code in DOMAIN_CODES
    ):  # iendswith is a hint; compare the domain exactly ("@x.com" vs "@ax.com" is fine)
        return [i for i, problems in ids if _domain(_text(problems[0].get("value"))) == value]
    return [i for i, _ in ids]
