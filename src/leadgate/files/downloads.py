"""Download Leads (SPEC §3): a source's leads as XLSX or CSV, filtered, streamed with flat memory.

Columns A–K are the platform's (:data:`PLATFORM_COLUMNS`), then one column per source field, in field order,
headed by the field key and holding the value as last submitted, so a download followed by an unedited
upload changes nothing.

How it stays fast and flat: the leads are read in chunks, each a window of ids walked along the table's
primary key (a fresh query each, so no cursor or transaction is held open across the download; see
:func:`prepare_download` for why windows and not LIMIT). The database hands a chunk over as two strings,
newline-delimited JSON of the platform columns and of the stored ``values``, which polars parses
column-wise: no Python object per cell, and no JSON parsed twice. (Extracting each field in SQL,
``values ->> '$."key"'``, took twice as long on SQLite: every extraction re-reads the document, and each
cell then became a Python string.) While the database reads chunk k+1, a second thread writes chunk k:
SQLite, psycopg and polars all let go of the GIL while they work, so both cores are busy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

import polars as pl
from django.db import connection
from django.db.models import Count, F, Func, Max, Min, Q, QuerySet, Sum, TextField
from django.db.models.functions import Cast, JSONObject, Length

from leadgate.leads.models import Lead
from leadgate.rules.catalogue import CATALOGUE, Status
from leadgate.sources.models import Field, Source

from .columns import PLATFORM_COLUMNS
from .writing import FORMATS, XLSX_MAX_ROWS, open_writer

_TIME_COLUMNS = ("Submitted At", "Processed At", "Updated At")
_NOT_STORED = ("Source", "Delivery Status")  # the same in every row: not read from the database
# Columns whose text leadgate makes (ids, slugs, codes, ISO times): never a formula, a separator or markup.
_MADE_BY_LEADGATE = frozenset(PLATFORM_COLUMNS) - {"Custom Reason"}
#: Column widths in the XLSX sheet (characters): A–K, then every field column.
_PLATFORM_WIDTHS = (31, 11, 36, 50, 20, 13, 21, 21, 21, 15, 31)
_FIELD_WIDTH = 20

STATUSES = tuple(s.value for s in Status)
TIME_FIELDS = {"submitted": "submitted_at", "updated": "updated_at"}
#: Leads per chunk: about 7 MB of JSON from the database, parsed in polars while the previous chunk is
#: written. Larger chunks save no time and cost memory (20,000: 60 MB more at the peak).
CHUNK = 10_000
#: The widest window of ids a chunk reads: the most a chunk holds where a source's leads cluster.
MAX_WINDOW = 8 * CHUNK
# A zip entry over 2 GiB needs ZIP64, chosen before writing it; only then, as some Excel versions have
# trouble with ZIP64 headers. The sheet's size is estimated on the generous side, with this margin.
_ZIP64_FROM = 1.8 * 2**30


class DownloadError(Exception):
    """A download that cannot be made as asked: one sentence for people, a code for machines."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 date or time as given on the command line or in a URL; without an offset, UTC."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            parsed = dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
        else:
            parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise DownloadError(
            "invalid_time",
            f'"{text}" is not a date or time; use ISO 8601, e.g. 2026-03-14 or 2026-03-14T09:30Z',
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def filename(source: Source, format: str, *, template: bool = False, now: dt.datetime | None = None) -> str:
    """``<slug>-leads-<UTC timestamp>.<ext>`` (``<slug>-template.<ext>`` for the lead template)."""
    extension = FORMATS[format][0]
    if template:
        return f"{source.slug}-template.{extension}"
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{source.slug}-leads-{stamp}.{extension}"


@dataclass
class Download:
    """A download checked and ready to write: :func:`prepare_download` makes one.

    Writing is separate from checking so the API can answer a bad request with a problem before the
    first byte of the file goes out.
    """

    source: Source
    format: str
    field_keys: list[str]
    leads: QuerySet[Lead]
    pages: QuerySet[Lead]  # the same leads, as the chunks' queries read them
    count: int | None = None  # as counted before writing (the XLSX row limit is checked on it)
    ids: range = range(0)  # the ids the leads lie between, read a window of them at a time
    template: bool = False
    rows_written: int = field(default=0, init=False)

    @property
    def header(self) -> list[str]:
        return self.field_keys if self.template else [*PLATFORM_COLUMNS, *self.field_keys]

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][1]

    def write_to(self, out: BinaryIO, progress: Callable[[int, int], None] | None = None) -> int:
        """Write the whole file to ``out``; returns how many leads (rows below the header) it holds.

        ``progress(done, total)`` is called after each chunk (``total`` as counted before writing).
        """
        for _ in self._steps(out):
            if progress is not None:
                progress(self.rows_written, max(self.count or 0, self.rows_written))
        return self.rows_written

    def chunks(self) -> Iterator[bytes]:
        """The file as a sequence of byte strings, for a streaming response."""
        pipe = _Pipe()
        for _ in self._steps(cast(BinaryIO, pipe)):  # all a writer uses of a stream is write and flush
            if pipe.parts:
                yield pipe.drain()
        if pipe.parts:
            yield pipe.drain()

    def _steps(self, out: BinaryIO) -> Iterator[None]:
        """Write to ``out`` chunk by chunk, pausing after each (no write is under way at a pause)."""
        widths = [_FIELD_WIDTH] * len(self.field_keys)
        if not self.template:
            widths = [*_PLATFORM_WIDTHS, *widths]
        writer = open_writer(
            self.format, out, self.header, widths=widths, large=self._large(), plain=_MADE_BY_LEADGATE
        )
        yield
        if not self.template:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="download") as pool:
                pending: Future[None] | None = None
                for frame in _frames(self.pages, self.ids, self.source.slug, self.field_keys):
                    if pending is not None:
                        pending.result()
                        yield
                    pending = pool.submit(writer.write, frame)
                    self.rows_written += frame.height
                if pending is not None:
                    pending.result()
        writer.close()
        yield

    def _large(self) -> bool:
        """Whether the XLSX sheet may pass 2 GiB uncompressed (which needs ZIP64)."""
        if self.format != "xlsx" or not self.count:
            return False
        # The stored JSON is longer than the text it holds (keys, quotes, \u escapes); a fifth more for
        # XML escapes. Each cell's markup is 50 characters at most, without xml:space. Summing the
        # lengths reads the leads once more (0.1 s for 100,000 on SQLite).
        size = Length(Cast("values", TextField())) + Length("custom_reason")
        with _page_cache_kept():
            text = self.leads.aggregate(n=Sum(size))["n"] or 0
        per_row = 50 * len(self.header) + 150  # markup, and LeadID, times, status and code
        return 1.2 * text + per_row * self.count > _ZIP64_FROM


class _Pipe:
    """A write-only stream whose bytes are taken out as they come (a zip written to it never seeks)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def prepare_download(
    source: Source,
    *,
    format: str = "xlsx",
    statuses: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    time_field: str = "submitted",
) -> Download:
    """Check the options and find the leads; raises :class:`DownloadError` for anything wrong.

    ``statuses``: any of :data:`STATUSES` (``all``, or none, means every status); ``codes``: disposition
    codes, in any case; ``since`` (inclusive) and ``until`` (exclusive) on the submitted or updated time.
    """
    if format not in FORMATS:
        raise DownloadError("invalid_format", f'unknown format "{format}"; use one of {", ".join(FORMATS)}')
    if time_field not in TIME_FIELDS:
        raise DownloadError(
            "invalid_time_field", f'dates are on "submitted" or "updated", not "{time_field}"'
        )
    wanted = {_status(s) for s in statuses or ()} - {"all"}
    matching = Q()
    if wanted:
        matching &= Q(status__in=sorted(wanted))
    if codes:
        known = {d.code for d in CATALOGUE}
        upper = sorted({c.strip().upper() for c in codes if c.strip()})
        unknown = [c for c in upper if c not in known]
        if unknown:
            raise DownloadError(
                "invalid_code", f'unknown disposition code "{unknown[0]}" (see `leadgate dispositions`)'
            )
        if upper:
            matching &= Q(disposition_code__in=upper)
    column = TIME_FIELDS[time_field]
    if since is not None:
        matching &= Q(**{f"{column}__gte": since})
    if until is not None:
        matching &= Q(**{f"{column}__lt": until})
    # The leads there are now, counted from an index (a few ms for a million): the download holds these
    # and none that arrive while it is written, so the count checked here is the count written (but
    # for a lead whose status or time changes meanwhile).
    leads = Lead.objects.filter(matching, source=source)
    found = leads.aggregate(count=Count("id"), first=Min("id"), last=Max("id"))
    count = found["count"]
    if format == "xlsx" and count > XLSX_MAX_ROWS:
        raise DownloadError(
            "too_many_rows_for_xlsx",
            f"{count:,} leads are more than an XLSX sheet holds ({XLSX_MAX_ROWS:,} below the header); "
            "download them as CSV, or narrow the filters",
        )
    # Each chunk is the matching leads in a window of ids, read along the primary key. Not "id > last
    # ORDER BY id LIMIT n": without statistics (a new database, a table just filled) both SQLite and
    # PostgreSQL answer that by finding every remaining lead of the source through a source_id index
    # and sorting them, for every chunk — 40 s instead of 5 for a million. The source test is made
    # unindexable so that the id range is the only way in, and a window is as wide as it takes to hold
    # about CHUNK matching leads (a source's leads mostly arrive together), at most MAX_WINDOW ids.
    pages = Lead.objects.alias(source_test=F("source_id") + 0).filter(matching, source_test=source.pk)
    first, last = found["first"] or 1, found["last"] or 0
    window = min(max(CHUNK, math.ceil(CHUNK * (last - first + 1) / count)), MAX_WINDOW) if count else CHUNK
    ids = range(first - 1, last, window)
    return Download(source, format, _field_keys(source), leads, pages, count, ids)


def _status(text: str) -> str:
    status = text.strip().lower().replace(" ", "_").replace("-", "_")
    if status != "all" and status not in STATUSES:
        raise DownloadError("invalid_status", f'unknown status "{text}"; use all, {", ".join(STATUSES)}')
    return status


def _field_keys(source: Source) -> list[str]:
    return list(Field.objects.filter(source=source).order_by("position", "id").values_list("key", flat=True))


def download(
    source: Source,
    out: BinaryIO,
    *,
    format: str = "xlsx",
    statuses: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    time_field: str = "submitted",
) -> int:
    """Write the source's leads to ``out`` as ``format`` (xlsx, csv, csv-semicolon); returns the rows."""
    prepared = prepare_download(
        source, format=format, statuses=statuses, codes=codes, since=since, until=until, time_field=time_field
    )
    return prepared.write_to(out)


def prepare_template(source: Source, *, format: str = "xlsx") -> Download:
    """The lead template: a file with only the header of the source's fields, to fill in and upload."""
    if format not in FORMATS:
        raise DownloadError("invalid_format", f'unknown format "{format}"; use one of {", ".join(FORMATS)}')
    none = Lead.objects.none()
    return Download(source, format, _field_keys(source), none, none, template=True)


def lead_template(source: Source, out: BinaryIO, *, format: str = "xlsx") -> None:
    """Write the lead template of ``source`` to ``out``."""
    prepare_template(source, format=format).write_to(out)


# --- reading the leads --------------------------------------------------------------------------------------


class _JSONText(JSONObject):
    """``JSONObject`` as text (SQLite's ``json_object`` gives text already). On PostgreSQL through
    ``json_build_object``, which writes text as it goes: ``jsonb_build_object`` (Django's choice) builds a
    binary value first, and took 40% longer."""

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        keys_as_text = self.copy()
        keys_as_text.set_source_expressions(
            [
                Cast(expression, TextField()) if index % 2 == 0 else expression
                for index, expression in enumerate(self.get_source_expressions())
            ]
        )
        sql, params = Func.as_sql(
            keys_as_text, compiler, connection, function="JSON_BUILD_OBJECT", **extra_context
        )
        return f"({sql})::text", params


def _platform_json() -> _JSONText:
    """Columns A–K that come from the database, and the lead's id, as one JSON object per lead.

    Times go as the database writes them and are cut to ISO 8601 in polars: SQLite keeps UTC text
    (``2026-03-14 09:30:00.123456``), PostgreSQL renders them in the session's time zone, which Django
    sets to UTC.
    """
    return _JSONText(
        **{
            "id": F("id"),
            "LeadID": F("lead_id"),
            "Status": F("status"),
            "Disposition Code": F("disposition_code"),
            "Custom Reason": F("custom_reason"),
            "Received Via": F("received_via"),
            "Submitted At": F("submitted_at"),
            "Processed At": F("processed_at"),
            "Updated At": F("updated_at"),
            "Upload": F("upload__upload_id"),
        }
    )


def _chunk_sql(leads: QuerySet[Lead], after: int, upto: int) -> tuple[str, Sequence[Any]]:
    """The leads with ids in (after, upto] as (count, platform NDJSON, values NDJSON) in a single row.

    Both aggregates take the rows in the same order, so line n of one is line n of the other; which order
    that is, the database decides (sorting in SQL cost PostgreSQL a fifth of its time): polars sorts.
    """
    page = (
        leads.filter(id__gt=after, id__lte=upto)
        .order_by()
        .annotate(platform=_platform_json(), submitted=Cast("values", TextField()))
        .values_list("platform", "submitted")
    )
    inner, params = page.query.sql_with_params()
    if connection.vendor == "postgresql":
        platform = "convert_to(string_agg(platform, E'\\n'), 'UTF8')"
        submitted = "convert_to(string_agg(submitted, E'\\n'), 'UTF8')"
    else:
        platform = "CAST(group_concat(platform, char(10)) AS BLOB)"
        submitted = "CAST(group_concat(submitted, char(10)) AS BLOB)"
    # Built from the ORM's SQL and constants; every value is a parameter.
    return f"SELECT COUNT(*), {platform}, {submitted} FROM ({inner}) chunk", params  # noqa: S608


def _frames(leads: QuerySet[Lead], ids: range, slug: str, field_keys: list[str]) -> Iterator[pl.DataFrame]:
    """The leads as DataFrames of strings, a window of ``ids`` at a time, in the column order of the
    download (windows without a lead give no frame)."""
    platform_schema = {
        "id": pl.Int64,
        **{name: pl.String for name in PLATFORM_COLUMNS if name not in _NOT_STORED},
    }
    values_schema = {key: pl.String for key in field_keys}
    for after in ids:
        sql, params = _chunk_sql(leads, after, min(after + ids.step, ids.stop))
        with _page_cache_kept(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            count, platform, values = cursor.fetchone()
        if not count:
            continue
        frame = pl.read_ndjson(bytes(platform), schema=platform_schema)
        if field_keys:
            frame = frame.hstack(pl.read_ndjson(bytes(values), schema=values_schema))
        yield frame.sort("id").select(*(_platform(name, slug) for name in PLATFORM_COLUMNS), *field_keys)


@contextlib.contextmanager
def _page_cache_kept() -> Iterator[None]:
    """On SQLite, read a chunk through a small page cache: a download reads each page once, and would
    otherwise fill the connection's cache (128 MiB) with them, pushing out the pages its other queries
    use, and raising the process's memory by as much."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (kept,) = cursor.fetchone()
        cursor.execute("PRAGMA cache_size = -4096")  # 4 MiB
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(kept)}")


def _platform(name: str, slug: str) -> pl.Expr:
    """Column ``name`` of A–K from what the database gave."""
    if name in _TIME_COLUMNS:
        return _iso_time(name)
    if name == "Source":
        return pl.lit(slug, pl.String).alias(name)
    if name == "Delivery Status":
        # Deliveries arrive with the post-out engine (issue 6); until then the column is there, empty,
        # so files made now keep their shape.
        return pl.lit(None, pl.String).alias(name)
    return pl.col(name)


def _iso_time(name: str) -> pl.Expr:
    """``2026-03-14 09:30:00.123456`` (SQLite) or ``2026-03-14T09:30:00.123+00:00`` (PostgreSQL, UTC)
    → ``2026-03-14T09:30:00Z``; null stays null."""
    text = pl.col(name)
    return pl.concat_str(text.str.slice(0, 10), pl.lit("T"), text.str.slice(11, 8), pl.lit("Z")).alias(name)


def lead_frames(source: Source, **filters: Any) -> Iterator[pl.DataFrame]:
    """The rows a CSV download of ``source`` would hold (same filters), as DataFrames: for benchmarks."""
    prepared = prepare_download(source, format="csv", **filters)
    return _frames(prepared.pages, prepared.ids, source.slug, prepared.field_keys)
