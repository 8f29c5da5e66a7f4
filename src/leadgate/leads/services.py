"""Use cases for leads: take them in, decide them, decide them again.

Each batch is one transaction that stores the leads' outcomes and their history events together, so a lead is
never decided without a trace, and a crash leaves either the whole batch or none of it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from leadgate.accounts.models import User
from leadgate.lib import jsontext
from leadgate.lib.ids import new_lead_ids
from leadgate.rules.catalogue import FAILED_PROCESSING_ERROR, MANUAL, SOURCE_NOT_LIVE, Status
from leadgate.rules.engine import Checked, Engine
from leadgate.rules.headers import FieldKeyMatcher
from leadgate.rules.outcome import Decision, LeadInput
from leadgate.sources.compile import CompiledSource, compiled_source
from leadgate.sources.models import Source

from .dedupe import ORIGINAL_STATUSES, StoredDedupeIndex
from .models import Lead, LeadEvent, ReceivedVia
from .store import insert, insert_columns, insert_leads, update_leads

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """Who or what caused a change, as the history shows it ("api key Booth app", "upload leads.csv")."""

    label: str
    user: User | None = None


SYSTEM = Actor("system")


@dataclass
class Outcome:
    """Counts for one call, for the CLI and API to report."""

    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    changed: int = 0

    def count(self, lead: Lead, changed: bool) -> None:
        self.total += 1
        self.by_status[lead.status] = self.by_status.get(lead.status, 0) + 1
        self.changed += int(changed)

    def as_dict(self) -> dict[str, Any]:
        return {"reprocessed": self.total, "changed": self.changed, "status": self.by_status}


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def map_submission(matcher: FieldKeyMatcher, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Values keyed by field key (submitted keys may be keys, labels or aliases), and the unknown keys."""
    values: dict[str, Any] = {}
    unknown: list[str] = []
    for name, value in raw.items():
        key = matcher.match(str(name))
        if key is None:
            unknown.append(str(name))
        elif key not in values or values[key] in (None, ""):
            values[key] = value
    return values, unknown


def _failed(lead_id: str, error: BaseException) -> Decision:
    return Decision(
        lead_id=lead_id,
        status=Status.FAILED,
        disposition_code=FAILED_PROCESSING_ERROR,
        custom_reason=f"Internal error while checking this lead: {type(error).__name__}: {error}"[:500],
        problems=(),
        clean={},
    )


def _decide(engine: Engine, inputs: Sequence[LeadInput]) -> list[Decision]:
    """Decide a batch; if the engine fails as a whole, decide lead by lead so only the culprit fails."""
    try:
        return engine.decide(inputs)
    except Exception:
        log.exception("deciding a batch of %d leads failed; deciding them one by one", len(inputs))
    decisions = []
    for item in inputs:
        try:
            decisions.extend(engine.decide([item]))
        except Exception as exc:
            log.exception("deciding lead %s failed", item.lead_id)
            decisions.append(_failed(item.lead_id, exc))
    return decisions


def batch_engine(
    source: Source, compiled: CompiledSource, exclude_ids: Iterable[int] = (), allocated: int | None = None
) -> Engine:
    """An engine for one batch, counting the source's allocation as it stands inside this transaction
    (or from ``allocated``, a count the caller carries over)."""
    rules = compiled.rules
    used = 0
    if rules.allocation is not None:
        used = allocated if allocated is not None else allocation_used(source, exclude_ids)
    index = StoredDedupeIndex(source, rules.dedupe) if rules.dedupe else None
    return compiled.engine.for_batch(dedupe_index=index, allocation_used=used)


def allocation_used(source: Source, exclude_ids: Iterable[int] = ()) -> int:
    """The leads counted towards the source's allocation cap: those accepted or held for review."""
    leads = Lead.objects.filter(source=source, status__in=ORIGINAL_STATUSES)
    return leads.exclude(pk__in=list(exclude_ids)).count() if exclude_ids else leads.count()


def lock_source(source: Source) -> None:
    """Serialise decisions per source, so allocation caps and dedupe hold under concurrent posts.

    On PostgreSQL this row lock does it; SQLite has no row locks and needs none, as every write
    transaction is exclusive already (IMMEDIATE), so the query is skipped there.
    """
    if connection.features.has_select_for_update:
        # Plain SQL: taken on every lead post, where building the ORM's query cost a millisecond.
        table = connection.ops.quote_name(Source._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [source.pk])  # noqa: S608


#: The custom reason of an accepted lead that a source with a review hold keeps until a reviewer decides.
HELD_REASON = "Held for review before it is posted."


def apply_decision(lead: Lead, decision: Decision, source: Source, now: dt.datetime) -> None:
    status = decision.status
    reason = decision.custom_reason
    if status is Status.ACCEPTED and source.review:
        status, reason = Status.IN_REVIEW, HELD_REASON
    lead.status = status.value
    lead.disposition_code = decision.disposition_code
    lead.custom_reason = reason
    lead.problems = [p.as_dict() for p in decision.problems]
    lead.clean = dict(decision.clean)
    lead.email_key = decision.dedupe_keys.get("email", "")
    lead.phone_key = decision.dedupe_keys.get("phone", "")
    lead.processed_at = now
    lead.updated_at = now
    if status is Status.ACCEPTED and lead.first_accepted_at is None:
        lead.first_accepted_at = now


def history_event(
    lead: Lead, kind: str, actor: Actor, now: dt.datetime, before: tuple[str, str], **extra: Any
) -> dict[str, Any]:
    """A history event as a row for ``store.insert`` (no model instance: a batch writes thousands)."""
    return {
        "lead_id": lead.pk,
        "at": now,
        "kind": kind,
        "user_id": actor.user.pk if actor.user else None,
        "actor": actor.label,
        "status_before": before[0],
        "code_before": before[1],
        "status_after": lead.status,
        "code_after": lead.disposition_code,
        **extra,
    }


def process_leads(
    source: Source,
    submissions: Sequence[Mapping[str, Any]],
    *,
    received_via: str = ReceivedVia.API,
    actor: Actor = SYSTEM,
    submitted_at: dt.datetime | None = None,
    external_ids: Sequence[str] | None = None,
) -> list[Lead]:
    """Store and decide new leads; returns them in submission order.

    ``submissions`` are dicts keyed by field key, label or alias. Unknown keys are kept in the history
    event's note rather than dropped silently. ``external_ids`` (one per submission, "" for none) are the
    sender's own ids; the database refuses a second lead with the same one in a source (IntegrityError).
    """
    prepared = prepare_leads(
        source, submissions, received_via=received_via, submitted_at=submitted_at, external_ids=external_ids
    )
    with transaction.atomic():
        received = store_leads(prepared, actor=actor)
        by_id = Lead.objects.in_bulk([r.lead_id for r in received], field_name="lead_id")
    return [by_id[r.lead_id] for r in received]


class StoredDecision(NamedTuple):
    """A decision as the lead's row stores it (JSON as text), with its problems for the API's answer."""

    status: str
    disposition_code: str
    custom_reason: str
    problems: str
    clean: str
    email_key: str
    phone_key: str
    problem_list: list[dict[str, Any]]


def stored_decision(decision: Decision, held: bool) -> StoredDecision:
    """``apply_decision``'s columns, for rows written column by column. ``held``: the source holds
    accepted leads for review."""
    status, reason = decision.status, decision.custom_reason
    if held and status is Status.ACCEPTED:
        status, reason = Status.IN_REVIEW, HELD_REASON
    problems = [p.as_dict() for p in decision.problems]
    keys = decision.dedupe_keys
    return StoredDecision(
        status.value,
        decision.disposition_code,
        reason,
        jsontext.dumps(problems) if problems else "[]",
        jsontext.dumps(decision.clean),
        keys.get("email", ""),
        keys.get("phone", ""),
        problems,
    )


class ReceivedLead(NamedTuple):
    """A new lead as stored: what the API answers and the outbox needs, without a model instance."""

    pk: int
    lead_id: str
    status: str
    disposition_code: str
    custom_reason: str
    problems: list[dict[str, Any]]
    external_id: str


@dataclass
class PreparedLeads:
    """New leads checked each on its own and turned into columns, waiting to be settled (dedupe and
    allocation) and stored under the source's lock.

    ``decided`` holds each lead's columns as its own checks decided it (accepted, unless settling says
    otherwise): under the lock only the leads that settling rejects are turned into columns again.
    """

    source: Source
    compiled: CompiledSource
    submissions: Sequence[Mapping[str, Any]]
    received_via: str
    external_ids: Sequence[str] | None
    submitted_at: dt.datetime
    lead_ids: list[str]
    values: list[str]  # as stored: JSON text
    notes: list[str]
    checked: Checked
    decided: list[StoredDecision]


def prepare_leads(
    source: Source,
    submissions: Sequence[Mapping[str, Any]],
    *,
    received_via: str = ReceivedVia.API,
    submitted_at: dt.datetime | None = None,
    external_ids: Sequence[str] | None = None,
) -> list[PreparedLeads]:
    """The half of ``process_leads`` that needs no lock: keys mapped, each lead's own checks, columns made.

    One part per LEADGATE_PROCESS_BATCH_SIZE submissions, each stored in a transaction of its own.
    """
    parts = []
    at = submitted_at or timezone.now()
    for start in range(0, len(submissions), settings.LEADGATE_PROCESS_BATCH_SIZE):
        batch = submissions[start : start + settings.LEADGATE_PROCESS_BATCH_SIZE]
        ids = external_ids[start : start + len(batch)] if external_ids else None
        parts.append(_prepare(source, compiled_source(source), batch, received_via, ids, at))
    return parts


def store_leads(prepared: Sequence[PreparedLeads], *, actor: Actor = SYSTEM) -> list[ReceivedLead]:
    """The other half: under the source's lock, dedupe and allocation, then the leads and their history.

    Only this part waits for concurrent posts to the same source, so it does as little as it can: the
    columns are made beforehand; here only the leads that dedupe or allocation reject are made again.
    """
    received: list[ReceivedLead] = []
    for part in prepared:
        # No savepoint inside a caller's transaction: the caller's is the unit (the API's one request).
        with transaction.atomic(savepoint=False):
            lock_source(part.source)
            received.extend(_store([_current(part)], [actor])[0])
    return received


def store_together(parts: Sequence[PreparedLeads], actors: Sequence[Actor]) -> list[list[ReceivedLead]]:
    """``store_leads`` for parts of several requests to one source, as one batch: one dedupe lookup and
    one insert per table for all of them, settled in the order given (as if stored one after another).
    Call inside a transaction; returns each part's leads."""
    with transaction.atomic(savepoint=False):
        lock_source(parts[0].source)
        return _store([_current(part) for part in parts], actors)


def _current(part: PreparedLeads) -> PreparedLeads:
    """The part as the source's rules stand inside this transaction: checked again if they changed."""
    compiled = compiled_source(part.source)
    if compiled is part.compiled:
        return part
    return _prepare(
        part.source, compiled, part.submissions, part.received_via, part.external_ids, part.submitted_at
    )


def _store(parts: Sequence[PreparedLeads], actors: Sequence[Actor]) -> list[list[ReceivedLead]]:
    """Settle and write parts of one source (one part, or several requests' parts together)."""
    from leadgate.delivery.outbox import leads_changed

    first = parts[0]
    source, compiled = first.source, first.compiled
    now = timezone.now()
    checked = Checked([item for part in parts for item in part.checked.items])
    lead_ids = _per_lead(parts, lambda part: part.lead_ids)
    rows = [row for part in parts for row in part.decided]  # a copy: a retried transaction stores it again
    n = len(lead_ids)
    decisions = _settle(batch_engine(source, compiled), checked, lead_ids)
    for i, decision in enumerate(decisions):
        if decision.status is not Status.ACCEPTED and decision is not checked.decided(i):
            rows[i] = stored_decision(decision, source.review)  # rejected by dedupe or allocation
    status, codes, reasons, problems, clean, email_keys, phone_keys, problem_lists = zip(*rows, strict=True)
    stamp = connection.ops.adapt_datetimefield_value(now)  # in the driver's form, once
    external_ids = _per_lead(parts, lambda part: part.external_ids or [""] * len(part.lead_ids))
    pks = insert_leads(
        {
            "lead_id": lead_ids,
            "source_id": source.pk,
            "status": status,
            "disposition_code": codes,
            "custom_reason": reasons,
            "problems": problems,
            "values": _per_lead(parts, lambda part: part.values),
            "clean": clean,
            "received_via": _per_part(parts, [part.received_via for part in parts]),
            "external_id": external_ids,
            "email_key": email_keys,
            "phone_key": phone_keys,
            "submitted_at": _per_part(
                parts, [connection.ops.adapt_datetimefield_value(part.submitted_at) for part in parts]
            ),
            "processed_at": now,
            "updated_at": now,
            "first_accepted_at": [stamp if s == Status.ACCEPTED else None for s in status],
        },
        n,
    )
    insert_columns(
        LeadEvent,
        {
            "lead_id": pks,
            "at": now,
            "kind": LeadEvent.Kind.RECEIVED.value,
            "user_id": _per_part(parts, [actor.user.pk if actor.user else None for actor in actors]),
            "actor": _per_part(parts, [actor.label for actor in actors]),
            "status_after": status,
            "code_after": codes,
            "note": _per_lead(parts, lambda part: part.notes),
        },
        n,
    )
    received = [
        ReceivedLead(*lead)
        for lead in zip(pks, lead_ids, status, codes, reasons, problem_lists, external_ids, strict=True)
    ]
    leads_changed(source, received, now, new=True, compiled=compiled)
    each, start = [], 0
    for part in parts:
        each.append(received[start : start + len(part.lead_ids)])
        start += len(part.lead_ids)
    return each


def _per_lead(
    parts: Sequence[PreparedLeads], column: Callable[[PreparedLeads], Sequence[Any]]
) -> Sequence[Any]:
    """A column the parts hold lead by lead, for all of them."""
    if len(parts) == 1:
        return column(parts[0])
    return [value for part in parts for value in column(part)]


def _per_part(parts: Sequence[PreparedLeads], values: Sequence[Any]) -> Any:
    """A column with one value per part: that value when the parts agree (as one request's do), else a
    value per lead."""
    if all(v == values[0] for v in values):
        return values[0]
    return [v for part, v in zip(parts, values, strict=True) for _ in part.lead_ids]


def _prepare(
    source: Source,
    compiled: CompiledSource,
    batch: Sequence[Mapping[str, Any]],
    received_via: str,
    external_ids: Sequence[str] | None,
    submitted_at: dt.datetime,
) -> PreparedLeads:
    """The submissions' LeadIDs, values, history notes, each lead's own checks, and its columns."""
    lead_ids = new_lead_ids(len(batch))
    values: list[dict[str, Any]] = []
    notes: list[str] = []
    matcher = compiled.matcher
    for raw in batch:
        keys, one_each = matcher.plan(tuple(raw))
        if one_each:  # the common case: map_submission and jsonable in one pass
            values.append(
                {
                    key: value if value.__class__ is str or value is None else _text(value)
                    for key, value in zip(keys, raw.values(), strict=True)
                    if key is not None
                }
            )
            unknown = [str(name) for name, key in zip(raw, keys, strict=True) if key is None]
        else:
            mapped, unknown = map_submission(matcher, raw)
            values.append(jsonable(mapped))
        notes.append(f"Unknown keys ignored: {', '.join(unknown)}" if unknown else "")
    inputs = [LeadInput(lead_id, v) for lead_id, v in zip(lead_ids, values, strict=True)]
    try:
        checked = compiled.engine.check(inputs)
    except Exception:
        log.exception("checking a batch of %d leads failed; checking them one by one", len(inputs))
        checked = Checked([item for lead in inputs for item in _check_one(compiled.engine, lead)])
    held = source.review
    decided = []
    for i in range(len(inputs)):
        decision = checked.decided(i)
        decided.append(stored_decision(decision or checked.accepted(i), held))
    return PreparedLeads(
        source,
        compiled,
        batch,
        received_via,
        external_ids,
        submitted_at,
        lead_ids,
        [jsontext.dumps(v) for v in values],
        notes,
        checked,
        decided,
    )


def _check_one(engine: Engine, lead: LeadInput) -> list[Any]:
    try:
        return engine.check([lead]).items
    except Exception as exc:
        log.exception("checking lead %s failed", lead.lead_id)
        return [_failed(lead.lead_id, exc)]


def _settle(engine: Engine, checked: Checked, lead_ids: Sequence[str]) -> list[Decision]:
    """Dedupe and allocation for a checked batch; if that fails as a whole, the batch fails, lead by lead
    visibly (FAILED_PROCESSING_ERROR, reprocessable), rather than the request losing them."""
    try:
        return engine.settle(checked)
    except Exception as exc:
        log.exception("settling a batch of %d leads failed", len(lead_ids))
        return [_failed(lead_id, exc) for lead_id in lead_ids]


def reprocess_leads(
    source: Source,
    lead_ids: Iterable[str],
    *,
    actor: Actor = SYSTEM,
    note: str = "",
    edits: Mapping[str, Mapping[str, Any]] | None = None,
) -> Outcome:
    """Decide stored leads again with the source's current rules (after values or rules changed).

    ``edits`` maps a lead_id to new values for some of its fields; they are recorded field by field in the
    lead's history. A lead that was rejected because the source was not live is checked for that again; any
    other lead was received while the source was live and is re-validated even after the source closed.
    """
    from leadgate.delivery.outbox import leads_changed, leads_updated

    outcome = Outcome()
    edits = edits or {}
    ids = list(dict.fromkeys(lead_ids))
    for batch_ids in _chunks(ids, settings.LEADGATE_PROCESS_BATCH_SIZE):
        with transaction.atomic():
            lock_source(source)
            now = timezone.now()
            by_id = {lead.lead_id: lead for lead in Lead.objects.filter(source=source, lead_id__in=batch_ids)}
            # A reviewer's rejection stands until someone edits the lead: new rules do not overrule it.
            batch = [
                by_id[i]
                for i in batch_ids
                if i in by_id and (by_id[i].disposition_code != MANUAL or i in edits)
            ]
            engine = batch_engine(source, compiled_source(source), exclude_ids=[lead.pk for lead in batch])
            befores, changes = [], []
            for lead in batch:
                befores.append((lead.status, lead.disposition_code, lead.custom_reason))
                changed_values = {}
                for key, value in jsonable(edits.get(lead.lead_id, {})).items():
                    if lead.values.get(key) != value:
                        changed_values[key] = [lead.values.get(key), value]
                        lead.values[key] = value
                changes.append(changed_values)
            decisions = _decide(
                engine,
                [
                    LeadInput(lead.lead_id, lead.values, check_live=lead.disposition_code == SOURCE_NOT_LIVE)
                    for lead in batch
                ],
            )
            events, moved, edited = [], [], []
            groups: dict[tuple[bool, bool], list[Lead]] = {}
            for lead, decision, before, changed_values in zip(
                batch, decisions, befores, changes, strict=True
            ):
                keys = (lead.email_key, lead.phone_key)
                apply_decision(lead, decision, source, now)
                rekeyed = (lead.email_key, lead.phone_key) != keys
                groups.setdefault((bool(changed_values), rekeyed), []).append(lead)
                changed = (lead.status, lead.disposition_code, lead.custom_reason) != before or bool(
                    changed_values
                )
                kind = LeadEvent.Kind.EDITED if changed_values else LeadEvent.Kind.REPROCESSED
                events.append(
                    history_event(lead, kind, actor, now, before[:2], changes=changed_values, note=note)
                )
                outcome.count(lead, changed)
                if (lead.status, lead.disposition_code) != before[:2]:
                    moved.append(lead)
                elif changed_values:
                    edited.append(lead)
            for (values_edited, rekeyed), group in groups.items():
                update_leads(group, _decided_fields(values=values_edited, keys=rekeyed))
            insert(LeadEvent, events)
            leads_changed(source, moved, now)
            leads_updated(source, edited, now)
    return outcome


def reprocess_matching(
    source: Source,
    *,
    statuses: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    actor: Actor = SYSTEM,
) -> Outcome:
    """Decide again the source's leads with these statuses (default: rejected and failed) and codes."""
    return reprocess_leads(source, matching_lead_ids(source, statuses=statuses, codes=codes), actor=actor)


def matching_lead_ids(
    source: Source, *, statuses: Sequence[str] | None = None, codes: Sequence[str] | None = None
) -> list[str]:
    """The LeadIDs ``reprocess_matching`` decides again, oldest first."""
    leads = Lead.objects.filter(source=source, status__in=statuses or ["rejected", "failed"])
    if codes:
        leads = leads.filter(disposition_code__in=[c.upper() for c in codes])
    return list(leads.order_by("submitted_at", "id").values_list("lead_id", flat=True))


DECIDED_FIELDS = [
    "values",
    "status",
    "disposition_code",
    "custom_reason",
    "problems",
    "clean",
    "email_key",
    "phone_key",
    "processed_at",
    "updated_at",
    "first_accepted_at",
]


def _decided_fields(*, values: bool, keys: bool) -> list[str]:
    """``DECIDED_FIELDS`` without the values when no value was edited and without the dedupe keys when they
    stayed the same: SQLite rewrites an index whenever a column of it is set, even to the value it had, and
    PostgreSQL would parse the unchanged JSON again."""
    left_out = ({"values"} if not values else set()) | ({"email_key", "phone_key"} if not keys else set())
    return [name for name in DECIDED_FIELDS if name not in left_out]


def reject_leads(source: Source, lead_ids: Iterable[str], reason: str, *, actor: Actor = SYSTEM) -> Outcome:
    """A reviewer rejects leads by hand (``REJECT_LEAD_MANUAL``); the reason becomes the custom reason."""
    from leadgate.delivery.outbox import leads_changed

    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required to reject leads by hand")
    outcome = Outcome()
    ids = list(dict.fromkeys(lead_ids))
    for batch_ids in _chunks(ids, settings.LEADGATE_PROCESS_BATCH_SIZE):
        with transaction.atomic():
            lock_source(source)
            now = timezone.now()
            batch = list(Lead.objects.filter(source=source, lead_id__in=batch_ids))
            events = []
            for lead in batch:
                before = (lead.status, lead.disposition_code)
                changed = before != (Status.REJECTED.value, MANUAL) or lead.custom_reason != reason
                lead.status, lead.disposition_code, lead.custom_reason = Status.REJECTED.value, MANUAL, reason
                lead.updated_at = now
                events.append(history_event(lead, LeadEvent.Kind.REJECTED, actor, now, before, note=reason))
                outcome.count(lead, changed)
            update_leads(batch, ["status", "disposition_code", "custom_reason", "updated_at"])
            insert(LeadEvent, events)
            leads_changed(
                source,
                [
                    lead
                    for lead, e in zip(batch, events, strict=True)
                    if (e["status_before"], e["code_before"]) != (e["status_after"], e["code_after"])
                ],
                now,
            )
    return outcome


def jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values as they are stored: text, with JSON's null for missing; numbers and booleans as typed text."""
    return {
        key: value if value is None or isinstance(value, str) else _text(value)
        for key, value in values.items()
    }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def summary(source: Source) -> dict[str, Any]:
    """The counters of SPEC §6 `leadgate summary --json`."""
    status = {s.value: 0 for s in Status}
    dispositions: dict[str, int] = {}
    rows = Lead.objects.filter(source=source).values("status", "disposition_code").annotate(n=Count("id"))
    for row in rows:
        status[row["status"]] = status.get(row["status"], 0) + row["n"]
        if row["disposition_code"]:
            dispositions[row["disposition_code"]] = dispositions.get(row["disposition_code"], 0) + row["n"]
    return {
        "source": source.slug,
        "total": sum(status.values()),
        "status": status,
        "dispositions": dict(sorted(dispositions.items(), key=lambda kv: (-kv[1], kv[0]))),
        "deliveries": delivery_counts(source),
    }


def delivery_counts(source: Source) -> dict[str, int]:
    """The source's deliveries by state (SPEC §6 summary), every state present."""
    from leadgate.delivery.models import Delivery

    counts = {state.value: 0 for state in Delivery.State}
    for state, n in Delivery.objects.filter(source=source).values_list("state").annotate(n=Count("id")):
        counts[state] = n
    return counts


def preview_reprocess(
    source: Source, statuses: Sequence[str] | None = None, codes: Sequence[str] | None = None
) -> dict[str, Any]:
    """What ``reprocess_matching`` would do with the source's current rules, deciding without storing.

    The same leads, in the same order, with the same exceptions (a reviewer's rejection stands); they are
    checked in slices and settled in one pass, so a duplicate among them is found as reprocessing finds it
    batch by batch. Nothing is written: no lead, no history, no delivery.
    """
    leads = Lead.objects.filter(source=source, status__in=statuses or ["rejected", "failed"])
    if codes:
        leads = leads.filter(disposition_code__in=[c.upper() for c in codes])
    rows = list(
        leads.order_by("submitted_at", "id").values_list(
            "pk", "lead_id", "status", "disposition_code", "values"
        )
    )
    deciding = [row for row in rows if row[3] != MANUAL]
    holding = [row[0] for row in deciding if row[2] in ORIGINAL_STATUSES]  # they do not count against a cap
    engine = batch_engine(source, compiled_source(source), exclude_ids=holding)
    items: list[Any] = []
    for part in _chunks(deciding, settings.LEADGATE_PROCESS_BATCH_SIZE):
        inputs = [
            LeadInput(lead_id, values, check_live=code == SOURCE_NOT_LIVE)
            for _, lead_id, _, code, values in part
        ]
        try:
            items.extend(engine.check(inputs).items)
        except Exception:
            log.exception(
                "checking a preview batch of %d leads failed; checking them one by one", len(inputs)
            )
            items.extend(item for lead in inputs for item in _check_one(engine, lead))
    decisions = _settle(engine, Checked(items), [row[1] for row in deciding]) if items else []
    by_status: dict[str, int] = {}
    by_code: dict[str, int] = {}
    changed = accepted = 0
    for (_, _, before_status, before_code, _), decision in zip(deciding, decisions, strict=True):
        status = decision.status.value
        if decision.status is Status.ACCEPTED:
            accepted += 1
            if source.review:
                status = Status.IN_REVIEW.value
        by_status[status] = by_status.get(status, 0) + 1
        by_code[decision.disposition_code] = by_code.get(decision.disposition_code, 0) + 1
        changed += int((status, decision.disposition_code) != (before_status, before_code))
    manual = len(rows) - len(deciding)
    if manual:
        by_status[Status.REJECTED.value] = by_status.get(Status.REJECTED.value, 0) + manual
        by_code[MANUAL] = by_code.get(MANUAL, 0) + manual
    return {
        "total": len(rows),
        "accepted": accepted,
        "changed": changed,
        "manual": manual,
        "status": by_status,
        "dispositions": dict(sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0]))),
    }
