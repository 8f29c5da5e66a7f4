"""Run the peer: ``python -m bench.peer_import_export CSV_PATH --db DIR [--mode bulk|default]``.

Prints one JSON line: ``rows``, ``dry_run_seconds``, ``import_seconds``, ``total_seconds`` (reading the file
with tablib + dry run + import), ``imported``, ``invalid``, ``errors``, then ``read_seconds``, ``mode``,
``dry_run_invalid`` (what the dry run found) and ``peak_rss_mb`` (the process's peak resident memory).
Django start-up and the migration of the fresh database are not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

DB_NAME = "peer.sqlite3"


def _fresh_database(folder: str) -> Path:
    """``DIR/peer.sqlite3``, with any copy left by an earlier run removed."""
    directory = Path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / DB_NAME
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def _setup(db_path: Path) -> None:
    # Always the peer's own settings, whatever DJANGO_SETTINGS_MODULE the caller had set.
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.peer_import_export.settings"
    os.environ["PEER_IMPORT_EXPORT_DB"] = str(db_path)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def _details(result: Any) -> dict[str, Any]:
    return {
        "totals": dict(result.totals),
        "base_errors": [repr(e.error) for e in result.base_errors],
        "error_rows": {str(r.number): [repr(e.error) for e in r.errors] for r in result.row_errors()},
        "invalid_rows": {str(r.number): r.error_dict for r in result.invalid_rows},
    }


def run(csv_path: str, db_dir: str, mode: str, details_path: str | None = None) -> dict[str, Any]:
    _setup(_fresh_database(db_dir))
    # Imported only now: they need the settings.
    import pycountry
    from import_export.formats.base_formats import CSV

    from bench.peer_import_export.leads.models import Lead
    from bench.peer_import_export.leads.resources import RESOURCES

    resource_class = RESOURCES[mode]
    pycountry.countries.lookup("US")  # load pycountry's databases: start-up, not work
    pycountry.subdivisions.get(country_code="US")

    start = time.perf_counter()
    # What the admin's import view does with an uploaded CSV: decode it, then tablib.import_set.
    with open(csv_path, "rb") as f:
        dataset = CSV().create_dataset(f.read().decode("utf-8"))
    read = time.perf_counter()
    dry = resource_class().import_data(dataset, dry_run=True, collect_failed_rows=True)
    dried = time.perf_counter()
    result = resource_class().import_data(dataset, dry_run=False, collect_failed_rows=True)
    done = time.perf_counter()

    imported = result.totals["new"]
    stored = Lead.objects.count()
    if stored != imported:
        print(f"warning: {imported} rows reported as new, {stored} stored", file=sys.stderr)
    if details_path:
        Path(details_path).write_text(
            json.dumps(
                {"dry_run": _details(dry), "import": _details(result)}, ensure_ascii=False, default=str
            )
        )
    return {
        "rows": len(dataset),
        "dry_run_seconds": round(dried - read, 3),
        "import_seconds": round(done - dried, 3),
        "total_seconds": round(done - start, 3),
        "imported": imported,
        "invalid": result.totals["invalid"],
        "errors": result.totals["error"] + len(result.base_errors),
        "read_seconds": round(read - start, 3),
        "mode": mode,
        "dry_run_invalid": dry.totals["invalid"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peer_import_export", description=__doc__)
    parser.add_argument(
        "csv_path", metavar="CSV_PATH", help="a CSV written by leadgate.demo.generator.write_csv"
    )
    parser.add_argument("--db", required=True, metavar="DIR", help="folder for the fresh SQLite database")
    parser.add_argument(
        "--mode",
        choices=("bulk", "bulk-preloaded", "default"),
        default="bulk",
        help="bulk: the docs' performance tuning (use_bulk, force_init_instance, skip_diff; the default); "
        "default: ModelResource as it comes (save() per row, diffs)",
    )
    parser.add_argument(
        "--details", metavar="PATH", help="also write every row error and invalid row as JSON"
    )
    args = parser.parse_args(argv)
    print(json.dumps(run(args.csv_path, args.db, args.mode, args.details)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
