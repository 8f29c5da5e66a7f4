"""The rule engine's dedupe index, answered by the stored leads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection
from django.utils import timezone

from leadgate.rules.catalogue import Status
from leadgate.rules.definitions import DedupeRule, DedupeScope
from leadgate.sources.models import Source

from .models import Lead
from .store import in_list_size

# Leads that hold their place: an original must have been accepted (or be waiting for review). A rejected
# lead never blocks a later one, so fixing and re-uploading it cannot turn the good copy into a duplicate.
ORIGINAL_STATUSES = (Status.ACCEPTED, Status.IN_REVIEW)


# The lead table's index for each key column: the one that starts with it (``Lead.Meta.indexes``).
_INDEX = {i.fields[0]: i.name for i in Lead._meta.indexes if i.fields[0] in ("email_key", "phone_key")}


class StoredDedupeIndex:
    """Looks dedupe keys up among the leads already stored, within the rule's scope and lookback window."""

    def __init__(self, source: Source, rule: DedupeRule, now: dt.datetime | None = None) -> None:
        self.source_id = source.pk if rule.scope == DedupeScope.SOURCE else None
        # The lookback window and the order are applied to the few rows found, not in SQL: given a date
        # range or an ORDER BY, SQLite walks the source's leads by date instead of using the key indexes.
        self.since = (
            (now or timezone.now()) - dt.timedelta(days=rule.lookback_days) if rule.lookback_days else None
        )

    def _select(
        self, key_sql: str, condition: str, values: list[Any], index: str
    ) -> list[tuple[str, Any, int, str]]:
        """(key, submitted_at, pk, lead_id) of the originals matching ``condition``.

        Plain SQL: a lead post makes this query every time, and building it through the ORM cost more
        than running it. Only originals are sent back (a re-upload asks about its own rejected leads by
        the thousand); SQLite is told to use the key's ``index``, since given the status, SQLite without
        statistics prefers the (source, status) index and walks every accepted lead of the source.
        """
        quote = connection.ops.quote_name
        table = quote(Lead._meta.db_table)
        if connection.vendor == "sqlite":
            table = f"{table} INDEXED BY {quote(index)}"
        conditions = [condition, "status IN (%s, %s)"]
        params: list[Any] = [*values, *(s.value for s in ORIGINAL_STATUSES)]
        if self.source_id is not None:
            conditions.insert(0, "source_id = %s")
            params.insert(0, self.source_id)
        where = " AND ".join(conditions)
        sql = f"SELECT {key_sql}, submitted_at, id, lead_id FROM {table} WHERE {where}"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _first_by_key(self, rows: Iterable[tuple[str, Any, int, str]]) -> dict[str, str]:
        """The earliest original (by submission, then id) per key, within the lookback window."""
        first: dict[str, tuple[dt.datetime, int, str]] = {}
        for key, submitted_at, pk, lead_id in rows:
            if submitted_at.tzinfo is None:  # SQLite gives back naive UTC
                submitted_at = submitted_at.replace(tzinfo=dt.UTC)
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
        # PostgreSQL takes every key as one array; SQLite's are chunked to stay under its variable limit.
        array = connection.vendor == "postgresql"
        for column, values in (("email_key", emails), ("phone_key", phones)):
            ordered = sorted(values)
            kind = column.split("_")[0]
            size = max(len(ordered), 1) if array else in_list_size()
            for start in range(0, len(ordered), size):
                chunk = ordered[start : start + size]
                condition, params = (
                    (f"{column} = ANY(%s)", [chunk])
                    if array
                    else (f"{column} IN ({', '.join(['%s'] * len(chunk))})", chunk)
                )
                found.update(
                    self._first_by_key(
                        (f"{kind}:{value}", at, pk, lead_id)
                        for value, at, pk, lead_id in self._select(column, condition, params, _INDEX[column])
                    )
                )
        ordered_pairs = sorted(pairs)
        for start in range(0, len(ordered_pairs), 200):  # SQLite limits expression depth
            chunk = ordered_pairs[start : start + 200]
            either = " OR ".join(["(email_key = %s AND phone_key = %s)"] * len(chunk))
            rows = self._select(
                "email_key || '|' || phone_key",
                f"({either})",
                [v for pair in chunk for v in pair],
                _INDEX["email_key"],
            )
            found.update(
                self._first_by_key((f"email+phone:{key}", at, pk, lead_id) for key, at, pk, lead_id in rows)
            )
        return found

    def add(self, key: str, lead_id: str) -> None:
        """Nothing to do: the accepted lead is stored in the same transaction and found from then on."""
