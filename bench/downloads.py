"""The Download Leads benchmark (issue 4): 1M leads as CSV, 100k leads as XLSX, and xlsxwriter as the peer.

    python -m bench.downloads WORKDIR            # prepare, then every step; prints the figures as JSON

:func:`measure_downloads` stores 1M leads in a fresh SQLite data directory under ``WORKDIR`` (their values
from the issue-2 generator, statuses and disposition codes mixed as an event's are), then runs each step in
a process of its own, so each one's peak memory is its own:

* ``csv`` — ``download`` of all 1M leads as CSV;
* ``xlsx`` — ``download`` of the first 100k leads (a ``--until`` on the submitted time) as XLSX;
* ``xlsxwriter`` — the same 100k rows' cells written with xlsxwriter's default API (``worksheet.write`` per
  cell, no ``constant_memory``), the way most Django exports write a workbook: the peer.

Each step prints one JSON object as its last line: ``seconds`` (the timed work only, not the interpreter's
start-up and imports) and ``peak_rss_mb`` (the process's peak resident memory, imports included).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time
from itertools import cycle, islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SLUG = "demo-summit"
CSV_LEADS = 1_000_000
XLSX_LEADS = 100_000
#: Distinct generated leads; the million cycles through them (generating a million takes half a minute
#: and changes nothing a download does).
DISTINCT = 100_000
START = dt.datetime(2026, 3, 14, 8, 0, tzinfo=dt.UTC)
# One lead a tenth of a second: the first XLSX_LEADS are those submitted before START + XLSX_LEADS / 10 s.
STEP = dt.timedelta(milliseconds=100)
#: (status, disposition code, share) as an event's leads come out: most accepted, the rest spread.
MIX = (
    ("accepted", "ACCEPT_LEAD", 80),
    ("rejected", "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN", 6),
    ("rejected", "REJECT_LEAD_INVALID_LIST_VALUE", 5),
    ("rejected", "REJECT_LEAD_MISSING_REQUIRED_FIELD", 3),
    ("rejected", "REJECT_LEAD_INVALID_PHONE", 2),
    ("rejected", "REJECT_LEAD_DUPLICATE", 2),
    ("in_review", "ACCEPT_LEAD", 1),
    ("processing", "", 1),
)
REASONS = {
    "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN": 'Email: domain "gmail.com" is on the list "Free mail providers"',
    "REJECT_LEAD_INVALID_LIST_VALUE": 'Job Level: "Chief" is not on picklist "Job Level"',
    "REJECT_LEAD_MISSING_REQUIRED_FIELD": "Opt-in: required",
    "REJECT_LEAD_INVALID_PHONE": 'Phone: "4.41632E+11" is a number a spreadsheet mangled',
    "REJECT_LEAD_DUPLICATE": "Duplicate of LD-01JDQ3ZZZZZZZZZZZZZZZZZZZZ",
}


def _env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["LEADGATE_DATA_DIR"] = str(workdir / "data")
    env["LEADGATE_DATABASE_URL"] = ""  # SQLite in the data dir: the embedded default
    env.pop("DJANGO_SETTINGS_MODULE", None)
    paths = (str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", ""))
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def _step(workdir: Path, step: str, timeout: float = 900) -> dict[str, Any]:
    """Run one step in a process of its own; its answer is the JSON of its last line."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.downloads", str(workdir), "--step", step],
        cwd=ROOT,
        env=_env(workdir),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    answer: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return answer


def measure_downloads(workdir: str | Path) -> dict[str, Any]:
    """Store 1M leads in a fresh SQLite data dir under ``workdir``, then time each download step.

    Returns ``{"prepare": {...}, "csv": {...}, "xlsx": {...}, "xlsxwriter": {...}, "xlsx_ratio": x}``;
    each step has ``seconds``, ``peak_rss_mb``, ``rows`` and ``mb`` (the file's size), or ``error``.
    ``xlsx_ratio`` is xlsxwriter's time over leadgate's XLSX time.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if (workdir / "data").exists():
        raise ValueError(f"{workdir / 'data'} exists: give a fresh work directory")
    out: dict[str, Any] = {"prepare": _step(workdir, "prepare", timeout=1800)}
    if "error" in out["prepare"]:
        return out
    for step in ("csv", "xlsx", "xlsxwriter"):
        out[step] = _step(workdir, step)
    leadgate, peer = out["xlsx"].get("seconds"), out["xlsxwriter"].get("seconds")
    out["xlsx_ratio"] = round(peer / leadgate, 1) if leadgate and peer else None
    return out


# --- the steps, each in its own process ---------------------------------------------------------------------


def _peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadgate.settings")
    django.setup()
    from leadgate.ops.services import migrate_if_needed

    migrate_if_needed()


def prepare(rows: int = CSV_LEADS) -> dict[str, Any]:
    """The demo source and ``rows`` leads, inserted directly (deciding them is not what is measured)."""
    import yaml
    from django.db import transaction

    from leadgate.demo.generator import generate_leads
    from leadgate.demo.services import definition
    from leadgate.leads.models import Lead
    from leadgate.leads.store import insert
    from leadgate.lib.ids import new_lead_id
    from leadgate.sources.definition_file import apply_definition
    from leadgate.sources.models import Source

    started = time.perf_counter()
    apply_definition(yaml.safe_dump(definition(), allow_unicode=True, sort_keys=False))
    source = Source.objects.get(slug=SLUG)
    rng = random.Random(2026)
    outcomes = [(status, code) for status, code, share in MIX for _ in range(share)]
    values = cycle(list(generate_leads(DISTINCT)))
    batch = 20_000
    for offset in range(0, rows, batch):
        leads = []
        for i, lead_values in enumerate(islice(values, min(batch, rows - offset)), start=offset):
            status, code = rng.choice(outcomes)
            at = START + STEP * i
            leads.append(
                {
                    "lead_id": new_lead_id(),
                    "source_id": source.pk,
                    "status": status,
                    "disposition_code": code,
                    "custom_reason": REASONS.get(code, ""),
                    "values": lead_values,
                    "clean": {},
                    "received_via": "event_app",
                    "submitted_at": at,
                    "processed_at": None if status == "processing" else at + dt.timedelta(seconds=1),
                    "updated_at": at + dt.timedelta(seconds=1),
                }
            )
        with transaction.atomic():
            insert(Lead, leads)
    return {"rows": rows, "seconds": round(time.perf_counter() - started, 2)}


def download_step(format: str, rows: int, path: Path) -> dict[str, Any]:
    from leadgate.files.downloads import download
    from leadgate.sources.models import Source

    source = Source.objects.get(slug=SLUG)
    until = START + STEP * rows if rows < CSV_LEADS else None
    started = time.perf_counter()
    with open(path, "wb") as out:
        written = download(source, out, format=format, until=until)
    return {"seconds": time.perf_counter() - started, "rows": written}


def xlsxwriter_step(rows: int, path: Path) -> dict[str, Any]:
    """The same cells through xlsxwriter's default API. The rows are read first, as the download reads
    them (not timed), then each cell goes through ``worksheet.write``."""
    import polars as pl
    import xlsxwriter

    from leadgate.files.downloads import lead_frames
    from leadgate.sources.models import Source

    source = Source.objects.get(slug=SLUG)
    table = pl.concat(list(lead_frames(source, until=START + STEP * rows))).fill_null("")
    header, body = table.columns, table.rows()
    del table
    started = time.perf_counter()
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Leads")
    for c, name in enumerate(header):
        sheet.write(0, c, name)
    for r, row in enumerate(body, start=1):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    workbook.close()
    return {"seconds": time.perf_counter() - started, "rows": len(body)}


def run_step(workdir: Path, step: str) -> dict[str, Any]:
    _setup()
    if step == "prepare":
        answer = prepare()
    elif step == "csv":
        answer = download_step("csv", CSV_LEADS, workdir / "leads.csv")
    elif step == "xlsx":
        answer = download_step("xlsx", XLSX_LEADS, workdir / "leads.xlsx")
    elif step == "xlsxwriter":
        answer = xlsxwriter_step(XLSX_LEADS, workdir / "xlsxwriter.xlsx")
    else:
        raise ValueError(step)
    files = {"csv": "leads.csv", "xlsx": "leads.xlsx", "xlsxwriter": "xlsxwriter.xlsx"}
    if step in files:
        answer["mb"] = round((workdir / files[step]).stat().st_size / 2**20, 1)
    answer["seconds"] = round(answer["seconds"], 2)
    answer["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    return answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.downloads", description=__doc__)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--step", choices=["prepare", "csv", "xlsx", "xlsxwriter"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        print(json.dumps(run_step(args.workdir, args.step)))
    else:
        print(json.dumps(measure_downloads(args.workdir), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
