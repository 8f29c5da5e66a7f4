"""Download Leads (SPEC §3): a source's leads as XLSX or CSV, filtered, streamed with flat memory.

Columns A–K are the platform's (:data:`PLATFORM_COLUMNS`), then one column per source field, in field order,
headed by the field key and holding the value as last submitted, so a download followed by an unedited
upload changes nothing.

How it stays fast and flat: the leads are read in chunks by keyset pagination on ``id`` (each chunk is a
fresh query, so no cursor or transaction is held open across the download). The database hands a chunk
over as two strings, newline-delimited JSON of the platform columns and of the stored ``values``, which
polars parses column-wise: no Python object per cell, and no JSON parsed twice. (Extracting each field in
SQL, ``values ->> '$."key"'``, took twice as long on SQLite: every extraction re-reads the document, and
each cell then became a Python string.) While the database reads chunk k+1, a second thread writes chunk
k: SQLite, psycopg and polars all let go of the GIL while they work, so both cores are busy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

import polars as pl
from django.db import connection
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum, TextField
from django.db.models.functions import Cast, JSONObject, Length

from leadgate.leads.models import Lead
from leadgate.rules.catalogue import CATALOGUE, Status
from leadgate.sources.models import Field, Source

from .writing import FORMATS, XLSX_MAX_ROWS, open_writer

#: Columns A–K, with the exact headers of SPEC §3.
PLATFORM_COLUMNS = (
    "LeadID",
    "Status",
    "Disposition Code",
    "Custom Reason",
    "Source",
    "Received Via",
    "Submitted At",
    "Processed At",
    "Updated At",
    "Delivery Status",
    "Upload",
)
_TIME_COLUMNS = ("Submitted At", "Processed At", "Updated At")
_NOT_STORED = ("Source", "Delivery Status")  # the same in every row: not read from the database
#: Column widths in the XLSX sheet (characters): A–K, then every field column.
_PLATFORM_WIDTHS = (31, 11, 36, 50, 20, 13, 21, 21, 21, 15, 31)
_FIELD_WIDTH = 20

STATUSES = tuple(s.value for s in Status)
TIME_FIELDS = {"submitted": "submitted_at", "updated": "updated_at"}
#: Leads per chunk: about 7 MB of JSON from the database, parsed in polars while the previous chunk is
#: written. Larger chunks save no time and cost memory (20,000: 60 MB more at the peak).
CHUNK = 10_000
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
    after: int = 0  # the id the first chunk starts after
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
        writer = open_writer(self.format, out, self.header, widths=widths, large=self._large())
        yield
        if not self.template:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="download") as pool:
                pending: Future[None] | None = None
                for frame in _frames(self.pages, self.after, self.source.slug, self.field_keys):
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
    # and none that arrive while it is written, so the count checked here is the count written.
    leads = Lead.objects.filter(matching, source=source)
    found = leads.aggregate(count=Count("id"), first=Min("id"), last=Max("id"))
    count = found["count"]
    if format == "xlsx" and count > XLSX_MAX_ROWS:
        raise DownloadError(
            "too_many_rows_for_xlsx",
            f"{count:,} leads are more than an XLSX sheet holds ({XLSX_MAX_ROWS:,} below the header); "
            "download them as CSV, or narrow the filters",
        )
    # One bound on id each way in the chunks' queries: given two lower bounds, SQLite may pick the
    # first lead's id over the chunk's, and read the source again from the start for every chunk.
    in_range = Q(id__lte=found["last"] or 0)
    if connection.vendor == "sqlite":
        # Chunks are read in id order between the first and the last lead found. Without statistics,
        # SQLite takes any index that starts with source_id for "source_id = ?" and then sorts all of the
        # source's leads for every chunk (40 s for a million). With the source test made unindexable, it
        # walks the table by id, once: a source's leads lie mostly together, as they arrive together.
        pages = Lead.objects.alias(source_test=F("source_id") + 0).filter(
            matching, in_range, source_test=source.pk
        )
    else:
        pages = leads.filter(in_range)  # PostgreSQL plans by its statistics
    start = (found["first"] or 1) - 1
    return Download(source, format, _field_keys(source), leads, pages, count, start)


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


def _platform_json() -> Cast:
    """Columns A–K that come from the database, as one JSON object per lead.

    Times go as the database writes them and are cut to ISO 8601 in polars: SQLite keeps UTC text
    (``2026-03-14 09:30:00.123456``), PostgreSQL renders them in the session's time zone, which Django
    sets to UTC.
    """
    return Cast(
        JSONObject(
            **{
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
        ),
        TextField(),
    )


def _chunk_sql(leads: QuerySet[Lead], after: int) -> tuple[str, Sequence[Any]]:
    """One chunk of leads as (last id, count, platform NDJSON, values NDJSON) in a single row."""
    page = (
        leads.filter(id__gt=after)
        .order_by("id")
        .annotate(platform=_platform_json(), submitted=Cast("values", TextField()))
        .values_list("id", "platform", "submitted")[:CHUNK]
    )
    inner, params = page.query.sql_with_params()
    if connection.vendor == "postgresql":
        platform = "convert_to(string_agg(platform, E'\\n' ORDER BY id), 'UTF8')"
        submitted = "convert_to(string_agg(submitted, E'\\n' ORDER BY id), 'UTF8')"
    else:
        # SQLite aggregates in the order the subquery yields its rows (by id); both aggregates see
        # the rows in the same order, so line n of one is line n of the other.
        platform = "CAST(group_concat(platform, char(10)) AS BLOB)"
        submitted = "CAST(group_concat(submitted, char(10)) AS BLOB)"
    # Built from the ORM's SQL and constants; every value is a parameter.
    return f"SELECT MAX(id), COUNT(*), {platform}, {submitted} FROM ({inner}) chunk", params  # noqa: S608


def _frames(leads: QuerySet[Lead], after: int, slug: str, field_keys: list[str]) -> Iterator[pl.DataFrame]:
    """The leads after id ``after`` as DataFrames of strings, CHUNK rows at a time, in the column order of
    the download."""
    platform_schema = {name: pl.String for name in PLATFORM_COLUMNS if name not in _NOT_STORED}
    values_schema = {key: pl.String for key in field_keys}
    while True:
        sql, params = _chunk_sql(leads, after)
        with _page_cache_kept(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            last, count, platform, values = cursor.fetchone()
        if not count:
            return
        after = last
        frame = pl.read_ndjson(bytes(platform), schema=platform_schema)
        if field_keys:
            frame = frame.hstack(pl.read_ndjson(bytes(values), schema=values_schema))
        yield frame.select(*(_platform(name, slug) for name in PLATFORM_COLUMNS), *field_keys)
        if count < CHUNK:
            return  # a short chunk is the last: no query for an empty one


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
    return _frames(prepared.pages, prepared.after, source.slug, prepared.field_keys)
