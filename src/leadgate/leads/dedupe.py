"""The rule engine's dedupe index, answered by the stored leads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.db.models import Q
from django.utils import timezone

from leadgate.rules.catalogue import Status
from leadgate.rules.definitions import DedupeRule, DedupeScope
from leadgate.sources.models import Source

from .models import Lead

# Leads that hold their place: an original must have been accepted (or be waiting for review). A rejected
# lead never blocks a later one, so fixing and re-uploading it cannot turn the good copy into a duplicate.
ORIGINAL_STATUSES = (Status.ACCEPTED, Status.IN_REVIEW)


class StoredDedupeIndex:
    """Looks dedupe keys up among the leads already stored, within the rule's scope and lookback window."""

    def __init__(self, source: Source, rule: DedupeRule, now: dt.datetime | None = None) -> None:
        self.leads = Lead.objects.filter(status__in=ORIGINAL_STATUSES)
        if rule.scope == DedupeScope.SOURCE:
            self.leads = self.leads.filter(source=source)
        # The lookback window and the order are applied to the few rows found, not in SQL: given a date
        # range or an ORDER BY, SQLite walks the source's leads by date instead of using the key indexes.
        self.since = (
            (now or timezone.now()) - dt.timedelta(days=rule.lookback_days) if rule.lookback_days else None
        )

    def _first_by_key(self, rows: Iterable[tuple[str, dt.datetime, int, str]]) -> dict[str, str]:
        """The earliest original (by submission, then id) per key, within the lookback window."""
        first: dict[str, tuple[dt.datetime, int, str]] = {}
        for key, submitted_at, pk, lead_id in rows:
            if self.since is not None and submitted_at < self.since:
                continue
            if key not in first or (submitted_at, pk) < first[key][:2]:
                first[key] = (submitted_at, pk, lead_id)
        return {key: lead_id for key, (_, _, lead_id) in first.items()}

    def find(self, keys: Iterable[str]) -> Mapping[str, str]:
        emails, phones, pairs = set(), set(), set()
        for key in keys:
            kind, _, value = key.partition(":")
            if kind == "email":
                emails.add(value)
            elif kind == "phone":
                phones.add(value)
            elif kind == "email+phone":
                pairs.add(tuple(value.split("|", 1)))
        found: dict[str, str] = {}
        # Chunked so that a 1,000-lead batch stays well under SQLite's variable limit.
        for column, values in (("email_key", emails), ("phone_key", phones)):
            ordered = sorted(values)
            kind = column.split("_")[0]
            for start in range(0, len(ordered), 500):
                chunk = ordered[start : start + 500]
                rows = self.leads.filter(**{f"{column}__in": chunk}).order_by()
                found.update(
                    self._first_by_key(
                        (f"{kind}:{value}", at, pk, lead_id)
                        for value, at, pk, lead_id in rows.values_list(
                            column, "submitted_at", "pk", "lead_id"
                        )
                    )
                )
        ordered_pairs = sorted(pairs)
        for start in range(0, len(ordered_pairs), 200):  # SQLite limits expression depth
            condition = Q()
            for email, phone in ordered_pairs[start : start + 200]:
                condition |= Q(email_key=email, phone_key=phone)
            rows = self.leads.filter(condition).order_by()
            found.update(
                self._first_by_key(
                    (f"email+phone:{email}|{phone}", at, pk, lead_id)
                    for email, phone, at, pk, lead_id in rows.values_list(
                        "email_key", "phone_key", "submitted_at", "pk", "lead_id"
                    )
                )
            )
        return found

    def add(self, key: str, lead_id: str) -> None:
        """Nothing to do: the accepted lead is stored in the same transaction and found from then on."""
