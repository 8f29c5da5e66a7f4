"""Writing many rows fast: ``insert`` is ``bulk_create`` without the ORM's per-value work.

Leads arrive by the thousand (API batches, uploads). Django's ``bulk_create`` spends most of its time
preparing each value of each row through the field API and compiling SQL per chunk; here each column's
preparation is worked out once per model and the rows go to the driver's ``executemany``. The model's
fields stay the single description of the table: the SQL is built from them.
"""

from __future__ import annotations

import io
import itertools
import json
import operator
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from django.db import connection, models

from .models import Lead

Prepare = Callable[[Any], Any]


def _preparer(field: models.Field[Any, Any]) -> Prepare | None:
    """How a column's Python value becomes what the driver takes (None: as it is)."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: None if value is None else json.dumps(value, cls=encoder)
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value  # type: ignore[no-any-return]
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value  # type: ignore[no-any-return]
    return None


@cache
def _plan(
    model: type[models.Model], vendor: str
) -> tuple[str, list[models.Field[Any, Any]], list[Prepare | None]]:
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.pk]
    quote = connection.ops.quote_name
    placeholders = [
        "%s::jsonb" if vendor == "postgresql" and isinstance(f, models.JSONField) else "%s" for f in fields
    ]
    # Table and column names come from the model, quoted; values go as parameters.
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({', '.join(placeholders)})"  # noqa: S608
    return sql, fields, [_preparer(f) for f in fields]


def execute_insert(sql: str, width: int, rows: Sequence[Sequence[Any]]) -> None:
    """Run ``sql``, an INSERT of one row of ``width`` values, for every row.

    On SQLite, up to a thousand rows go in each statement. A statement is one step of the database, which
    runs without Python's lock; after each, the thread must take the lock back, waiting up to the 5 ms
    switch interval while another thread runs Python. One row per statement, that wait came per row: an
    upload's part stored while the next part was being decided took minutes instead of seconds (100,000
    leads with another thread busy: 467 s one row per statement, 2.2 s a thousand per statement).
    """
    if connection.vendor != "sqlite" or len(rows) < 2:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        return
    head, _, one = sql.partition(" VALUES ")
    _many_per_statement(lambda n: f"{head} VALUES {', '.join([one] * n)}", width, rows)


def _many_per_statement(
    sql: Callable[[int], str], width: int, rows: Sequence[Sequence[Any]], *, returning: bool = False
) -> list[tuple[Any, ...]]:
    """Run ``sql(n)``, a statement taking ``n`` rows of ``width`` values, over ``rows``: up to a thousand
    rows at a time, within SQLite's limit on parameters (``execute_insert`` says why). ``returning``: the
    statement has a RETURNING clause, whose rows are given back (in no particular order).

    The statements go to the driver's own cursor, with ``?`` placeholders: Django's cursor would rewrite
    every ``%s`` of a thousand-row statement on each call (a twentieth of a 1,000-lead post's time).
    """
    per = max(1, min(1000, _sqlite_parameter_limit() // max(width, 1)))
    raw = connection.connection
    full = len(rows) - len(rows) % per
    found: list[tuple[Any, ...]] = []
    with connection.wrap_database_errors:
        cursor = raw.cursor()
        try:
            if returning:  # executemany gives no rows back: a statement per chunk
                for start in range(0, len(rows), per):
                    chunk = rows[start : start + per]
                    found.extend(cursor.execute(_qmark(sql(len(chunk))), _flat(chunk)).fetchall())
                return found
            if full:
                statement = _qmark(sql(per))
                cursor.executemany(statement, (_flat(rows[i : i + per]) for i in range(0, full, per)))
            if full < len(rows):
                rest = rows[full:]
                cursor.execute(_qmark(sql(len(rest))), _flat(rest))
        finally:
            cursor.close()
    return found


def _qmark(sql: str) -> str:
    """A statement built here (no literal ``%``) with SQLite's placeholders."""
    return sql.replace("%s", "?")


def _flat(rows: Sequence[Sequence[Any]]) -> list[Any]:
    return [value for row in rows for value in row]


def _reader(field: models.Field[Any, Any]) -> Callable[[models.Model], Any]:
    """How an instance's value for ``field`` is read: ``pre_save`` only where it does something (``auto_now``
    stamps the instance, as ``save`` would); a plain attribute read for the rest."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda obj: field.pre_save(obj, True)
    return operator.attrgetter(field.attname)


def _column(values: list[Any], prepare: Prepare | None, adapted: dict[Any, Any]) -> list[Any]:
    """One column's values in the driver's form. The rows of a batch share their timestamps, so each
    distinct one is adapted once."""
    if prepare is None:
        return values
    if prepare == connection.ops.adapt_datetimefield_value:
        for value in values:
            if value is not None and value not in adapted:
                adapted[value] = prepare(value)
        return [None if value is None else adapted[value] for value in values]
    return [None if value is None else prepare(value) for value in values]


def insert(model: type[models.Model], rows: Sequence[models.Model | Mapping[str, Any]]) -> None:
    """Insert new rows of ``model``, as ``bulk_create`` would, without setting pks.

    A row is a model instance (fields' ``pre_save`` runs, so ``auto_now`` applies) or a mapping by field
    attname (``lead_id``, not ``lead``), where missing fields take their defaults: the cheaper form, for
    rows nobody reads back. All rows of one call are of one form. Call it inside a transaction; read pks
    back by a natural key when they are needed (``lead_pks``). Values are gathered column by column:
    a batch of a thousand leads is 20 list comprehensions, not 20,000 calls through the field API.
    """
    if not rows:
        return
    sql, fields, preparers = _plan(model, connection.vendor)
    adapted: dict[Any, Any] = {}
    columns = []
    by_mapping = isinstance(rows[0], Mapping)
    for f, prepare in zip(fields, preparers, strict=True):
        if by_mapping:
            name = f.attname
            if all(name in row for row in rows):  # type: ignore[operator]
                values = [row[name] for row in rows]  # type: ignore[index]
            else:
                values = [row[name] if name in row else f.get_default() for row in rows]  # type: ignore[index, operator]
        else:
            read = _reader(f)
            values = [read(obj) for obj in rows]  # type: ignore[arg-type]
        columns.append(_column(values, prepare, adapted))
    execute_insert(sql, len(fields), list(zip(*columns, strict=True)))


def in_list_size() -> int:
    """How many values one SQLite statement lists in ``IN (…)``: all of a 1,000-lead batch (SQLite's limit
    is 32,766 parameters since 3.32). Each statement made under a source's lock means one more wait for
    Python's lock while the process's other threads run, so fewer and bigger ones; a few parameters are
    kept for the rest of the statement."""
    return max(100, min(5000, _sqlite_parameter_limit() - 10))


def _sqlite_parameter_limit() -> int:
    """The most parameters one statement of this (SQLite) connection takes."""
    import sqlite3

    connection.ensure_connection()
    return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


def lead_pks(lead_ids: Sequence[str]) -> list[int]:
    """The pks of leads just inserted, in the order of their LeadIDs (unique)."""
    if not lead_ids:
        return []
    table = connection.ops.quote_name(Lead._meta.db_table)
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # every LeadID as one array
            cursor.execute(f"SELECT lead_id, id FROM {table} WHERE lead_id = ANY(%s)", [list(lead_ids)])  # noqa: S608
            found.update(cursor.fetchall())
        else:
            size = in_list_size()
            for start in range(0, len(lead_ids), size):
                chunk = lead_ids[start : start + size]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"SELECT lead_id, id FROM {table} WHERE lead_id IN ({marks})", chunk)  # noqa: S608
                found.update(cursor.fetchall())
    return [found[lead_id] for lead_id in lead_ids]


def _update_sql(meta: Any, fields: Sequence[models.Field[Any, Any]]) -> str:
    """``UPDATE table SET f = %s, … WHERE pk = %s`` for ``fields`` (JSON cast on PostgreSQL)."""
    quote = connection.ops.quote_name
    jsonb = connection.vendor == "postgresql"
    assignments = ", ".join(
        f"{quote(f.column)} = %s::jsonb"
        if jsonb and isinstance(f, models.JSONField)
        else f"{quote(f.column)} = %s"
        for f in fields
    )
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608


def update_leads(leads: Sequence[Any], fields: Sequence[str]) -> None:
    """Write ``fields`` of stored leads back, one parameterised UPDATE per lead in one ``executemany``.

    ``bulk_update`` builds a CASE expression per field over the whole batch, which costs more than the
    write itself for the thousands of leads a reprocess or an upload changes.
    """
    if not leads:
        return
    model = type(leads[0])
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    preparers = [_preparer(f) for f in columns]
    sql = _update_sql(meta, columns)
    rows = []
    for lead in leads:
        row = []
        for f, prepare in zip(columns, preparers, strict=True):
            # The value as the caller set it, as ``bulk_update`` writes it: no ``pre_save``, so an
            # ``auto_now`` field keeps the time the caller gave the whole batch.
            value = getattr(lead, f.attname)
            row.append(value if prepare is None or value is None else prepare(value))
        row.append(lead.pk)
        rows.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def insert_columns(model: type[models.Model], columns: Mapping[str, Sequence[Any] | Any], rows: int) -> None:
    """Insert ``rows`` new rows given column by column: a sequence per column, or one value for all rows.

    The fastest form, for uploads of a million leads: values arrive in the driver's form already (JSON
    as text, datetimes adapted here once per column), and rows are zipped together in C. A column may be
    a polars Series: PostgreSQL's COPY text is then made from it directly. Missing columns take their
    defaults.
    """
    import polars as pl

    if rows == 0:
        return
    postgresql = connection.vendor == "postgresql"
    sql, fields, _ = _plan(model, connection.vendor)
    # COPY's text is made by polars, whose fixed cost per call (~10 ms) a hundred rows pay back: a single
    # lead post cost 3.5 ms of CPU in INSERTs and 27 ms in COPY; 1,000 leads 94 ms in INSERTs, 55 ms by COPY.
    copy = postgresql and (rows >= COPY_FROM_ROWS or any(isinstance(c, pl.Series) for c in columns.values()))
    lists = _column_lists(model, columns, rows, keep_series=copy)
    if copy:
        _copy_columns(model._meta.db_table, [f.column for f in fields], lists, rows)
        return
    execute_insert(sql, len(fields), list(zip(*lists, strict=False)))


def insert_leads(columns: Mapping[str, Sequence[Any] | Any], rows: int) -> list[int]:
    """``insert_columns`` of new leads, giving back their pks in the order of ``columns["lead_id"]``.

    On SQLite the INSERT returns them (``RETURNING``): one statement fewer under the source's lock than
    reading them back by LeadID, as PostgreSQL's COPY needs.
    """
    lead_ids: Sequence[str] = columns["lead_id"]
    if connection.vendor != "sqlite" or rows == 0:
        insert_columns(Lead, columns, rows)
        return lead_pks(lead_ids)
    sql, fields, _ = _plan(Lead, connection.vendor)
    head, _, one = sql.partition(" VALUES ")
    quote = connection.ops.quote_name
    returning = f" RETURNING {quote('lead_id')}, {quote(Lead._meta.pk.column)}"
    found = dict(
        _many_per_statement(
            lambda n: f"{head} VALUES {', '.join([one] * n)}{returning}",
            len(fields),
            list(zip(*_column_lists(Lead, columns, rows), strict=False)),
            returning=True,
        )
    )
    return [found[lead_id] for lead_id in lead_ids]


def _column_lists(
    model: type[models.Model],
    columns: Mapping[str, Sequence[Any] | Any],
    rows: int,
    *,
    keep_series: bool = False,
) -> list[Any]:
    """Each column of ``model`` (pk aside) for ``insert_columns``: the sequence given, or one value repeated
    (given, or the field's default) in the driver's form. polars Series are kept for COPY or made lists."""
    import polars as pl

    _, fields, preparers = _plan(model, connection.vendor)
    lists: list[Any] = []
    for f, prepare in zip(fields, preparers, strict=True):
        given = f.attname in columns
        value = columns[f.attname] if given else f.get_default()
        if isinstance(value, pl.Series):
            lists.append(value if keep_series else value.to_list())
            continue
        if given and isinstance(value, list | tuple):  # a column (a default of [] is one JSON value)
            lists.append(value)
            continue
        if isinstance(value, dict | list) or (
            value is not None and prepare is not None and not isinstance(value, str)
        ):
            value = prepare(value)  # type: ignore[misc]
        lists.append(itertools.repeat(value, rows))
    return lists


COPY_FROM_ROWS = 100  # on PostgreSQL, fewer rows go as INSERT statements (measured: ``insert_columns``)


# COPY's text format: these characters are written escaped; NULL is \N.
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def _copy_columns(table: str, columns: Sequence[str], lists: Sequence[Any], rows: int) -> None:
    """COPY of ``rows`` rows given column by column, the text made by polars in one go rather than by
    psycopg row by row (its per-row formatting cost as much as the server's work)."""
    import polars as pl

    series = []
    for i, values in enumerate(lists):
        if isinstance(values, pl.Series):
            column = values.alias(f"c{i}")
        elif isinstance(values, itertools.repeat):  # one value for every row
            column = pl.Series(f"c{i}", [next(values)], strict=False).new_from_index(0, rows)
        else:
            column = pl.Series(f"c{i}", values, strict=False)
        if column.dtype == pl.String:
            column = column.str.replace_many(*zip(*_COPY_ESCAPES, strict=True))  # one pass for all four
        series.append(column)
    text = io.BytesIO()
    pl.DataFrame(series).write_csv(
        text, separator="\t", quote_style="never", null_value="\\N", include_header=False
    )
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(text.getbuffer())


def update_columns(
    model: type[models.Model], pks: Sequence[Any], columns: Mapping[str, Sequence[Any] | Any]
) -> None:
    """Write columns of stored rows, given column by column like ``insert_columns`` (JSON as text already)."""
    if not pks:
        return
    meta = model._meta
    names = list(columns)
    fields = [meta.get_field(name) for name in names]
    if connection.vendor == "postgresql":
        _update_by_copy(meta, pks, names, fields, columns)
        return
    lists = []
    adapted: dict[Any, Any] = {}
    for name, f in zip(names, fields, strict=True):
        value = columns[name]
        if isinstance(value, list | tuple):
            if isinstance(f, models.DateTimeField):
                value = _column(list(value), connection.ops.adapt_datetimefield_value, adapted)
            lists.append(value)
        else:
            if isinstance(f, models.DateTimeField) and value is not None:
                value = connection.ops.adapt_datetimefield_value(value)
            lists.append(itertools.repeat(value, len(pks)))
    # Many rows per statement, as ``execute_insert`` does: UPDATE … FROM a VALUES list of the rows.
    quote = connection.ops.quote_name
    width = len(fields) + 1
    one = f"({', '.join(['%s'] * width)})"
    assignments = ", ".join(f"{quote(f.column)} = v.column{i}" for i, f in enumerate(fields, 1))
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    _many_per_statement(
        lambda n: (
            f"UPDATE {table} AS t SET {assignments}"  # noqa: S608
            f" FROM (VALUES {', '.join([one] * n)}) AS v WHERE t.{pk} = v.column{width}"
        ),
        width,
        list(zip(*lists, pks, strict=False)),
    )


def _update_by_copy(
    meta: Any,
    pks: Sequence[Any],
    names: Sequence[str],
    fields: Sequence[models.Field[Any, Any]],
    columns: Mapping[str, Sequence[Any] | Any],
) -> None:
    """On PostgreSQL: the new values copied into a temporary table, then one UPDATE … FROM it."""
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    staged = "leadgate_staged_update"
    per_row = [
        columns[n] if isinstance(columns[n], list | tuple) else itertools.repeat(columns[n]) for n in names
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staged}")
        # The staging table takes its column types from the real one; ON COMMIT DROP cleans up after us.
        listed = ", ".join(quote(f.column) for f in fields)
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staged} ON COMMIT DROP AS"  # noqa: S608
            f" SELECT {pk}, {listed} FROM {table} WITH NO DATA"
        )
    _copy_columns(staged, [meta.pk.column, *(f.column for f in fields)], [pks, *per_row], len(pks))
    assignments = ", ".join(f"{quote(f.column)} = s.{quote(f.column)}" for f in fields)
    with connection.cursor() as cursor:
        # Without statistics the planner guesses the staged rows' number and may scan every lead to join.
        cursor.execute(f"ANALYZE {staged}")
        cursor.execute(f"UPDATE {table} AS t SET {assignments} FROM {staged} AS s WHERE t.{pk} = s.{pk}")  # noqa: S608
        cursor.execute(f"DROP TABLE {staged}")
