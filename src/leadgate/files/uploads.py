"""Upload Leads (SPEC §3): a file of leads in, each row created, updated, left alone or reported.

A row with a LeadID updates that lead; a row without one creates a lead. Rejected leads are decided again
(accepted ones only when the user asks), so fixing a file — or the picklist behind it — and uploading it
turns the leads Accepted. A LeadID that is not a lead of this source, or that repeats in the file, is a row
error; the other rows still go through. A file-level problem (``FileError``) changes nothing.

The rows are processed in parts. Each part is one transaction that stores its leads, their history and the
upload's progress together, so a crash resumes after the last stored part, and the same file uploaded
twice creates nothing twice (each created lead carries the file's digest and row as its ``external_id``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import polars as pl
from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from leadgate.leads.models import Lead, LeadEvent, ReceivedVia
from leadgate.leads.services import (
    DECIDED_FIELDS,
    Actor,
    apply_decision,
    batch_engine,
    history_event,
    jsonable,
    lock_source,
)
from leadgate.leads.store import insert, insert_leads, update_leads
from leadgate.lib.ids import new_lead_id, normalize_lead_id
from leadgate.rules import geo
from leadgate.rules.catalogue import SOURCE_NOT_LIVE, Status
from leadgate.rules.columnar import decide_frame
from leadgate.rules.definitions import FieldRule, FieldType
from leadgate.rules.engine import Engine, _FieldChecks
from leadgate.rules.outcome import Decision, MemoryDedupeIndex
from leadgate.sources.compile import CompiledSource, compiled_source
from leadgate.sources.models import Source

from . import damage
from .columns import column_name, match_columns
from .errors import FileError
from .models import Upload
from .reading import _ROW, Sheet, read_sheet

log = logging.getLogger(__name__)

PART_ROWS = 20_000  # rows per transaction: short enough that intake keeps flowing between parts
LEASE = dt.timedelta(minutes=5)  # how long a process may go without finishing a part before others resume
REQUEUE_AFTER = dt.timedelta(minutes=2)  # a queued upload no process has claimed by then gets a new task
PREVIEW_ROWS = 1_000  # a dry run's per-row preview
Progress = Callable[[int, int], None]  # (rows done, rows)


# --- taking the file in ----------------------------------------------------------------------------------


def create_upload(
    source: Source,
    file: str | Path | IO[bytes],
    *,
    name: str | None = None,
    dry_run: bool = False,
    update_accepted: bool = False,
    actor: Actor | None = None,
    claim: bool = False,
) -> Upload:
    """Keep the file and record a queued upload; the rows are processed by ``process_upload``.

    ``claim``: the calling process processes it next (no worker's sweep may take it meanwhile).

    Raises ``FileError`` for a file over the size limit (counted while copying, so a huge stream stops early).
    """
    if isinstance(file, str | Path):
        name = name or Path(file).name
        with open(file, "rb") as fh:
            return create_upload(
                source,
                fh,
                name=name,
                dry_run=dry_run,
                update_accepted=update_accepted,
                actor=actor,
                claim=claim,
            )
    name = Path(name or "upload.csv").name[:200] or "upload.csv"
    limit = settings.LEADGATE_UPLOAD_MAX_BYTES
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile() as copy:
        while chunk := file.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                raise FileError(
                    "file_too_large",
                    f"The file is over the limit of {limit / 1024 / 1024:,.0f} MB (LEADGATE_UPLOAD_MAX_MB)."
                    " Split it into smaller files.",
                )
            digest.update(chunk)
            copy.write(chunk)
        if size == 0:
            raise FileError("empty_file", "The file is empty.")
        copy.seek(0)
        actor = actor or Actor("upload")
        upload = Upload(
            source=source,
            name=name,
            size=size,
            digest=digest.hexdigest(),
            user=actor.user,
            actor=actor.label,
            dry_run=dry_run,
            update_accepted=update_accepted,
            lease_until=timezone.now() + LEASE if claim else None,
        )
        upload.file.save(name, File(copy, name=name), save=False)
    upload.save()
    return upload


def upload_file(
    source: Source,
    path: str | Path,
    *,
    name: str | None = None,
    dry_run: bool = False,
    update_accepted: bool = False,
    actor: Actor | None = None,
    progress: Progress | None = None,
) -> Upload:
    """Take in the file at ``path`` and process it now (the CLI's way; the API queues a task)."""
    try:
        upload = create_upload(
            source,
            path,
            name=name,
            dry_run=dry_run,
            update_accepted=update_accepted,
            actor=actor,
            claim=True,
        )
    except FileError as error:
        # Nothing was kept; the answer is still an upload record, failed, so every caller reports alike.
        upload = Upload(source=source, name=name or Path(path).name, digest="", error=error.as_dict())
        upload.state = Upload.State.FAILED
        upload.finished_at = timezone.now()
        upload.save()
        return upload
    return process_upload(upload, progress=progress, claimed=True)


def queue_upload(upload: Upload) -> None:
    """Have a worker process the upload (once the caller's transaction commits)."""
    from .tasks import process_upload_task

    Upload.objects.filter(pk=upload.pk).update(enqueued_at=timezone.now())
    transaction.on_commit(lambda: process_upload_task.enqueue(upload.upload_id))


def resume_stalled_uploads(now: dt.datetime | None = None) -> int:
    """Queue again the uploads nobody is processing: the process died mid-way, or the task was lost."""
    now = now or timezone.now()
    stalled = Upload.objects.filter(
        models.Q(lease_until__isnull=True) | models.Q(lease_until__lt=now),
        models.Q(enqueued_at__isnull=True) | models.Q(enqueued_at__lt=now - REQUEUE_AFTER),
        state__in=[Upload.State.QUEUED, Upload.State.PROCESSING],
        created_at__lt=now - REQUEUE_AFTER,
    )
    count = 0
    for upload in stalled:
        log.warning("upload %s stalled (%s); queued again", upload.upload_id, upload.state)
        queue_upload(upload)
        count += 1
    return count


def _claim(upload: Upload) -> bool:
    """Take (or renew) the lease: true when this process may work on the upload now."""
    now = timezone.now()
    taken = (
        Upload.objects.filter(pk=upload.pk)
        .filter(models.Q(lease_until__isnull=True) | models.Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    return taken == 1


# --- processing ------------------------------------------------------------------------------------------


def process_upload(upload: Upload, *, progress: Progress | None = None, claimed: bool = False) -> Upload:
    """Process the upload's rows from where it stopped; a done or failed upload is returned as it is, and
    one that another process is working on is left to it."""
    if upload.state in (Upload.State.DONE, Upload.State.FAILED):
        return upload
    if not claimed and not _claim(upload):
        return upload
    upload.refresh_from_db()
    upload.state = Upload.State.PROCESSING
    upload.started_at = upload.started_at or timezone.now()
    upload.save(update_fields=["state", "started_at"])
    try:
        with _local_path(upload) as path:
            sheet = read_sheet(
                path,
                max_bytes=settings.LEADGATE_UPLOAD_MAX_BYTES,
                max_inflated_bytes=settings.LEADGATE_UPLOAD_MAX_INFLATED_BYTES,
            )
        _Run(upload, sheet, progress).run()
    except FileError as error:
        _finish(upload, error=error.as_dict())
    except Exception as error:
        # Parts already stored stay stored (and the upload says how far it got); the rest is untouched.
        log.exception("upload %s failed", upload.upload_id)
        _finish(upload, error={"code": "internal_error", "message": f"{type(error).__name__}: {error}"[:500]})
    upload.refresh_from_db()
    return upload


@contextlib.contextmanager
def _local_path(upload: Upload) -> Iterator[Path]:
    """A path to the upload's file: the stored one, or a temporary copy when the storage is remote."""
    try:
        yield Path(upload.file.path)
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name).suffix) as copy, upload.file.open("rb") as fh:
        shutil.copyfileobj(fh, copy)
        copy.flush()
        yield Path(copy.name)


def _finish(upload: Upload, *, error: dict[str, str] | None = None) -> None:
    upload.state = Upload.State.FAILED if error else Upload.State.DONE
    upload.error = error or {}
    upload.finished_at = timezone.now()
    upload.lease_until = None
    upload.save(update_fields=["state", "error", "finished_at", "lease_until"])


@dataclass
class _Row:
    """One data row of a part, and what became of it."""

    number: int  # as a spreadsheet shows it
    values: dict[str, str | None]  # the row's cells by field key (only the file's columns)
    lead_id: str | None = None  # the LeadID it names
    lead: Lead | None = None
    action: str = ""  # create | update | unchanged | skip | error
    error: tuple[str, str, str] | None = None  # (LeadID, code, message)
    changes: dict[str, list[Any]] = field(default_factory=dict)
    before: tuple[str, str, str] = ("", "", "")


class _Run:
    """One upload being processed: its columns, its row errors, its parts."""

    def __init__(self, upload: Upload, sheet: Sheet, progress: Progress | None) -> None:
        self.upload = upload
        self.source = upload.source
        self.sheet = sheet
        self.progress = progress
        compiled = compiled_source(self.source)
        self.fields = {f.key: f for f in compiled.rules.fields}
        self.columns = match_columns(sheet.header, list(self.fields), compiled.matcher)
        self._refuse_unusable()
        self.frame = self._cells(sheet)
        self.damage = damage.DamageReport()
        self.actor = Actor(f"upload {upload.name} ({upload.upload_id})", upload.user)
        self.dry_memory = MemoryDedupeIndex() if upload.dry_run else None

    # The file as a table of values by field key.

    def _refuse_unusable(self) -> None:
        header, columns = self.sheet.header, self.columns
        if columns.fields or columns.lead_id is not None:
            return
        shown = ", ".join(f'"{name}"' for name in header[:8] if name) or "none"
        if any("@" in name or normalize_lead_id(name) or name.strip().isdigit() for name in header):
            raise FileError(
                "no_header",
                f"The first row holds data ({shown}), not column names: add a header row"
                " (download the lead template for the names).",
            )
        keys = ", ".join(list(self.fields)[:12])
        raise FileError(
            "no_recognisable_column",
            f"No column matches a field of source {self.source.slug}: the headers are {shown};"
            f" the fields are {keys}.",
        )

    def _cells(self, sheet: Sheet) -> pl.DataFrame:
        """The data rows as field-keyed text (blank → null; a CSV's guard undone), LeadID and row number."""
        from .guard import unguard_expr

        exprs = []
        for i, key in self.columns.fields.items():
            cell = pl.col(f"c{i}")
            if sheet.format == "csv":
                cell = unguard_expr(cell)
            exprs.append(pl.when(cell == "").then(None).otherwise(cell).alias(key))
        if self.columns.lead_id is not None:
            exprs.append(pl.col(f"c{self.columns.lead_id}").str.strip_chars().alias("_lead_id"))
        else:
            exprs.append(pl.lit(None, dtype=pl.String).alias("_lead_id"))
        exprs.append(pl.col(_ROW))
        return sheet.frame.select(exprs)

    # The run.

    def run(self) -> None:
        upload = self.upload
        header = self.sheet.header
        upload.format = self.sheet.format
        upload.encoding = self.sheet.encoding
        upload.delimiter = self.sheet.delimiter
        upload.rows = self.frame.height
        upload.columns = self.columns.describe(header)
        warnings = list(self.sheet.warnings)
        if self.columns.unknown:
            names = ", ".join(f'"{column_name(header, i)}"' for i in self.columns.unknown)
            warnings.append(f"Columns that match no field of {self.source.slug} were ignored: {names}.")
        for i in self.columns.repeated:
            warnings.append(
                f'Column "{column_name(header, i)}" repeats a field another column already gives; ignored.'
            )
        if upload.rows == 0:
            warnings.append("The file has a header but no rows.")
        self.base_warnings = warnings
        upload.warnings = warnings
        upload.save()
        self.file_errors = self._lead_id_errors()
        total = self.frame.height
        if self.progress:
            self.progress(upload.rows_done, total)
        for start in range(upload.rows_done, total, PART_ROWS):
            part = self.frame.slice(start, PART_ROWS)
            rows = self._rows(part)
            if upload.dry_run:
                self._process(rows, start + part.height)
            else:
                self._store_part(rows, start + part.height)
            if self.progress:
                self.progress(start + part.height, total)
        upload.warnings = self.base_warnings + self.damage.warnings() + self._skipped_warning()
        upload.state = Upload.State.DONE
        upload.finished_at = timezone.now()
        upload.lease_until = None
        upload.save()

    def _store_part(self, rows: list[_Row], done: int) -> None:
        """One part in one transaction; retried once if a concurrent upload of the same file won a race."""
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    self._process(rows, done)
                return
            except IntegrityError:
                if attempt == 2:
                    raise
                self.upload.refresh_from_db()
                for row in rows:  # start the part afresh: the other upload's leads now exist
                    row.action, row.lead, row.changes = "", None, {}

    def _lead_id_errors(self) -> dict[int, tuple[str, str, str]]:
        """Row → (LeadID, code, message) for LeadIDs that are malformed or repeated in the file."""
        errors: dict[int, tuple[str, str, str]] = {}
        given = self.frame.select("_lead_id", _ROW).filter(
            pl.col("_lead_id").is_not_null() & (pl.col("_lead_id") != "")
        )
        seen: dict[str, list[int]] = {}
        for text, row in given.iter_rows():
            lead_id = normalize_lead_id(text)
            if lead_id is None:
                errors[row] = (
                    text,
                    "invalid_lead_id",
                    f'"{text}" is not a LeadID (they look like LD-01J…): keep the column as downloaded,'
                    " or empty the cell to create a new lead",
                )
            else:
                seen.setdefault(lead_id, []).append(row)
        for lead_id, numbers in seen.items():
            if len(numbers) > 1:
                shown = ", ".join(str(n) for n in numbers[:10])
                for row in numbers:
                    errors[row] = (
                        lead_id,
                        "repeated_lead_id",
                        f"LeadID {lead_id} is in rows {shown}: keep one row per lead",
                    )
        return errors

    def _rows(self, part: pl.DataFrame) -> list[_Row]:
        keys = list(self.columns.fields.values())
        rows = []
        for record in part.iter_rows(named=True):
            number = record[_ROW]
            text = record["_lead_id"]
            row = _Row(number, {k: record[k] for k in keys})
            if number in self.file_errors:
                row.action, row.error = "error", self.file_errors[number]
                row.lead_id = row.error[0]
            elif text:
                row.lead_id = normalize_lead_id(text)
            rows.append(row)
        return rows

    # One part: what happens to each row, then (unless a dry run) stored.

    def _process(self, rows: list[_Row], done: int) -> None:
        upload, source = self.upload, self.source
        dry = upload.dry_run
        if not dry:
            lock_source(source)
        compiled = compiled_source(source)
        now = timezone.now()
        errors: list[dict[str, Any]] = []
        self._find_leads(rows, errors)
        self._find_created(rows)
        updates = [r for r in rows if r.lead is not None and r.action == ""]
        for row in updates:
            self._merge(row, compiled)
        deciding = [r for r in rows if r.action in ("", "update")]
        engine = batch_engine(source, compiled, exclude_ids=[r.lead.pk for r in deciding if r.lead])
        if self.dry_memory is not None:
            engine.dedupe_index = _Layered(engine.dedupe_index, self.dry_memory)
        decisions = self._decide(engine, compiled, deciding)
        created: list[Lead] = []
        changed: list[Lead] = []
        events: list[dict[str, Any]] = []
        for row, decision in zip(deciding, decisions, strict=True):
            if row.lead is None:
                lead = Lead(
                    lead_id=decision.lead_id,
                    source=source,
                    values=jsonable(row.values),
                    received_via=ReceivedVia.UPLOAD,
                    upload=upload,
                    external_id=self._external_id(row),
                    submitted_at=now,
                )
                apply_decision(lead, decision, source, now)
                row.lead, row.action = lead, "create"
                created.append(lead)
                continue
            lead = row.lead
            apply_decision(lead, decision, source, now)
            after = (lead.status, lead.disposition_code, lead.custom_reason)
            if row.changes or after != row.before:
                row.action = "update"
                changed.append(lead)
            else:
                row.action = "unchanged"
        for row in rows:
            if row.error is not None:
                lead_id, code, message = row.error
                errors.append({"row": row.number, "lead_id": lead_id, "code": code, "message": message})
        if not dry:
            insert_leads(created)
            update_leads(changed, DECIDED_FIELDS)
            kind_note = f"Uploaded in {upload.name}"
            for lead in created:
                events.append(history_event(lead, LeadEvent.Kind.RECEIVED, self.actor, now, ("", "")))
            by_lead = {id(r.lead): r for r in rows if r.lead is not None}
            for lead in changed:
                row = by_lead[id(lead)]
                kind = LeadEvent.Kind.EDITED if row.changes else LeadEvent.Kind.REPROCESSED
                events.append(
                    history_event(
                        lead, kind, self.actor, now, row.before[:2], changes=row.changes, note=kind_note
                    )
                )
            insert(LeadEvent, events)
            from leadgate.delivery.callbacks import queue_status_callbacks

            moved = [
                lead
                for lead in changed
                if (lead.status, lead.disposition_code) != by_lead[id(lead)].before[:2]
            ]
            queue_status_callbacks(source, [*created, *moved], now)
        self._count(rows, errors, done)

    def _find_leads(self, rows: list[_Row], errors: list[dict[str, Any]]) -> None:
        """The stored lead each LeadID names; unknown or foreign ones become row errors."""
        wanted = [r.lead_id for r in rows if r.lead_id and r.action == ""]
        found: dict[str, Lead] = {}
        for start in range(0, len(wanted), 500):
            for lead in Lead.objects.filter(lead_id__in=wanted[start : start + 500]).select_related("source"):
                found[lead.lead_id] = lead
        for row in rows:
            if row.action or not row.lead_id:
                continue
            lead = found.get(row.lead_id)
            if lead is None:
                row.action, row.error = (
                    "error",
                    (
                        row.lead_id,
                        "unknown_lead_id",
                        f"LeadID {row.lead_id} is not a lead of any source:"
                        " empty the cell to create a new lead",
                    ),
                )
            elif lead.source_id != self.source.pk:
                row.action, row.error = (
                    "error",
                    (
                        row.lead_id,
                        "foreign_lead_id",
                        f"LeadID {row.lead_id} belongs to source {lead.source.slug}, not {self.source.slug}",
                    ),
                )
            else:
                lead.source = self.source
                row.lead = lead
                row.before = (lead.status, lead.disposition_code, lead.custom_reason)
                if lead.status in (Status.ACCEPTED, Status.IN_REVIEW) and not self.upload.update_accepted:
                    row.action = "skip"

    def _external_id(self, row: _Row) -> str:
        # The file and the row: the same file uploaded again finds these leads instead of creating them.
        return f"upload:{self.upload.digest[:24]}:{row.number}"

    def _find_created(self, rows: list[_Row]) -> None:
        """Rows of this file that an earlier upload of the same file created already: nothing to do."""
        new = {self._external_id(r): r for r in rows if r.action == "" and not r.lead_id}
        if not new:
            return
        ids = list(new)
        for start in range(0, len(ids), 500):
            existing = Lead.objects.filter(source=self.source, external_id__in=ids[start : start + 500])
            for lead in existing:
                row = new[lead.external_id]
                row.action, row.lead_id, row.lead = "unchanged", lead.lead_id, lead
                self.already_created = getattr(self, "already_created", 0) + 1

    def _merge(self, row: _Row, compiled: CompiledSource) -> None:
        """The lead's values with the row's cells; a cell that is a spreadsheet's damaged copy of the stored
        value, or says the same thing in another form, leaves the stored value."""
        lead = row.lead
        assert lead is not None
        values = dict(lead.values)
        for key, cell in row.values.items():
            stored = values.get(key)
            if (cell or None) == (stored or None):
                continue
            rule = self.fields[key]
            if cell and stored:
                kind = damage.damage(rule.type, stored, cell)
                if kind is not None:
                    self.damage.kept(kind, rule.label, row.number)
                    continue
                if self._same_meaning(compiled, rule, stored, cell, lead):
                    continue
            values[key] = cell
            row.changes[key] = [stored, cell]
        if row.changes:
            lead.values = values

    def _same_meaning(
        self, compiled: CompiledSource, rule: FieldRule, stored: str, cell: str, lead: Lead
    ) -> bool:
        """Both values pass the field's check and clean to the same value (``TRUE`` and ``true``)."""
        check = self._check(compiled, rule)
        region = _region(lead, self.fields)
        try:
            before, after = check(stored, region), check(cell, region)
        except Exception:
            return False
        return before[1] is None and after[1] is None and before[0] == after[0]

    def _check(self, compiled: CompiledSource, rule: FieldRule) -> Callable[[str, str | None], Any]:
        checks = self.__dict__.setdefault("_checks", {})
        if rule.key not in checks:
            checks[rule.key] = _FieldChecks(compiled.engine, rule).build()[0]
        return checks[rule.key]  # type: ignore[no-any-return]

    def _decide(self, engine: Engine, compiled: CompiledSource, rows: list[_Row]) -> list[Decision]:
        if not rows:
            return []
        keys = list(self.fields)
        records = [
            {k: (r.lead.values.get(k) if r.lead is not None else r.values.get(k)) for k in keys} for r in rows
        ]
        frame = pl.DataFrame(records, schema=dict.fromkeys(keys, pl.String), orient="row")
        lead_ids = [r.lead.lead_id if r.lead is not None else new_lead_id() for r in rows]
        # A stored lead is checked for "source not live" again only if that is what rejected it.
        live = pl.Series(
            [r.lead is None or r.lead.disposition_code == SOURCE_NOT_LIVE for r in rows], dtype=pl.Boolean
        )
        decisions = decide_frame(engine, frame, lead_ids, check_live=live).decisions()
        self._flag_new_values(rows)
        return decisions

    def _flag_new_values(self, rows: list[_Row]) -> None:
        """New values that look damaged: postal codes short of their leading zeros, letters turned to "?"."""
        postal = [f for f in self.fields.values() if damage.is_postal_field(f.key, f.label, f.aliases)]
        texts = [f for f in self.fields.values() if f.type in (FieldType.TEXT, FieldType.STATE)]
        country = next((f.key for f in self.fields.values() if f.type is FieldType.COUNTRY), None)
        for row in rows:
            if row.lead is not None and not row.changes:
                continue  # a stored lead's values as they were: nothing new to flag
            values = row.lead.values if row.lead is not None else row.values
            for f in texts:
                value = values.get(f.key)
                if value and "?" in value and damage.looks_replaced(value):
                    self.damage.suspicious("replaced", f.label, row.number, value)
            if postal and country and (where := values.get(country)):
                found = geo.resolve_country(where)
                if found is not None:
                    for f in postal:
                        value = values.get(f.key)
                        if value and damage.lost_postal_zeros(value, found.alpha2):
                            self.damage.suspicious("postal", f.label, row.number, value)

    def _count(self, rows: list[_Row], errors: list[dict[str, Any]], done: int) -> None:
        upload = self.upload
        for row in rows:
            action = row.action
            if action == "create":
                upload.created += 1
            elif action == "update":
                upload.updated += 1
            elif action == "unchanged":
                upload.unchanged += 1
            elif action == "skip":
                upload.skipped += 1
                if row.values and any(
                    (row.values.get(k) or None) != (row.lead.values.get(k) or None)  # type: ignore[union-attr]
                    for k in row.values
                ):
                    self.skipped_with_edits = getattr(self, "skipped_with_edits", 0) + 1
            if row.lead is not None:
                if row.lead.status == Status.ACCEPTED:
                    upload.accepted += 1
                elif row.lead.status == Status.REJECTED:
                    upload.rejected += 1
            if upload.dry_run and len(upload.preview) < PREVIEW_ROWS:
                upload.preview.append(_preview(row))
        upload.errors += len(errors)
        upload.row_errors = [*upload.row_errors, *errors]
        upload.rows_done = done
        upload.lease_until = timezone.now() + LEASE
        upload.save()

    def _skipped_warning(self) -> list[str]:
        out = []
        edited = getattr(self, "skipped_with_edits", 0)
        if edited:
            out.append(
                f"{edited:,} accepted lead(s) have other values in the file and were left alone; upload with"
                ' "update accepted leads" (--update-accepted) to decide them again and post the changes.'
            )
        again = getattr(self, "already_created", 0)
        if again:
            out.append(
                f"{again:,} row(s) were created by an earlier upload of the same file; not created again."
            )
        return out


def _preview(row: _Row) -> dict[str, Any]:
    lead = row.lead
    return {
        "row": row.number,
        "lead_id": lead.lead_id if lead is not None else row.lead_id,
        "action": row.action,
        "status": lead.status if lead is not None else "",
        "disposition_code": lead.disposition_code if lead is not None else "",
        "custom_reason": lead.custom_reason if lead is not None else "",
        "changes": row.changes,
    }


def _region(lead: Lead, fields: Mapping[str, FieldRule]) -> str | None:
    country = next((k for k, f in fields.items() if f.type is FieldType.COUNTRY), None)
    value = lead.values.get(country) if country else None
    found = geo.resolve_country(value) if value else None
    return found.alpha2 if found is not None else None


class _Layered:
    """A dry run's dedupe index: the stored leads, plus the rows the dry run would have accepted so far."""

    def __init__(self, stored: Any, memory: MemoryDedupeIndex) -> None:
        self.stored, self.memory = stored, memory

    def find(self, keys: Iterable[str]) -> Mapping[str, str]:
        keys = list(keys)
        found = dict(self.stored.find(keys)) if self.stored is not None else {}
        found.update({k: v for k, v in self.memory.find(keys).items() if k not in found})
        return found

    def add(self, key: str, lead_id: str) -> None:
        self.memory.add(key, lead_id)


def row_error_report_format(upload: Upload) -> str:
    """The report's format: the upload's own (a CSV keeps its delimiter if Excel knows it), else XLSX."""
    if upload.format == "csv":
        return "csv-semicolon" if upload.delimiter == ";" else "csv"
    return "xlsx"


def write_row_error_report(upload: Upload, out: IO[bytes]) -> int:
    """The rows that had errors, as they were in the file, plus "Error Code" and "Error" columns.

    Written in the upload's format (a CSV as UTF-8 with a BOM, whatever its encoding was), so the user can
    fix the rows and upload the report itself. Returns how many rows it holds.
    """
    from .writing import open_writer

    errors = {e["row"]: e for e in upload.row_errors}
    with _local_path(upload) as path:
        sheet = read_sheet(
            path,
            max_bytes=settings.LEADGATE_UPLOAD_MAX_BYTES,
            max_inflated_bytes=settings.LEADGATE_UPLOAD_MAX_INFLATED_BYTES,
        )
    rows = sheet.frame.filter(pl.col(_ROW).is_in(list(errors)))
    if sheet.format == "csv":  # the writer guards each cell again, so the report shows them as the file did
        from .guard import unguard_expr

        rows = rows.with_columns(unguard_expr(pl.col(c)) for c in sheet.columns)
    numbers = rows[_ROW].to_list()
    rows = rows.drop(_ROW).with_columns(
        pl.Series("_code", [errors[n]["code"] for n in numbers], dtype=pl.String),
        pl.Series("_error", [errors[n]["message"] for n in numbers], dtype=pl.String),
    )
    header = [name or f"Column {i + 1}" for i, name in enumerate(sheet.header)]
    writer = open_writer(row_error_report_format(upload), out, [*header, "Error Code", "Error"])
    writer.write(rows)
    writer.close()
    return rows.height


def upload_result(upload: Upload) -> dict[str, Any]:
    """The upload as SPEC §6 ``leadgate upload --json`` prints it (a file-level problem: ``{"error"}``)."""
    if upload.error:
        return {"upload": upload.upload_id, "error": upload.error}
    return {
        "upload": upload.upload_id,
        "state": upload.state,
        "dry_run": upload.dry_run,
        "format": upload.format,
        "encoding": upload.encoding,
        "delimiter": upload.delimiter,
        "rows": upload.rows,
        "created": upload.created,
        "updated": upload.updated,
        "unchanged": upload.unchanged,
        "skipped": upload.skipped,
        "errors": upload.errors,
        "accepted": upload.accepted,
        "rejected": upload.rejected,
        "row_errors": upload.row_errors,
        "warnings": upload.warnings,
    }
