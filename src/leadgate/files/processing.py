"""Processing an upload's rows: what happens to each row, decided and stored part by part.

``UploadRun`` takes a file's table (``reading.Sheet``) and its columns (``columns.match_columns``) through the
source's rules. New rows stay in a polars frame from the file to the database: a million uploaded leads are
never a million objects (``NewLeads``). Rows naming a LeadID read their stored lead as a light row
(``StoredLead``), merge the cells into it (a spreadsheet's damaged copy of a value is not an edit:
``damage``) and are decided again with the new rows, in file order. Each part is one transaction with the
upload's progress.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from leadgate.leads.models import Lead, LeadEvent, ReceivedVia
from leadgate.leads.services import (
    HELD_REASON,
    Actor,
    allocation_used,
    batch_engine,
    lock_source,
    stored_decision,
)
from leadgate.leads.store import in_list_size, insert_columns, update_columns
from leadgate.lib import jsontext
from leadgate.lib.ids import new_lead_ids, normalize_lead_id
from leadgate.rules import catalogue, geo
from leadgate.rules.catalogue import SOURCE_NOT_LIVE, Status
from leadgate.rules.columnar import FrameDecisions, decide_frame
from leadgate.rules.definitions import FieldRule, FieldType
from leadgate.rules.engine import Engine, _FieldChecks
from leadgate.rules.outcome import Decision, MemoryDedupeIndex
from leadgate.sources.compile import CompiledSource, compiled_source
from leadgate.sources.models import Source

from . import damage
from .bulk import Job, PartWriter, Stale, no_wait_for_disk, sqlite_for_bulk
from .columns import column_name, match_columns
from .errors import FileError
from .guard import guard
from .models import Upload
from .reading import _ROW, Sheet

# Rows per transaction: one holds the source's lock for a second or two, so intake keeps flowing between
# parts; fewer, bigger parts write the pages of the random dedupe-key indexes fewer times (a million rows:
# 40 s in parts of 40,000, 44 s in parts of 20,000).
PART_ROWS = 40_000
LEASE = dt.timedelta(minutes=5)  # how long a process may go without finishing a part before others resume
PREVIEW_ROWS = 1_000  # a dry run's per-row preview
_SQLITE_UPDATED_AT = "CAST(updated_at AS TEXT)"  # compared as stored, never parsed (``StoredLead.fetch``)
Progress = Callable[[int, int], None]  # (rows done, rows)


@dataclass(slots=True)
class Row:
    """One data row of a part naming a LeadID (or in error), and what became of it."""

    number: int  # as a spreadsheet shows it
    cells: pl.DataFrame  # the part's rows of this kind, a column per field key the file gives
    index: int  # this row's place in ``cells``
    lead_id: str | None = None  # the LeadID it names
    lead: StoredLead | None = None
    action: str = ""  # create | update | unchanged | skip | error
    error: tuple[str, str, str] | None = None  # (LeadID, code, message)
    changes: dict[str, list[Any]] = field(default_factory=dict)
    before: tuple[str, str, str] = ("", "", "")

    @property
    def values(self) -> dict[str, str | None]:
        """The row's cells by field key (only the file's columns): read when the row differs from its
        lead, which in a re-uploaded download few rows do."""
        return dict(zip(self.cells.columns, self.cells.row(self.index), strict=True))


class UploadRun:
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
        self.actor = Actor(upload.actor_label, upload.user)
        self.dry_memory = MemoryDedupeIndex() if upload.dry_run else None
        # Whether status changes set anything in motion (a callback URL, destinations to post to).
        self.announces = bool(self.source.callback_url) or bool(compiled.destinations)
        self.checks: dict[str, Callable[[str, str | None], Any]] = {}
        self.alpha2: dict[str, str | None] = {}
        self.already_created = 0
        self.skipped_with_edits = 0
        self.already_created_by = ""
        self.analyzed_at = 0  # leads this upload had created when the statistics were last refreshed
        self.lead_ids: dict[int, str | None] = {}  # row → its LeadID, normalised (None: not one)
        # Rows naming a LeadID, and rows in error, are handled one by one; new rows stay in the frame.
        self.one_by_one = _HAS_LEAD_ID | pl.col(_ROW).is_in(list(sheet.ragged))
        # The accepted dedupe keys of parts decided but maybe not stored yet, oldest first (``_decided``).
        self.pending: deque[MemoryDedupeIndex] = deque()
        # The allocation count after the last part decided, counting leads maybe not stored yet.
        self.allocated: int | None = None

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
        return sheet.frame.select(exprs).with_row_index("_i")  # the row's place among the data rows

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
        if upload.dry_run:
            for start in range(upload.rows_done, total, PART_ROWS):
                part = self.frame.slice(start, PART_ROWS)
                self._decided(part, start + part.height, checked=False)()  # counts it
                self._progress(start + part.height)
        else:
            self._store_parts()
        upload.warnings = self.base_warnings + self.damage.warnings() + self._skipped_warning()
        upload.state = Upload.State.DONE
        upload.finished_at = timezone.now()
        upload.lease_until = None
        upload.save()

    def _progress(self, done: int) -> None:
        if self.progress:
            self.progress(done, self.frame.height)

    def _store_parts(self) -> None:
        """Each part decided and stored, in order, from where the upload stopped.

        Each part is decided while the part before it is being stored (``PartWriter``), except a part
        naming LeadIDs in a source with an allocation cap (the cap counts the stored leads it re-decides):
        that one is decided and stored at once, under the source's lock, after the parts before it are
        stored. Should a part stored by the writer find its decision stale, the rest go one at a time.
        """
        total = self.frame.height
        start = self.upload.rows_done
        overlap = self._can_overlap()
        with sqlite_for_bulk() as after_commit:
            while start < total:
                with PartWriter() if overlap else contextlib.nullcontext() as writer:
                    while start < total and not (writer and writer.stale):
                        part = self.frame.slice(start, PART_ROWS)
                        done = start + part.height
                        if writer and (
                            compiled_source(self.source).rules.allocation is None
                            or part.filter(self.one_by_one).height == 0
                        ):
                            writer.put(self._decided(part, done, checked=True))
                        else:
                            if writer:
                                writer.drain()
                                if writer.stale:
                                    break
                            self.allocated = None  # counted afresh, under the lock
                            with transaction.atomic():
                                no_wait_for_disk()
                                lock_source(self.source)
                                self._decided(part, done, checked=False)()
                            after_commit()
                            self._stored(done)
                        start = done
                if writer and writer.stale:
                    # Stored parts set rows_done; the stale part and those after it are decided again.
                    start, overlap = self.upload.rows_done, False
                    self.pending.clear()
                    self.allocated = None

    def _can_overlap(self) -> bool:
        """Whether parts may be decided while others are stored: not inside a caller's transaction (which
        must hold every lead), nor on an in-memory database (one connection)."""
        return not transaction.get_connection().in_atomic_block and not (
            connection.vendor == "sqlite" and connection.is_in_memory_db()
        )

    def _stored(self, done: int) -> None:
        self._refresh_statistics()
        self._progress(done)

    def _refresh_statistics(self) -> None:
        """Tell the database's planner how the leads table grew, as it grows.

        Dedupe looks keys up by index; a planner that still thinks the source has a few hundred leads
        walks all of them instead (PostgreSQL, before autovacuum catches up). Asked at doubling sizes, so a
        million rows cost a handful of ANALYZEs.
        """
        created = self.upload.created
        if created - self.analyzed_at < max(50_000, self.analyzed_at):
            return
        quote = connection.ops.quote_name
        # Only the columns dedupe looks up by: the JSON columns' statistics cost most, and help nothing here.
        columns = ", ".join(quote(Lead._meta.get_field(n).column) for n in _DEDUPE_COLUMNS)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {quote(Lead._meta.db_table)} ({columns})")
            else:
                cursor.execute("PRAGMA optimize")
        self.analyzed_at = created

    def _lead_id_errors(self) -> dict[int, tuple[str, str, str]]:
        """Row → (LeadID, code, message) for LeadIDs that are malformed or repeated in the file."""
        errors: dict[int, tuple[str, str, str]] = {}
        given = self.frame.select("_lead_id", _ROW).filter(_HAS_LEAD_ID)
        seen: dict[str, list[int]] = {}
        for text, row in given.iter_rows():
            lead_id = self.lead_ids[row] = normalize_lead_id(text)
            if lead_id is None:
                errors[row] = (
                    text,
                    "invalid_lead_id",
                    f'"{text}" is not a LeadID (they look like LD-01J…): keep the column as downloaded,'
                    " or empty the cell to create a new lead",
                )
            else:
                seen.setdefault(lead_id, []).append(row)
        for row in self.sheet.ragged:
            errors[row] = (
                self.lead_ids.get(row) or "",
                "extra_cells",
                "the row has more cells than the header (a value holding the delimiter"
                f" {_DELIMITER_NAMES.get(self.sheet.delimiter, self.sheet.delimiter)!r}, not in quotes?),"
                " so its values cannot be matched to their columns: nothing in it was used",
            )
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

    def _rows(self, keyed: pl.DataFrame) -> list[Row]:
        """The rows that name a LeadID, one object each (new rows stay in the frame: there are millions)."""
        cells = keyed.select(self.columns.fields.values())
        rows = []
        errors, lead_ids = self.file_errors, self.lead_ids
        for i, number in enumerate(keyed[_ROW].to_list()):
            row = Row(number, cells, i, lead_ids.get(number))
            if number in errors:
                row.action, row.error = "error", errors[number]
                row.lead_id = row.error[0]
            rows.append(row)
        return rows

    # One part: what happens to each row, then (unless a dry run) stored.

    def _decided(self, part: pl.DataFrame, done: int, *, checked: bool) -> Job:
        """What happens to each row of a part, and the job that stores it (or, in a dry run, counts it).

        ``checked``: decided without the source's lock while earlier parts may still be being stored, so
        the job stores the part under the lock only if the decision still holds then: the same rules, the
        same earlier uploads of the file, the same answers from the stored leads to every dedupe key asked
        (``CheckedDedupeIndex``), the same allocation count, and every stored lead the part read unchanged
        since. Otherwise (``checked`` false) the caller holds the lock, or this is a dry run.
        """
        source = self.source
        compiled = compiled_source(source)
        now = timezone.now()
        reach = self._earlier_reach()
        keyed = part.filter(self.one_by_one)
        rows = self._rows(keyed)
        fresh = part.filter(~self.one_by_one)
        new_rows = fresh.height
        fresh = _not_created_before(fresh, reach)
        skipped = new_rows - fresh.height
        read = self._find_leads(rows)
        stored = _decoded_values(read, list(self.fields))
        same = self._same_as_stored(keyed, rows, stored)
        for row in rows:
            if row.lead is not None and row.action in ("", "skip") and row.lead.pk not in same:
                self._merge(row, compiled)
        deciding = [r for r in rows if r.action == ""]
        exclude = [r.lead.pk for r in deciding if r.lead]
        engine = batch_engine(source, compiled, exclude, allocated=self.allocated if checked else None)
        allocated_before = engine.allocation_used
        index = None
        if self.dry_memory is not None:
            engine.dedupe_index = LayeredDedupeIndex(engine.dedupe_index, self.dry_memory)
        elif checked and engine.dedupe_index is not None:
            index = engine.dedupe_index = CheckedDedupeIndex(engine.dedupe_index, self.pending)
        frame, decided = self._decide(engine, fresh, deciding, stored)
        capped = compiled.rules.allocation is not None
        if checked:
            self.allocated = engine.allocation_used if capped else None
        accepted = decided.clean_columns() if decided is not None else None
        changed = self._apply_to_stored(deciding, decided, accepted, frame, now)
        new = NewLeads(self, frame, decided, accepted, now)
        self._flag_new_values(frame.filter(pl.col("_k") < 0), deciding)
        if index is not None:
            self.pending.append(index.mine)

        def write() -> None:
            self._skipped_as_created(skipped, reach[1])
            if not self.upload.dry_run:
                new.store()
                self._store_changed(changed, now)
                if self.announces:
                    from leadgate.delivery.outbox import leads_changed

                    leads_changed(source, new.light_leads(), now, new=True)
            self._count(rows, new, done)

        def store() -> None:
            if not checked:
                write()
                return
            with transaction.atomic():
                no_wait_for_disk()
                lock_source(source)
                if (
                    compiled_source(source) is not compiled
                    or self._earlier_reach()[0] != reach[0]
                    or (index is not None and not index.still_holds())
                    or (capped and allocation_used(source) != allocated_before)
                    or not StoredLead.still_as_read(read)
                ):
                    raise Stale
                write()
            if index is not None:
                self.pending.popleft()  # its leads are stored: the stored leads answer for them now
            self._stored(done)

        return store

    def _find_leads(self, rows: list[Row]) -> list[StoredLead]:
        """The stored lead each LeadID names; unknown or foreign ones become row errors. Returns the leads
        of this source that were read."""
        wanted = [r.lead_id for r in rows if r.lead_id and r.action == ""]
        found: dict[str, StoredLead] = {}
        size = max(len(wanted), 1) if connection.vendor == "postgresql" else in_list_size()  # or chunks
        for start in range(0, len(wanted), size):
            for lead in StoredLead.fetch(wanted[start : start + size]):
                found[lead.lead_id] = lead
        read = []
        for row in rows:
            if row.action or not row.lead_id:
                continue
            lead = found.get(row.lead_id)
            if lead is None:
                row.action = "error"
                row.error = (
                    row.lead_id,
                    "unknown_lead_id",
                    f"LeadID {row.lead_id} is not a lead of any source: empty the cell to create a new lead",
                )
            elif lead.source_id != self.source.pk:
                slug = Source.objects.filter(pk=lead.source_id).values_list("slug", flat=True).first()
                row.action = "error"
                row.error = (
                    row.lead_id,
                    "foreign_lead_id",
                    f"LeadID {row.lead_id} belongs to source {slug}, not {self.source.slug}",
                )
            else:
                row.lead = lead
                read.append(lead)
                row.before = (lead.status, lead.disposition_code, lead.custom_reason)
                if lead.status in (Status.ACCEPTED, Status.IN_REVIEW) and not self.upload.update_accepted:
                    row.action = "skip"
        return read

    def _earlier_reach(self) -> tuple[int, str]:
        """How far earlier uploads of the same file have created its rows (or will: one still running
        creates them all), and the furthest one's id.

        The same file has the same rows in the same order, so an earlier upload of it has created its rows
        up to its ``rows_done``. Asked part by part under the source's lock, so two uploads of one file at
        once create each row once.
        """
        earlier = Upload.objects.filter(
            source=self.source, digest=self.upload.digest, dry_run=False, pk__lt=self.upload.pk
        ).values_list("upload_id", "state", "rows_done")
        bound, by = 0, ""
        for upload_id, state, rows_done in earlier:
            running = state in (Upload.State.QUEUED, Upload.State.PROCESSING)
            reach = self.frame.height if running else rows_done
            if reach > bound:
                bound, by = reach, upload_id
        return bound, by

    def _skipped_as_created(self, skipped: int, by: str) -> None:
        if skipped:
            self.already_created += skipped
            self.already_created_by = by
            self.upload.unchanged += skipped

    def _merge(self, row: Row, compiled: CompiledSource) -> None:
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
                if cell == guard(stored):  # a CSV's guarded cell that a spreadsheet kept as text
                    continue
                kind = damage.damage(rule.type, stored, cell)
                if kind is not None:
                    self.damage.kept(kind, rule.label, row.number)
                    continue
                if self._same_meaning(compiled, rule, stored, cell, lead):
                    continue
            values[key] = cell
            row.changes[key] = [stored, cell]
        if row.changes and row.action == "":
            lead.values = values

    def _same_meaning(
        self, compiled: CompiledSource, rule: FieldRule, stored: str, cell: str, lead: StoredLead
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
        if rule.key not in self.checks:
            self.checks[rule.key] = _FieldChecks(compiled.engine, rule).build()[0]
        return self.checks[rule.key]

    def _same_as_stored(self, keyed: pl.DataFrame, rows: list[Row], stored: StoredValues | None) -> set[int]:
        """The leads (by pk) whose row says in every cell what the lead holds already, so that ``_merge``
        would change nothing: compared column by column in polars, as a re-upload of a downloaded file
        mostly is."""
        if stored is None:
            return set()
        keys = list(self.columns.fields.values())
        at = [i for i, r in enumerate(rows) if r.lead is not None]  # in the order the leads were read
        pks = [rows[i].lead.pk for i in at]  # type: ignore[union-attr]
        if not keys:  # a file of LeadIDs alone changes no value
            return set(pks)
        cells, values = keyed[at], stored.frame[[stored.position[pk] for pk in pks]]
        same = pl.select(pl.all_horizontal([cells[k].fill_null("") == values[k].fill_null("") for k in keys]))
        return {pk for pk, equal in zip(pks, same.to_series().to_list(), strict=True) if equal}

    def _decide(
        self, engine: Engine, fresh: pl.DataFrame, deciding: list[Row], stored: StoredValues | None
    ) -> tuple[pl.DataFrame, FrameDecisions | None]:
        """New rows and stored leads decided together, in file order (so dedupe keeps the first).

        The frame has every field (null where the file has no column), ``_row``, ``_k`` (the index in
        ``deciding`` of a stored lead, -1 for a new row) and ``_id`` (the LeadID, new or stored). A stored
        lead the file left as it was takes its values from ``stored`` (decoded in polars); an edited one
        from its merged values.
        """
        keys = list(self.fields)
        schema = {**dict.fromkeys(keys, pl.String), _ROW: fresh.schema[_ROW], "_k": pl.Int64}
        new = fresh.select(
            *[pl.col(k) if k in fresh.columns else pl.lit(None, dtype=pl.String).alias(k) for k in keys],
            pl.col(_ROW),
            pl.lit(-1, dtype=pl.Int64).alias("_k"),
        )
        as_read = [k for k, r in enumerate(deciding) if stored is not None and not r.changes]
        edited = [k for k, r in enumerate(deciding) if stored is None or r.changes]
        parts = [new]
        if as_read:
            assert stored is not None
            parts.append(
                stored.frame[[stored.position[deciding[k].lead.pk] for k in as_read]].select(  # type: ignore[union-attr]
                    *keys,
                    pl.Series(_ROW, [deciding[k].number for k in as_read], dtype=schema[_ROW]),
                    pl.Series("_k", as_read, dtype=pl.Int64),
                )
            )
        parts.append(
            pl.DataFrame(
                [[deciding[k].lead.values.get(f) for f in keys] + [deciding[k].number, k] for k in edited],  # type: ignore[union-attr]
                schema=schema,
                orient="row",
            )
        )
        frame = pl.concat(parts).sort(_ROW)
        if frame.height == 0:
            return frame.with_columns(pl.lit("", dtype=pl.String).alias("_id")), None
        slots = frame["_k"].to_list()
        fresh_ids = iter(new_lead_ids(fresh.height))
        lead_ids = [next(fresh_ids) if k < 0 else deciding[k].lead.lead_id for k in slots]  # type: ignore[union-attr]
        # A stored lead is checked for "source not live" again only if that is what rejected it.
        live = pl.Series(
            [k < 0 or deciding[k].lead.disposition_code == SOURCE_NOT_LIVE for k in slots],  # type: ignore[union-attr]
            dtype=pl.Boolean,
        )
        decided = decide_frame(engine, frame.select(keys), lead_ids, check_live=live)
        return frame.with_columns(pl.Series("_id", lead_ids, dtype=pl.String)), decided

    def _apply_to_stored(
        self,
        deciding: list[Row],
        decided: FrameDecisions | None,
        accepted: tuple[pl.Series, pl.Series, pl.Series] | None,
        frame: pl.DataFrame,
        now: dt.datetime,
    ) -> list[Row]:
        """Each stored lead's new decision; the rows whose lead's values or outcome changed."""
        if decided is None or accepted is None or not deciding:
            return []
        held = self.source.review
        stored = frame.with_row_index("_p").filter(pl.col("_k") >= 0)
        at = stored["_p"]
        # Each column read once as a list: a polars Series read element by element costs more than the rest.
        columns = zip(
            stored["_k"].to_list(),
            at.to_list(),
            decided.codes.gather(at).to_list(),
            *(s.gather(at).to_list() for s in accepted),
            strict=True,
        )
        changed = []
        for k, position, code, clean, email_key, phone_key in columns:
            row = deciding[k]
            lead = row.lead
            assert lead is not None
            if code == catalogue.ACCEPT_LEAD:  # the common case, from the frame's columns
                lead.status = Status.IN_REVIEW.value if held else Status.ACCEPTED.value
                lead.custom_reason = HELD_REASON if held else ""
                lead.problems = "[]"
                lead.clean = clean
                lead.email_key, lead.phone_key = email_key, phone_key
            else:
                decision = _decision_columns(decided.decision(position))
                lead.status, lead.custom_reason, lead.problems, lead.clean, lead.email_key, lead.phone_key = (
                    decision
                )
            lead.disposition_code = code
            if lead.status == Status.ACCEPTED and lead.first_accepted_at is None:
                lead.first_accepted_at = now
            if row.changes or (lead.status, lead.disposition_code, lead.custom_reason) != row.before:
                row.action = "update"
                changed.append(row)
            else:
                row.action = "unchanged"
        return changed

    def _store_changed(self, changed: list[Row], now: dt.datetime) -> None:
        """The changed leads written back, with an event each in their history."""
        if not changed:
            return
        leads = [r.lead for r in changed]
        # Each column is written only to the leads it changed, in up to four groups: a lead whose values the
        # file left as they were is written without them (the most common case, a fixed picklist; PostgreSQL
        # would parse the unchanged JSON again), and a lead whose dedupe keys stayed the same without those:
        # SQLite rewrites an index whenever a column of it is set, even to the value it had (20,000 leads:
        # 743 ms with the keys, 399 ms without).
        groups: dict[tuple[bool, bool], list[Any]] = {}
        for r in changed:
            lead = r.lead
            assert lead is not None
            rekeyed = (lead.email_key, lead.phone_key) != lead.keys_read
            groups.setdefault((bool(r.changes), rekeyed), []).append(lead)
        for (edited, rekeyed), group in groups.items():
            columns = _decided_columns(group, now, keys=rekeyed)
            if edited:
                columns["values"] = [jsontext.dumps(lead.values) for lead in group]
            update_columns(Lead, [lead.pk for lead in group], columns)
        actor = self.actor
        insert_columns(
            LeadEvent,
            {
                "lead_id": [lead.pk for lead in leads],  # type: ignore[union-attr]
                "at": now,
                "kind": [
                    (LeadEvent.Kind.EDITED if r.changes else LeadEvent.Kind.REPROCESSED).value
                    for r in changed
                ],
                "user_id": actor.user.pk if actor.user else None,
                "actor": actor.label,
                "status_before": [r.before[0] for r in changed],
                "code_before": [r.before[1] for r in changed],
                "status_after": [lead.status for lead in leads],  # type: ignore[union-attr]
                "code_after": [lead.disposition_code for lead in leads],  # type: ignore[union-attr]
                "changes": [jsontext.dumps(r.changes) for r in changed],
                "note": f"Uploaded in {self.upload.name}",
            },
            len(changed),
        )
        if self.announces:
            from leadgate.delivery.outbox import leads_changed, leads_updated

            moved = [
                r.lead.as_lead() for r in changed if (r.lead.status, r.lead.disposition_code) != r.before[:2]
            ]  # type: ignore[union-attr]
            leads_changed(self.source, moved, now)
            edited = [
                r.lead.as_lead()  # type: ignore[union-attr]
                for r in changed
                if r.changes and (r.lead.status, r.lead.disposition_code) == r.before[:2]  # type: ignore[union-attr]
            ]
            leads_updated(self.source, edited, now)

    def _flag_new_values(self, new: pl.DataFrame, deciding: list[Row]) -> None:
        """New values that look damaged: postal codes short of their leading zeros, letters turned to "?"."""
        edited = [r for r in deciding if r.changes]
        values = pl.concat(
            [
                new.select([*self.fields, _ROW]),
                pl.DataFrame(
                    [[r.lead.values.get(k) for k in self.fields] + [r.number] for r in edited],  # type: ignore[union-attr]
                    schema=new.select([*self.fields, _ROW]).schema,
                    orient="row",
                ),
            ]
        )
        if values.height == 0:
            return
        for f in self.fields.values():
            if f.type in (FieldType.TEXT, FieldType.STATE):
                found = values.filter(pl.col(f.key).str.contains(damage.WORD_QUESTION)).select(_ROW, f.key)
                for number, value in found.iter_rows():
                    self.damage.suspicious("replaced", f.label, number, value)
        country = next((f.key for f in self.fields.values() if f.type is FieldType.COUNTRY), None)
        postal = [f for f in self.fields.values() if damage.is_postal_field(f.key, f.label, f.aliases)]
        for f in postal if country else []:
            digits = values.filter(pl.col(f.key).str.contains(r"^\s*\d+\s*$")).select(_ROW, f.key, country)
            for number, value, where in digits.iter_rows():
                if not where:
                    continue
                if where not in self.alpha2:
                    self.alpha2[where] = _alpha2(where)
                alpha2 = self.alpha2[where]
                if alpha2 and damage.lost_postal_zeros(value, alpha2):
                    self.damage.suspicious("postal", f.label, number, value)

    def _tally(self, status: str) -> None:
        if status == Status.ACCEPTED:
            self.upload.accepted += 1
        elif status == Status.REJECTED:
            self.upload.rejected += 1

    def _count(self, rows: list[Row], new: NewLeads, done: int) -> None:
        upload = self.upload
        errors = []
        for row in rows:
            action = row.action
            if action == "update":
                upload.updated += 1
            elif action == "unchanged":
                upload.unchanged += 1
            elif action == "skip":
                upload.skipped += 1
                self.skipped_with_edits += bool(row.changes)
            elif row.error is not None:
                lead_id, code, message = row.error
                errors.append({"row": row.number, "lead_id": lead_id, "code": code, "message": message})
            if row.lead is not None:
                self._tally(row.lead.status)
        upload.created += new.count
        for status, n in new.by_status.items():
            if status == Status.ACCEPTED:
                upload.accepted += n
            elif status == Status.REJECTED:
                upload.rejected += n
        upload.errors += len(errors)
        upload.row_errors = [*upload.row_errors, *errors]
        if upload.dry_run and len(upload.preview) < PREVIEW_ROWS:
            entries = [*new.preview(PREVIEW_ROWS), *(_preview(r) for r in rows[:PREVIEW_ROWS])]
            entries.sort(key=lambda e: e["row"])
            upload.preview = [*upload.preview, *entries][:PREVIEW_ROWS]
        upload.rows_done = done
        upload.lease_until = timezone.now() + LEASE
        upload.save()

    def _skipped_warning(self) -> list[str]:
        out = []
        if self.skipped_with_edits:
            out.append(
                f"{self.skipped_with_edits:,} accepted lead(s) have other values in the file and were left"
                ' alone; upload with "update accepted leads" (--update-accepted) to decide them again.'
            )
        if self.already_created:
            out.append(
                f"{self.already_created:,} row(s) without a LeadID were created by an earlier upload of the"
                f" same file ({self.already_created_by}); they were not created again."
            )
        return out


class StoredLead:
    """A stored lead as an upload reads and writes it: the few columns it needs, no model instance (an
    upload of rejected leads reads a hundred thousand of them)."""

    __slots__ = (
        "_values",
        "clean",
        "custom_reason",
        "disposition_code",
        "email_key",
        "first_accepted_at",
        "keys_read",
        "lead_id",
        "phone_key",
        "pk",
        "problems",
        "source_id",
        "status",
        "updated_at",
        "values_json",
    )

    @classmethod
    def fetch(cls, lead_ids: Sequence[str]) -> list[StoredLead]:
        table = connection.ops.quote_name(Lead._meta.db_table)
        postgresql = connection.vendor == "postgresql"
        # The values as JSON text: most rows are compared with the file's cells in polars, not in Python.
        # On SQLite the times come as the stored text too (an expression has no declared type, so the
        # driver does not parse it): ``updated_at`` is only compared, and parsing 100,000 of them cost more
        # than reading them.
        values, where, times = (
            ('"values"::text', "lead_id = ANY(%s)", "first_accepted_at, updated_at")
            if postgresql
            else (
                '"values"',
                f"lead_id IN ({', '.join(['%s'] * len(lead_ids))})",
                f"CAST(first_accepted_at AS TEXT), {_SQLITE_UPDATED_AT}",
            )
        )
        sql = (
            f"SELECT id, lead_id, source_id, status, disposition_code, custom_reason, {values},"  # noqa: S608
            f" email_key, phone_key, {times} FROM {table} WHERE {where}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(lead_ids)] if postgresql else list(lead_ids))
            rows = cursor.fetchall()
        out = []
        for (
            pk,
            lead_id,
            source_id,
            status,
            code,
            reason,
            text,
            email_key,
            phone_key,
            first,
            updated_at,
        ) in rows:
            lead = cls()
            lead.pk, lead.lead_id, lead.source_id = pk, lead_id, source_id
            lead.email_key, lead.phone_key = email_key, phone_key
            lead.keys_read = (email_key, phone_key)
            lead.updated_at = updated_at  # as the database gave it: compared, never shown
            lead.status, lead.disposition_code, lead.custom_reason = status, code, reason
            lead.values_json, lead._values = text, None
            if first is not None and not isinstance(first, dt.datetime):  # SQLite: text
                first = connection.ops.convert_datetimefield_value(first, None, connection)
            lead.first_accepted_at = first
            out.append(lead)
        return out

    @property
    def values(self) -> dict[str, Any]:
        """The lead's values, read from their JSON when first asked."""
        if self._values is None:
            self._values = json.loads(self.values_json)
        return self._values

    @values.setter
    def values(self, values: dict[str, Any]) -> None:
        self._values = values

    @staticmethod
    def still_as_read(leads: Sequence[StoredLead]) -> bool:
        """Whether none of the leads has changed since it was read: every change to a lead sets its
        ``updated_at`` (``update_leads`` and ``update_columns`` callers give it, ``save`` stamps it)."""
        table = connection.ops.quote_name(Lead._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # compared by the server: one number comes back
                cursor.execute(
                    f"SELECT count(*) FROM {table} AS l"  # noqa: S608
                    " JOIN unnest(%s::bigint[], %s::timestamptz[]) AS r(id, at)"
                    " ON l.id = r.id AND l.updated_at = r.at",
                    [[lead.pk for lead in leads], [lead.updated_at for lead in leads]],
                )
                return bool(cursor.fetchone()[0] == len(leads))
            size = in_list_size()
            for start in range(0, len(leads), size):
                chunk = leads[start : start + size]
                cursor.execute(
                    f"SELECT id, {_SQLITE_UPDATED_AT} FROM {table}"  # noqa: S608
                    f" WHERE id IN ({', '.join(['%s'] * len(chunk))})",
                    [lead.pk for lead in chunk],
                )
                now = dict(cursor.fetchall())
                if any(now.get(lead.pk) != lead.updated_at for lead in chunk):
                    return False
        return True

    def as_lead(self) -> Lead:
        """A model instance, for the few places that need one (a callback's or delivery's foreign key)."""
        return Lead(
            pk=self.pk,
            lead_id=self.lead_id,
            source_id=self.source_id,
            status=self.status,
            disposition_code=self.disposition_code,
            custom_reason=self.custom_reason,
        )


class NewLeads:
    """A part's new rows as leads, column by column: a million uploaded leads are never a million objects.

    Accepted rows take their clean values and dedupe keys from the frame's columns; the others (usually
    few) take their reason and problems from their ``Decision``.
    """

    def __init__(
        self,
        run: UploadRun,
        frame: pl.DataFrame,
        decided: FrameDecisions | None,
        accepted: tuple[pl.Series, pl.Series, pl.Series] | None,
        now: dt.datetime,
    ) -> None:
        self.run, self.now = run, now
        source = run.source
        positions = frame.with_row_index("_p").filter(pl.col("_k") < 0)["_p"]
        self.count = len(positions)
        self.by_status: dict[str, int] = {}
        if decided is None or self.count == 0:
            self.columns: dict[str, Any] = {}
            return
        codes = decided.codes.gather(positions)
        stamp = connection.ops.adapt_datetimefield_value(now)  # in the driver's form, once
        assert accepted is not None
        clean, email_key, phone_key = (s.gather(positions) for s in accepted)
        file_keys = list(run.columns.fields.values())
        new = frame[positions]
        values = (
            new.select(pl.struct(file_keys).struct.json_encode()).to_series()
            if file_keys
            else pl.repeat("{}", self.count, eager=True)
        )
        is_accepted = codes == catalogue.ACCEPT_LEAD
        held = source.review
        status = codes.replace_strict(_STATUS_OF_CODE, return_dtype=pl.String)
        if held:
            status = pl.select(
                pl.when(is_accepted).then(pl.lit(Status.IN_REVIEW.value)).otherwise(status)
            ).to_series()
        # Columns stay polars Series: PostgreSQL's COPY text is made from them without a trip through
        # Python objects.
        cols: dict[str, Any] = {
            "lead_id": new["_id"],
            "status": status,
            "disposition_code": codes,
            "custom_reason": pl.repeat(HELD_REASON if held else "", self.count, eager=True),
            "problems": pl.repeat("[]", self.count, eager=True),
            "values": values,
            "clean": clean,
            "email_key": email_key,
            "phone_key": phone_key,
            "first_accepted_at": [stamp if a and not held else None for a in is_accepted.to_list()],
        }
        others = (~is_accepted).arg_true()  # rejected or failed rows: their full decision
        if len(others):
            at = positions.to_list()
            decisions = [_decision_columns(decided.decision(at[i])) for i in others.to_list()]
            patches = zip(*decisions, strict=True)
            for key, patched in zip(_DECISION_COLUMNS, patches, strict=True):
                cols[key] = cols[key].clone().scatter(others, list(patched))
        self.by_status = dict(cols["status"].value_counts().iter_rows())
        if connection.vendor != "postgresql":
            # SQLite's driver takes Python values: made here, while the writer thread stores the part before.
            cols = {k: v.to_list() if isinstance(v, pl.Series) else v for k, v in cols.items()}
        self.columns = cols
        self.rows = new[_ROW].to_list()

    def store(self) -> None:
        """The new leads, without a "received" event each: the lead's history makes that event from the
        lead and its upload (``leads.history``), and a million uploaded leads are not written twice."""
        if not self.columns:
            return
        run, now, n = self.run, self.now, self.count
        table = connection.ops.quote_name(Lead._meta.db_table)
        if run.announces:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608
                (before,) = cursor.fetchone()
        insert_columns(
            Lead,
            {
                **self.columns,
                "source_id": run.source.pk,
                "received_via": ReceivedVia.UPLOAD.value,
                "upload_id": run.upload.pk,
                "submitted_at": now,
                "processed_at": now,
                "updated_at": now,
            },
            n,
        )
        if run.announces:  # the outbox needs each lead's pk
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT lead_id, id FROM {table} WHERE upload_id = %s AND id > %s",  # noqa: S608
                    [run.upload.pk, before or 0],
                )
                pks = dict(cursor.fetchall())
            self.pks = [pks[lead_id] for lead_id in self.columns["lead_id"]]

    def light_leads(self) -> list[Lead]:
        """The stored new leads as model instances with just their identity and decision."""
        if not self.columns:
            return []
        c = self.columns
        return [
            Lead(pk=pk, lead_id=lead_id, status=status, disposition_code=code, custom_reason=reason)
            for pk, lead_id, status, code, reason in zip(
                self.pks, c["lead_id"], c["status"], c["disposition_code"], c["custom_reason"], strict=True
            )
        ]

    def preview(self, limit: int) -> list[dict[str, Any]]:
        if not self.columns:
            return []
        c = self.columns
        return [
            {
                "row": self.rows[i],
                "lead_id": c["lead_id"][i],
                "action": "create",
                "status": c["status"][i],
                "disposition_code": c["disposition_code"][i],
                "custom_reason": c["custom_reason"][i],
                "changes": {},
            }
            for i in range(min(limit, self.count))
        ]


_DEDUPE_COLUMNS = ("source", "email_key", "phone_key")  # what dedupe looks leads up by
_STATUS_OF_CODE = {d.code: d.status.value for d in catalogue.CATALOGUE}
# The columns a lead not accepted takes from its ``Decision`` rather than from the frame's columns.
_DECISION_COLUMNS = ("status", "custom_reason", "problems", "clean", "email_key", "phone_key")


def _decision_columns(d: Decision) -> tuple[str, str, str, str, str, str]:
    """A decision's ``_DECISION_COLUMNS`` (not accepted: a review hold changes nothing)."""
    stored = stored_decision(d, held=False)
    return tuple(getattr(stored, column) for column in _DECISION_COLUMNS)  # type: ignore[return-value]


def _decided_columns(leads: Sequence[Any], now: dt.datetime, *, keys: bool = True) -> dict[str, Any]:
    """The columns a decision sets, for ``update_columns`` (``keys``: the dedupe keys too)."""
    columns = {
        "status": [lead.status for lead in leads],
        "disposition_code": [lead.disposition_code for lead in leads],
        "custom_reason": [lead.custom_reason for lead in leads],
        "problems": [lead.problems for lead in leads],
        "clean": [lead.clean for lead in leads],
        "first_accepted_at": [lead.first_accepted_at for lead in leads],
        "processed_at": now,
        "updated_at": now,
    }
    if keys:
        columns["email_key"] = [lead.email_key for lead in leads]
        columns["phone_key"] = [lead.phone_key for lead in leads]
    return columns


@dataclass
class StoredValues:
    """The values of the stored leads a part read, one row per lead and a column per field of the source."""

    frame: pl.DataFrame
    position: dict[int, int]  # a lead's pk → its row


def _decoded_values(leads: Sequence[StoredLead], keys: list[str]) -> StoredValues | None:
    """The leads' values decoded from their JSON by polars (stored values are text or null), or None when
    polars cannot read them: the leads' values are then read one by one, in Python."""
    if not leads:
        return None
    # One JSON object per line (JSON text holds no raw line break): polars reads that twice as fast as it
    # decodes a column of JSON strings.
    lines = "\n".join(lead.values_json for lead in leads).encode()
    try:
        decoded = pl.read_ndjson(io.BytesIO(lines), schema=dict.fromkeys(keys, pl.String))
    except pl.exceptions.PolarsError:
        return None
    if decoded.height != len(leads):
        return None
    return StoredValues(decoded, {lead.pk: i for i, lead in enumerate(leads)})


def _not_created_before(fresh: pl.DataFrame, reach: tuple[int, str]) -> pl.DataFrame:
    """The new rows, less those an earlier upload of the same file created (``UploadRun._earlier_reach``)."""
    return fresh.filter(pl.col("_i") >= reach[0]) if reach[0] else fresh


def _preview(row: Row) -> dict[str, Any]:
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


def _region(lead: StoredLead, fields: Mapping[str, FieldRule]) -> str | None:
    country = next((k for k, f in fields.items() if f.type is FieldType.COUNTRY), None)
    value = lead.values.get(country) if country else None
    return _alpha2(value) if value else None


def _alpha2(country: str) -> str | None:
    found = geo.resolve_country(country)
    return found.alpha2 if found is not None else None


_DELIMITER_NAMES = {"\t": "tab", ",": ",", ";": ";", "|": "|"}
_HAS_LEAD_ID = pl.col("_lead_id").is_not_null() & (pl.col("_lead_id").str.strip_chars() != "")


class LayeredDedupeIndex:
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


class CheckedDedupeIndex:
    """A part's dedupe index while earlier parts may still be being stored (``PartWriter``): the stored
    leads, then the keys the earlier parts accepted (``pending``, not all stored yet), then this part's own.

    It keeps what each question should be answered by the stored leads once the earlier parts are stored,
    so that the writer, under the source's lock, can ask again (``still_holds``): a lead another request
    accepted, rejected or deleted meanwhile changes an answer, and the part is decided again.
    """

    def __init__(self, stored: Any, pending: deque[MemoryDedupeIndex]) -> None:
        self.stored, self.pending = stored, pending
        self.mine = MemoryDedupeIndex()
        self.asked: list[tuple[list[str], dict[str, str]]] = []

    def find(self, keys: Iterable[str]) -> Mapping[str, str]:
        keys = list(keys)
        # The earlier parts are listed before the stored leads are asked: one stored in between is then
        # found among the stored leads, never in neither place.
        earlier = list(self.pending)
        expected = dict(self.stored.find(keys))
        for memory in earlier:
            expected.update(memory.find([k for k in keys if k not in expected]))
        self.asked.append((keys, expected))
        found = dict(expected)
        found.update(self.mine.find([k for k in keys if k not in found]))
        return found

    def add(self, key: str, lead_id: str) -> None:
        self.mine.add(key, lead_id)

    def still_holds(self) -> bool:
        return all(dict(self.stored.find(keys)) == expected for keys, expected in self.asked)
