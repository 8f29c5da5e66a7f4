"""Deciding a polars frame column by column, with the same decisions as ``Engine.decide``.

``decide_frame(engine, frame, lead_ids)`` decides every row of a frame of string columns (as
``pl.read_csv(path, infer_schema=False)`` reads one) and answers a ``FrameDecisions``: per-row disposition
codes (cheap aggregate counts), and the ``Decision`` of any row on demand, equal to what
``engine.decide([LeadInput(lead_id, row) ...])`` answers for the same rows on an engine in the same state.

How: each field's check is the engine's own closure (``engine._FieldChecks``), called once per distinct raw
value (per distinct raw value and country for the memoised-with-country fields: phone, state). A text
field is stripped and length-checked vectorised, with Python's exact whitespace set; only its empty or
too-long values go through the check. Results are mapped back to rows by index; problem flags, first
codes and errors are gathered per row in polars. Leads without problems then take the engine's dedupe and
allocation step in order (mirroring ``Engine._finish``, with its index and allocation count updated).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import polars as pl
from email_validator.rfc_constants import ATEXT, EMAIL_MAX_LENGTH

from leadgate.rules import catalogue, emails
from leadgate.rules import engine as engine_module
from leadgate.rules.catalogue import Status
from leadgate.rules.definitions import FieldType
from leadgate.rules.engine import Engine
from leadgate.rules.outcome import Decision, LeadInput, Problem

#: Every character Python's ``str.strip()`` removes (``str.isspace``), for polars' ``strip_chars``.
PY_WHITESPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())

# emails._ASCII_ADDRESS for polars (Rust regex): the same dot-atom class, each character escaped.
_ATEXT = "".join(
    "\\" + c if not c.isalnum() else c
    for c in re.sub(r"\\(.)", r"\1", ATEXT).replace("a-z", "").replace("A-Z", "").replace("0-9", "")
)
_ASCII_ADDRESS = rf"(?s)^([a-zA-Z0-9{_ATEXT}]+(?:\.[a-zA-Z0-9{_ATEXT}]+)*)@(.+)$"

_BIG = 1 << 20  # the rank of "no problem"
_SETTLE_PART = 50_000  # leads settled (deduped) at a time
_CODE_OF_RANK = {rank: code for code, rank in catalogue.ORDER.items()}
_FAILED_RANK = catalogue.ORDER[catalogue.FAILED_PROCESSING_ERROR]
_ACCEPT_RANK = catalogue.ORDER[catalogue.ACCEPT_LEAD]


class _Raised:
    """A check that raised: the lead fails with this error."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


_FAST = object()  # a text row decided vectorised: clean value is the stripped text, no problems


def _rank(problems: tuple[Problem, ...] | None) -> int:
    return min(catalogue.ORDER[p.code] for p in problems) if problems else _BIG


def _distinct(keys: pl.DataFrame) -> tuple[pl.Series, pl.DataFrame]:
    """Per row the index of its distinct key, and the distinct keys (in first-seen order)."""
    uniq = keys.unique(maintain_order=True).with_row_index("_id")
    ids = keys.join(uniq, on=keys.columns, how="left", nulls_equal=True, maintain_order="left")["_id"]
    return ids, uniq.drop("_id")


class _Column:
    """One field's results: per row an index into ``results`` (null: decided vectorised, clean = fast)."""

    def __init__(self, key: str, ids: pl.Series, results: list[Any], fast: pl.Series | None) -> None:
        self.key = key
        self.ids = ids
        self.results = results
        self.fast = fast
        self._ids_list: list[int | None] | None = None
        self._fast_list: list[str | None] | None = None

    def result(self, row: int) -> Any:
        if self._ids_list is None:
            self._ids_list = self.ids.to_list()
        i = self._ids_list[row]
        if i is None:
            if self._fast_list is None:
                self._fast_list = self.fast.to_list()  # type: ignore[union-attr]
            return (self._fast_list[row], None)
        return self.results[i]

    def per_row(self, values: list[Any], dtype: Any, fill: Any) -> pl.Series:
        return pl.Series(values, dtype=dtype).gather(self.ids).fill_null(fill)


class FrameDecisions:
    """The decisions of a frame: codes per row now, ``Decision`` objects on demand."""

    def __init__(
        self,
        engine: Engine,
        lead_ids: Sequence[str],
        columns: list[_Column],
        order: list[int],
        codes: pl.Series,
        verdicts: dict[int, list[Problem] | Exception],
        check_live: pl.Series | None = None,
    ) -> None:
        self.engine = engine
        self._check_live = None if check_live is None else check_live.to_list()
        self.lead_ids = lead_ids
        self._columns = columns
        self._order = order
        #: The disposition code of each row.
        self.codes = codes
        self._verdicts = verdicts  # rows without other problems that dedupe/allocation rejected or failed

    def __len__(self) -> int:
        return len(self.lead_ids)

    def counts(self) -> dict[str, int]:
        """How many rows got each disposition code."""
        counted = self.codes.value_counts()
        return dict(zip(counted[:, 0].to_list(), counted[:, 1].to_list(), strict=True))

    def __getitem__(self, row: int) -> Decision:
        return self.decision(row)

    def __iter__(self) -> Iterator[Decision]:
        return (self.decision(i) for i in range(len(self.lead_ids)))

    def decisions(self) -> list[Decision]:
        return list(self)

    def clean_columns(self) -> tuple[pl.Series, pl.Series, pl.Series]:
        """Per row, vectorised: the clean values as a JSON object (text), and the email and phone dedupe
        keys ("" for none) — what an accepted row's ``Decision`` holds in ``clean`` and ``dedupe_keys``, for
        storing many accepted rows without building a ``Decision`` each. Rejected rows get ``decision``.
        """
        parts: list[pl.Expr | pl.Series] = []
        n = len(self.lead_ids)
        for i, c in enumerate(self._columns):
            fragments = [
                json.dumps(r[0], ensure_ascii=False) if r.__class__ is tuple else "null" for r in c.results
            ]  # per distinct result: cheap
            per_row = pl.Series(fragments, dtype=pl.String).gather(c.ids)
            if c.fast is not None:
                fast = pl.select(pl.struct(c.fast.alias("v")).struct.json_encode()).to_series()
                fast = fast.str.slice(5, fast.str.len_chars() - 6)  # '{"v":"…"}' → '"…"'
                per_row = pl.select(pl.coalesce(per_row, fast)).to_series()
            parts += [pl.lit(("{" if i == 0 else ",") + json.dumps(c.key) + ":"), per_row.fill_null("null")]
        clean = (
            pl.select(pl.concat_str([*parts, pl.lit("}")])).to_series()
            if parts
            else pl.repeat("{}", n, eager=True)
        )
        email = self._clean_text(self.engine._email_key, n).str.to_lowercase()
        phone = self._clean_text(self.engine._phone_key, n)
        return clean, email.fill_null(""), phone.fill_null("")

    def _clean_text(self, key: str | None, n: int) -> pl.Series:
        column = next((c for c in self._columns if c.key == key), None)
        if column is None:
            return pl.Series([None] * n, dtype=pl.String)
        values = [r[0] if r.__class__ is tuple and isinstance(r[0], str) else None for r in column.results]
        per_row = pl.Series(values, dtype=pl.String).gather(column.ids)
        if column.fast is not None:
            per_row = pl.select(pl.coalesce(per_row, column.fast)).to_series()
        return per_row

    def decision(self, row: int) -> Decision:
        """The row's Decision, built from its column results by the engine's own lead-level steps."""
        engine = self.engine
        live = True if self._check_live is None else self._check_live[row]
        lead = LeadInput(self.lead_ids[row], {}, check_live=live)
        columns = self._columns
        results = [c.result(row) for c in columns]
        found: tuple[Problem, ...] | None = None
        for i in self._order:  # the engine's field order: the country first
            r = results[i]
            if r.__class__ is _Raised:
                return engine_module._failed(lead, r.error)
            if r[1] is not None:
                found = r[1] if found is None else found + r[1]
        clean = {c.key: r[0] for c, r in zip(columns, results, strict=True)}
        try:
            _lead, clean, problems, dedupe_keys, _keys = engine._lead_checks(lead, clean, found)
            if problems is None:
                verdict = self._verdicts.get(row)
                if verdict is None:
                    return engine_module._decision(
                        lead.lead_id, Status.ACCEPTED, catalogue.ACCEPT_LEAD, "", (), clean, dedupe_keys
                    )
                if isinstance(verdict, Exception):
                    return engine_module._failed(lead, verdict)
                problems = list(verdict)
            return engine._rejected(lead, clean, problems, dedupe_keys)
        except Exception as error:
            return engine_module._failed(lead, error)


def _column(engine: Engine, field: Any, raw: pl.Series, region: pl.Series | None) -> _Column:
    check, memo = engine_module._FieldChecks(engine, field).build()
    values = raw.fill_null("")
    fast = None
    if field.type is FieldType.TEXT:
        fast = values.str.strip_chars(PY_WHITESPACE)
        length = fast.str.len_chars()
        simple = length > 0
        if field.max_length is not None:
            simple = simple & (length <= field.max_length)
        keys = pl.DataFrame({"v": pl.select(pl.when(simple).then(None).otherwise(values)).to_series()})
    elif field.type is FieldType.EMAIL:
        fast, simple = _email_fast_path(check, values)
        if engine._has_suppression:  # a suppressed address goes the slow way, where the lists are asked
            simple = simple & ~_maybe_suppressed(engine, fast)
        keys = pl.DataFrame({"v": pl.select(pl.when(simple).then(None).otherwise(values)).to_series()})
    elif memo == "value and country" and region is not None:
        keys = pl.DataFrame({"v": values, "r": region})
    else:
        keys = pl.DataFrame({"v": values})
    ids, uniq = _distinct(keys)
    results: list[Any] = []
    regions = uniq["r"].to_list() if "r" in uniq.columns else None
    for j, value in enumerate(uniq["v"].to_list()):
        if value is None:
            results.append(_FAST)
            continue
        try:
            results.append(check(value, regions[j] if regions is not None else None))
        except Exception as error:
            results.append(_Raised(error))
    if fast is not None:
        fast_ids = [j for j, r in enumerate(results) if r is _FAST]
        if fast_ids:
            ids = pl.select(pl.when(ids.is_in(fast_ids)).then(None).otherwise(ids)).to_series()
    return _Column(field.key, ids, results, fast)


def _email_fast_path(check: Any, values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """The addresses ``emails.fast_validate`` would pass on its ASCII path, with a domain without problems:
    their clean value, worked out vectorised (everything else goes through the engine's check).

    As in ``fast_validate``: an ASCII dot-atom local part and "@" (the first one), the domain's verdict per
    distinct domain (``emails._domain``), the length limit, role mailboxes lower-cased. Whether a domain has
    problems (exclude/allow lists, deliverability) depends on the domain only: it is asked once per distinct
    domain by checking ``"x@" + domain`` with the field's own check.
    """
    text = values.str.strip_chars(PY_WHITESPACE)
    parts = text.str.extract_groups(_ASCII_ADDRESS).struct.unnest()
    local, domain_part = parts[:, 0], parts[:, 1]
    uniq = domain_part.drop_nulls().unique(maintain_order=True).to_list()
    at_domain: list[str | None] = []
    longest: list[int | None] = []
    for dp in uniq:
        verdict = emails._domain(dp)
        ok = False
        if isinstance(verdict, emails._Domain) and 2 + verdict.longest <= EMAIL_MAX_LENGTH:
            try:
                r = check("x@" + dp, None)
                ok = r[1] is None and r[0] == "x" + verdict.at_domain
            except Exception:
                ok = False
        at_domain.append(verdict.at_domain if ok else None)  # type: ignore[union-attr]
        longest.append(verdict.longest if ok else None)  # type: ignore[union-attr]
    table = pl.DataFrame(
        {
            "d": pl.Series(uniq, dtype=pl.String),
            "at": pl.Series(at_domain, dtype=pl.String),
            "n": pl.Series(longest, dtype=pl.Int64),
        }
    )
    joined = pl.DataFrame({"d": domain_part}).join(table, on="d", how="left", maintain_order="left")
    at, n = joined["at"], joined["n"]
    lower = local.str.to_lowercase()
    role = (local.str.len_chars() <= emails._LONGEST_MAILBOX_NAME) & lower.is_in(
        sorted(emails._CASE_INSENSITIVE_MAILBOXES)
    )
    simple = (
        at.is_not_null() & (local.str.len_chars().cast(pl.Int64) + 1 + n <= EMAIL_MAX_LENGTH)
    ).fill_null(False)
    clean = pl.select(pl.when(role).then(lower).otherwise(local) + at).to_series()
    return clean, simple


def _maybe_suppressed(engine: Engine, clean: pl.Series) -> pl.Series:
    """The addresses a suppression list may name, as ``Engine._suppression`` asks: the address itself, or
    its domain (asked once per distinct domain). True where unsure (no clean address)."""
    lower = clean.str.to_lowercase()
    domain = lower.str.extract(r"@([^@]*)$", 1)
    matchers = [m for _, m in engine._suppressed_domains]
    listed = [d for d in domain.drop_nulls().unique().to_list() if any(m.matches(d) for m in matchers)]
    return (lower.is_in(list(engine._suppressed_emails)) | domain.is_in(listed)).fill_null(True)


def decide_frame(
    engine: Engine, frame: pl.DataFrame, lead_ids: Sequence[str], check_live: pl.Series | None = None
) -> FrameDecisions:
    """Decide every row of ``frame`` (string columns keyed by field key) as ``engine.decide`` would.

    A missing column is empty in every row, as a missing key is for the engine. The engine's dedupe index
    and allocation count are updated as ``decide`` updates them. ``check_live`` (a boolean per row, default
    all true) is ``LeadInput.check_live``: false for a stored lead decided again.
    """
    with engine_module.without_cyclic_gc():
        return _decide_frame(engine, frame, lead_ids, check_live)


def _decide_frame(
    engine: Engine, frame: pl.DataFrame, lead_ids: Sequence[str], check_live: pl.Series | None
) -> FrameDecisions:
    n = frame.height
    if len(lead_ids) != n:
        raise ValueError(f"{len(lead_ids)} lead ids for {n} rows")
    fields = engine.rules.fields

    def raw(key: str) -> pl.Series:
        if key in frame.columns:
            s = frame[key]
            if s.dtype != pl.String:
                raise TypeError(f'column "{key}" is {s.dtype}, not text (read with infer_schema=False)')
            return s
        return pl.Series(key, [None] * n, dtype=pl.String)

    columns: list[_Column | None] = [None] * len(fields)
    order = list(range(len(fields)))
    region: pl.Series | None = None
    country = next((i for i, f in enumerate(fields) if f.type is FieldType.COUNTRY), None)
    if country is not None:
        order.remove(country)
        order.insert(0, country)
        c = columns[country] = _column(engine, fields[country], raw(fields[country].key), None)
        region_of = [r[2] if r.__class__ is tuple else None for r in c.results]
        region = c.per_row(region_of, pl.String, "")
    for i, f in enumerate(fields):
        if columns[i] is None:
            columns[i] = _column(engine, f, raw(f.key), region)
    cols: list[_Column] = columns  # type: ignore[assignment]

    # Per row: the first problem's rank (over the fields, lead-level checks too) and whether a check raised.
    # Per row: the first problem's rank (over the fields, lead-level checks too) and whether a check raised,
    # folded in one column at a time so that only two row-long series are ever held.
    rank = pl.repeat(_BIG, n, dtype=pl.Int64, eager=True)
    failed = pl.repeat(False, n, dtype=pl.Boolean, eager=True)

    def fold(c: _Column, outcomes: list[Any], rank_of: Any) -> None:
        nonlocal rank, failed
        ranks = c.per_row([rank_of(r) for r in outcomes], pl.Int64, _BIG)
        rank = pl.select(pl.min_horizontal(rank, ranks)).to_series()
        raised = [r.__class__ is _Raised for r in outcomes]
        if any(raised):
            failed = failed | c.per_row(raised, pl.Boolean, False)

    for c in cols:
        fold(c, c.results, lambda r: _rank(r[1]) if r.__class__ is tuple else _BIG)
    if engine._not_live is not None:
        not_live = rank.clip(upper_bound=catalogue.ORDER[engine._not_live.code])
        if check_live is not None:
            not_live = pl.select(pl.when(check_live).then(not_live).otherwise(rank)).to_series()
        rank = not_live
    if engine._has_suppression:  # per distinct clean email, as the engine asks it per lead
        by_key = {c.key: c for c in cols}
        for key in engine._email_fields:
            c = by_key[key]
            found: list[Any] = []
            for r in c.results:
                try:
                    found.append(engine._suppression(key, r[0]) if r.__class__ is tuple and r[0] else None)
                except Exception as error:
                    found.append(_Raised(error))
            fold(c, found, lambda s: _rank((s,)) if isinstance(s, Problem) else _BIG)
    clean_mask = (rank == _BIG) & ~failed

    extra = _dedupe_and_allocate(engine, cols, lead_ids, clean_mask)

    final = pl.select(
        pl.when(failed).then(_FAILED_RANK).when(rank < _BIG).then(rank).otherwise(_ACCEPT_RANK).alias("c")
    ).to_series()
    if extra:
        rows = list(extra)
        final = final.scatter(
            rows, [_FAILED_RANK if isinstance(e, Exception) else _rank(tuple(e)) for e in extra.values()]
        )
    codes = final.replace_strict(_CODE_OF_RANK, return_dtype=pl.String)
    return FrameDecisions(engine, lead_ids, cols, order, codes, extra, check_live)


def _dedupe_and_allocate(
    engine: Engine, cols: list[_Column], lead_ids: Sequence[str], clean_mask: pl.Series
) -> dict[int, list[Problem] | Exception]:
    """The engine's dedupe and allocation step (``Engine._settle``) for the rows without problems, in order:
    what it rejects or fails, by row."""
    rows = pl.arange(0, len(clean_mask), eager=True).filter(clean_mask).to_list()
    if not rows:
        return {}
    by_key = {c.key: c for c in cols}

    def clean_values(key: str | None) -> list[Any]:
        if key is None:
            return [None] * len(rows)
        c = by_key[key]
        ids = c.ids.filter(clean_mask).to_list()
        fast = c.fast.filter(clean_mask).to_list() if c.fast is not None else ids
        results = c.results
        return [results[i][0] if i is not None else f for i, f in zip(ids, fast, strict=True)]

    # Settled in parts, sharing what was taken, so the pending leads never all exist at once.
    dedupe = engine.rules.dedupe is not None and engine._dedupe_kind is not None
    emails = clean_values(engine._email_key) if dedupe else None
    phones = clean_values(engine._phone_key) if dedupe else None
    no_keys: tuple[str, ...] = ()
    taken: dict[str, str] = {}
    verdicts: dict[int, list[Problem] | Exception] = {}
    for start in range(0, len(rows), _SETTLE_PART):
        part = rows[start : start + _SETTLE_PART]
        pending: list[tuple[str, tuple[str, ...]]] = []
        for i, row in enumerate(part, start):
            keys = no_keys
            if emails is not None and phones is not None:
                email = emails[i]
                keys = engine._index_keys(email.lower() if email else email, phones[i])
            pending.append((lead_ids[row], keys))
        for row, verdict in zip(part, engine._settle(pending, taken), strict=True):
            if verdict is not None:
                verdicts[row] = verdict
    return verdicts


__all__ = ["PY_WHITESPACE", "FrameDecisions", "decide_frame"]
