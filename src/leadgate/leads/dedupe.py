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
        if rule.lookback_days:
            since = (now or timezone.now()) - dt.timedelta(days=rule.lookback_days)
            self.leads = self.leads.filter(submitted_at__gte=since)

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
            for start in range(0, len(ordered), 500):
                chunk = ordered[start : start + 500]
                rows = self.leads.filter(**{f"{column}__in": chunk}).order_by("submitted_at", "id")
                for value, lead_id in rows.values_list(column, "lead_id"):
                    found.setdefault(f"{column.split('_')[0]}:{value}", lead_id)
        ordered_pairs = sorted(pairs)
        for start in range(0, len(ordered_pairs), 200):  # SQLite limits expression depth
            condition = Q()
            for email, phone in ordered_pairs[start : start + 200]:
                condition |= Q(email_key=email, phone_key=phone)
            rows = self.leads.filter(condition).order_by("submitted_at", "id")
            for email, phone, lead_id in rows.values_list("email_key", "phone_key", "lead_id"):
                found.setdefault(f"email+phone:{email}|{phone}", lead_id)
        return found

    def add(self, key: str, lead_id: str) -> None:
        """Nothing to do: the accepted lead is stored in the same transaction and found from then on."""
