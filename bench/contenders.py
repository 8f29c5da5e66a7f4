"""The contenders of the rule-engine benchmark. bench.run starts each in a process of its own.

    python -m bench.contenders polars|leadgate|frictionless|naive|agreement CSV [options]

Each prints one JSON object as its last line of output: ``seconds`` (the timed work only: imports and
interpreter start-up are not timed), ``rows`` and ``peak_rss_mb`` (the process's peak resident memory,
interpreter and imports included), plus what that contender found. Every contender reads the same file,
which the page cache holds after it was written, so none pays for the disk.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from typing import Any

#: A pattern for email syntax, as a Table Schema user would write one (Frictionless has no IDNA check).
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"
#: A pattern for a phone number: digits and the usual separators (Table Schema cannot ask phonenumbers).
PHONE_PATTERN = r"\+?[0-9 ()./\-]{5,30}"
CONSENT_TRUE = ["true", "True", "TRUE", "yes", "Yes", "YES", "1"]
CONSENT_FALSE = ["false", "False", "FALSE", "no", "No", "NO", "0"]


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def lead_batches(path: str, size: int) -> Iterator[list[Any]]:
    """The CSV's rows as ``LeadInput``s in batches of ``size``, read with the stdlib csv module.

    Lead ids are ``LD-BENCH`` plus the row number (the header is row 1), never all digits.
    """
    from leadgate.rules.outcome import LeadInput

    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        number = 1
        while batch := list(islice(reader, size)):
            leads = []
            for row in batch:
                number += 1
                leads.append(LeadInput(f"LD-BENCH{number:08d}", dict(zip(header, row, strict=True))))
            yield leads


# --- the floor ---------------------------------------------------------------------------------------


def run_polars(path: str, repeat: int = 3) -> dict[str, Any]:
    """``polars.read_csv`` of the file: the best of ``repeat`` reads (the floor is taken at its lowest)."""
    import polars as pl

    times = []
    rows = 0
    for _ in range(repeat):
        start = time.perf_counter()
        frame = pl.read_csv(path)
        times.append(time.perf_counter() - start)
        rows = frame.height
        del frame
    return {"seconds": min(times), "all_seconds": times, "rows": rows, "threads": pl.thread_pool_size()}


# --- leadgate ------------------------------------------------------------------------------------------


def run_leadgate(path: str, frame_batch: int = 0) -> dict[str, Any]:
    """The rule engine's bulk path on the whole file: polars reads it, ``decide_frame`` decides every row.

    With ``frame_batch`` the file is streamed (``scan_csv(...).collect_batches``) and decided in frames of
    that many rows on one Engine, so dedupe carries over and memory stays bounded however big the file;
    with 0 the whole file is one frame. Timed from reading the file to the disposition counts, including
    building the Engine (domain lists); ``decide_seconds`` is the part spent deciding.
    """
    import polars as pl

    from bench.rules import default_rules
    from leadgate.rules.columnar import decide_frame
    from leadgate.rules.engine import Engine

    clock = time.perf_counter
    start = clock()
    engine = Engine(default_rules())
    if frame_batch:
        frames = pl.scan_csv(path, infer_schema=False).collect_batches(chunk_size=frame_batch)
    else:
        frames = iter([pl.read_csv(path, infer_schema=False)])
    codes: Counter[str] = Counter()
    rows = 0
    deciding = 0.0
    for frame in frames:
        lead_ids = [f"LD-BENCH{number:08d}" for number in range(rows + 2, rows + frame.height + 2)]
        began = clock()
        codes.update(decide_frame(engine, frame, lead_ids).counts())
        deciding += clock() - began
        rows += frame.height
    return {"seconds": clock() - start, "decide_seconds": deciding, "rows": rows, "codes": dict(codes)}


def run_leadgate_rows(path: str, chunk_size: int = 10_000) -> dict[str, Any]:
    """The rule engine row by row, as the API uses it: one Engine (so dedupe carries over), batches of
    ``chunk_size`` LeadInputs from the stdlib csv reader; ``decide_seconds`` is the part in ``decide``.
    """
    from bench.rules import default_rules
    from leadgate.rules.engine import Engine

    rules = default_rules()
    codes: Counter[str] = Counter()
    start = time.perf_counter()
    engine = Engine(rules)
    rows = 0
    deciding = 0.0
    clock = time.perf_counter
    for leads in lead_batches(path, chunk_size):
        began = clock()
        decisions = engine.decide(leads)
        deciding += clock() - began
        for decision in decisions:
            codes[decision.disposition_code] += 1
        rows += len(leads)
    return {
        "seconds": time.perf_counter() - start,
        "decide_seconds": deciding,
        "rows": rows,
        "codes": dict(codes),
    }


# --- the peer --------------------------------------------------------------------------------------------


def peer_schema() -> dict[str, Any]:
    """The closest Table Schema to bench.rules.default_rules().

    Types, required, maxLength, enums for the picklists (their values and aliases, matched exactly, as
    Table Schema has no case-insensitive or alias matching), a pattern for email and phone, unique emails,
    an enum of ISO names and codes for country (plus the generator's other spellings, which leadgate
    resolves), consent as a boolean that must be true, an ISO date and a URI. Table Schema
    cannot express free-mail or disposable domain lists, phone validity per country, or a state checked
    against its country, so the peer does less than the engine.
    """
    import pycountry

    from leadgate.demo.generator import (
        COLUMNS,
        COMPANY_SIZE_ALIASES,
        COMPANY_SIZES,
        COUNTRY_SPELLINGS,
        INDUSTRIES,
        INDUSTRY_ALIASES,
        JOB_LEVEL_ALIASES,
        JOB_LEVELS,
    )

    # ISO names and codes, plus the other spellings the generated leads use (leadgate resolves those too).
    countries: set[str] = set(COUNTRY_SPELLINGS)
    for c in pycountry.countries:
        for attribute in ("alpha_2", "alpha_3", "name", "common_name", "official_name"):
            value = getattr(c, attribute, None)
            if value:
                countries.add(value)

    fields: dict[str, dict[str, Any]] = {key: {"name": key, "type": "string"} for key in COLUMNS}
    fields["email"]["constraints"] = {"required": True, "unique": True, "pattern": EMAIL_PATTERN}
    fields["first_name"]["constraints"] = {"required": True, "maxLength": 40}
    fields["last_name"]["constraints"] = {"required": True, "maxLength": 40}
    fields["company"]["constraints"] = {"maxLength": 80}
    fields["job_level"]["constraints"] = {"enum": [*JOB_LEVELS, *JOB_LEVEL_ALIASES]}
    fields["company_size"]["constraints"] = {"enum": [*COMPANY_SIZES, *COMPANY_SIZE_ALIASES]}
    fields["industry"]["constraints"] = {"enum": [*INDUSTRIES, *INDUSTRY_ALIASES]}
    fields["country"]["constraints"] = {"required": True, "enum": sorted(countries)}
    fields["phone"]["constraints"] = {"pattern": PHONE_PATTERN}
    fields["opt_in"].update(
        type="boolean",
        trueValues=CONSENT_TRUE,
        falseValues=CONSENT_FALSE,
        constraints={"required": True, "enum": [True]},
    )
    fields["registered_on"]["type"] = "date"
    fields["website"]["format"] = "uri"
    fields["notes"]["constraints"] = {"maxLength": 500}
    return {"fields": [fields[key] for key in COLUMNS]}


def run_frictionless(path: str) -> dict[str, Any]:
    """Frictionless ``validate`` with :func:`peer_schema`, with no error limit, so every row is validated."""
    from frictionless import Resource, Schema

    start = time.perf_counter()
    # Frictionless refuses absolute paths as unsafe; relative to a basepath they are fine.
    folder, name = os.path.split(os.path.abspath(path))
    resource_ = Resource(name, basepath=folder, schema=Schema.from_descriptor(peer_schema()))
    # limit_errors=0 switches the limit off (the default stops at 1,000 errors, long before the last row).
    report = resource_.validate(limit_errors=0)
    seconds = time.perf_counter() - start
    task = report.tasks[0]
    if not task.stats.get("rows"):
        notes = "; ".join(f"{e.type}: {e.note}" for e in task.errors[:3])
        raise RuntimeError(f"Frictionless validated no rows ({notes})")
    invalid_rows = {e.row_number for e in task.errors if getattr(e, "row_number", None)}
    return {
        "seconds": seconds,
        "rows": task.stats.get("rows"),
        "errors": task.stats.get("errors"),
        "invalid_rows": len(invalid_rows),
        "warnings": list(task.warnings),
    }


# --- the naive loop ----------------------------------------------------------------------------------


def run_naive(path: str) -> dict[str, Any]:
    """What one writes first: csv.DictReader and, per row, email-validator, phonenumbers and ``in`` checks.

    The country names the phone's region where it is one the generator writes.
    """
    import phonenumbers
    from email_validator import EmailNotValidError, validate_email

    from leadgate.demo.generator import (
        COMPANY_SIZE_ALIASES,
        COMPANY_SIZES,
        COUNTRY_SPELLINGS,
        INDUSTRIES,
        INDUSTRY_ALIASES,
        JOB_LEVEL_ALIASES,
        JOB_LEVELS,
    )

    picklists = {
        "job_level": {*JOB_LEVELS, *JOB_LEVEL_ALIASES},
        "company_size": {*COMPANY_SIZES, *COMPANY_SIZE_ALIASES},
        "industry": {*INDUSTRIES, *INDUSTRY_ALIASES},
    }
    start = time.perf_counter()
    rows = invalid = 0
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            rows += 1
            ok = True
            try:
                validate_email(row["email"].strip(), check_deliverability=False)
            except EmailNotValidError:
                ok = False
            phone = row["phone"].strip()
            if phone:
                try:
                    number = phonenumbers.parse(phone, COUNTRY_SPELLINGS.get(row["country"].strip()))
                    ok = phonenumbers.is_valid_number(number) and ok
                except phonenumbers.NumberParseException:
                    ok = False
            for key, allowed in picklists.items():
                value = row[key].strip()
                if value and value not in allowed:
                    ok = False
            invalid += not ok
    return {"seconds": time.perf_counter() - start, "rows": rows, "invalid_rows": invalid}


# --- agreement with the maintained libraries ---------------------------------------------------------


def run_agreement(path: str, rows: int, sample: int = 20_000, chunk_size: int = 10_000) -> dict[str, Any]:
    """Compare leadgate's email and phone verdicts with email-validator's and phonenumbers' on a sample.

    Every ``rows // sample``-th lead is decided by a fresh Engine on each path, row by row
    (``Engine.decide``) and in bulk (``decide_frame``); email and phone verdicts do not depend on other
    leads. Email: leadgate says invalid iff it reports INVALID_EMAIL on the field; the library iff
    ``validate_email(value.strip(), check_deliverability=False)`` raises. Phone, where leadgate resolved
    the lead's country: INVALID_PHONE against ``phonenumbers.parse`` + ``is_valid_number`` with that
    country as the region. Empty values are not compared (they are the required-field check's).
    """
    import phonenumbers
    import polars as pl
    from email_validator import EmailNotValidError, validate_email

    from bench.rules import default_rules
    from leadgate.rules import catalogue
    from leadgate.rules.columnar import decide_frame
    from leadgate.rules.engine import Engine
    from leadgate.rules.geo import resolve_country

    start = time.perf_counter()
    step = max(1, rows // sample)
    picked = []
    index = 0
    for batch in lead_batches(path, chunk_size):
        for lead in batch:
            if index % step == 0 and len(picked) < sample:
                picked.append(lead)
            index += 1

    row_decisions = []
    engine = Engine(default_rules())
    for i in range(0, len(picked), chunk_size):
        row_decisions.extend(engine.decide(picked[i : i + chunk_size]))
    columns = list(picked[0].values) if picked else []
    frame = pl.DataFrame(
        {c: [lead.values[c] for lead in picked] for c in columns}, schema={c: pl.String for c in columns}
    )
    bulk = decide_frame(Engine(default_rules()), frame, [lead.lead_id for lead in picked])
    paths = {"row by row": row_decisions, "bulk": [bulk[i] for i in range(len(picked))]}

    emails = phones = 0
    disagreements: list[dict[str, Any]] = []
    for i, lead in enumerate(picked):
        email = (lead.values.get("email") or "").strip()
        phone = (lead.values.get("phone") or "").strip()
        country = resolve_country((lead.values.get("country") or "").strip())
        email_invalid = phone_invalid = None
        if email:
            emails += 1
            try:
                validate_email(email, check_deliverability=False)
                email_invalid = False
            except EmailNotValidError:
                email_invalid = True
        if phone and country is not None:
            phones += 1
            try:
                phone_invalid = not phonenumbers.is_valid_number(phonenumbers.parse(phone, country.alpha2))
            except phonenumbers.NumberParseException:
                phone_invalid = True
        for name, decisions in paths.items():
            codes = {(p.field, p.code) for p in decisions[i].problems}
            if email_invalid is not None and email_invalid != (("email", catalogue.INVALID_EMAIL) in codes):
                disagreements.append(
                    {"path": name, "field": "email", "value": email, "library_invalid": email_invalid}
                )
            if phone_invalid is not None and phone_invalid != (("phone", catalogue.INVALID_PHONE) in codes):
                disagreements.append(
                    {
                        "path": name,
                        "field": "phone",
                        "value": phone,
                        "region": country.alpha2 if country else None,
                        "library_invalid": phone_invalid,
                    }
                )
    return {
        "seconds": time.perf_counter() - start,
        "rows": len(picked),
        "paths": list(paths),
        "emails_compared": emails,
        "phones_compared": phones,
        "disagreements": len(disagreements),
        "examples": disagreements[:10],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.contenders", description=__doc__)
    parser.add_argument(
        "contender", choices=("polars", "leadgate", "leadgate-rows", "frictionless", "naive", "agreement")
    )
    parser.add_argument("csv")
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument(
        "--frame-batch", type=int, default=0, help="leadgate: rows a frame (0: the whole file)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="polars: reads to take the best of")
    parser.add_argument("--rows", type=int, default=0, help="agreement: rows in the file")
    parser.add_argument("--sample", type=int, default=20_000, help="agreement: leads to compare")
    args = parser.parse_args(argv)

    if args.contender == "polars":
        result = run_polars(args.csv, args.repeat)
    elif args.contender == "leadgate":
        result = run_leadgate(args.csv, args.frame_batch)
    elif args.contender == "leadgate-rows":
        result = run_leadgate_rows(args.csv, args.chunk_size)
    elif args.contender == "frictionless":
        result = run_frictionless(args.csv)
    elif args.contender == "naive":
        result = run_naive(args.csv)
    else:
        result = run_agreement(args.csv, args.rows, args.sample, args.chunk_size)
    result["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
