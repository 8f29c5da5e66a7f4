"""The Upload Leads steps of the files benchmark (issue 4), each run in a process of its own.

    python -m bench.uploads upload CSV --data DIR [--database-url URL]
    python -m bench.uploads reupload CSV --data DIR [--database-url URL]

``upload``: a fresh database with the demo source (``leadgate demo --leads 0``: the generator's 17 fields and
the rules of a live event), then ``leadgate.files.uploads.upload_file`` of CSV end to end (sniff, parse,
decide, store in parts, count), then the source's summary, which must agree with the upload's counts.

``reupload``: the seed's loop at scale. Untimed set-up: the "industry" picklist loses its values, the file
is uploaded (nearly every lead is rejected with REJECT_LEAD_INVALID_LIST_VALUE), the rejected leads are
downloaded as CSV and the values are put back (the picklist fix). Timed: uploading the downloaded file
until every lead shows its new status.

Each step prints one JSON object as its last line: ``seconds`` (the timed work only) and ``peak_rss_mb``
(the process's peak resident memory), plus counts.
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


def _setup(data: Path, database_url: str) -> None:
    os.environ["LEADGATE_DATA_DIR"] = str(data)
    os.environ["LEADGATE_DATABASE_URL"] = database_url
    # A million generated rows are about 210 MB: over the default limit of 100 MB.
    os.environ.setdefault("LEADGATE_UPLOAD_MAX_MB", "1024")
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadgate.settings"
    import django

    django.setup()
    from leadgate.ops.services import migrate_if_needed

    migrate_if_needed()


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def upload_step(csv: Path) -> dict[str, Any]:
    from leadgate.demo.services import build_demo
    from leadgate.files.uploads import upload_file
    from leadgate.leads.services import summary

    source = build_demo(0)
    start = time.perf_counter()
    upload = upload_file(source, csv)
    counts = summary(source)
    seconds = time.perf_counter() - start
    if upload.error:
        raise SystemExit(f"upload failed: {upload.error}")
    return {
        "seconds": round(seconds, 2),
        "rows": upload.rows,
        "created": upload.created,
        "accepted": upload.accepted,
        "rejected": upload.rejected,
        "summary_total": counts["total"],
        "summary_accepted": counts["status"]["accepted"],
        "summary_agrees": counts["total"] == upload.created
        and counts["status"]["accepted"] == upload.accepted
        and counts["status"]["rejected"] == upload.rejected,
    }


def reupload_step(csv: Path, data: Path) -> dict[str, Any]:
    from leadgate.demo.services import build_demo
    from leadgate.files.downloads import download
    from leadgate.files.uploads import upload_file
    from leadgate.leads.models import Lead
    from leadgate.sources.models import Picklist
    from leadgate.sources.services import add_picklist_values, set_picklist_aliases

    source = build_demo(0)
    industry = Picklist.objects.get(key="industry")
    values = list(industry.values.values_list("value", flat=True))
    aliases = dict(industry.aliases.values_list("alias", "value__value"))
    industry.values.all().delete()  # its aliases go with them
    first = upload_file(source, csv)
    rejected_file = data / "rejected.csv"
    with rejected_file.open("wb") as out:
        rows = download(source, out, format="csv", statuses=["rejected"])
    add_picklist_values(industry, values)
    set_picklist_aliases(industry, aliases)
    start = time.perf_counter()
    upload = upload_file(source, rejected_file)
    seconds = time.perf_counter() - start
    if upload.error:
        raise SystemExit(f"re-upload failed: {upload.error}")
    # The loop must end where an upload with the fixed picklist from the start would have: the runner
    # compares this count with the plain upload of the same file.
    final = Lead.objects.filter(source=source, status="accepted").count()
    return {
        "seconds": round(seconds, 2),
        "first_upload_rejected": first.rejected,
        "rows": rows,
        "updated": upload.updated,
        "unchanged": upload.unchanged,
        "created": upload.created,
        "accepted": upload.accepted,
        "rejected": upload.rejected,
        "source_accepted": final,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.uploads", description=__doc__)
    parser.add_argument("step", choices=["upload", "reupload"])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--data", type=Path, required=True, help="a fresh data directory")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite in --data)")
    args = parser.parse_args(argv)
    _setup(args.data, args.database_url)
    answer = upload_step(args.csv) if args.step == "upload" else reupload_step(args.csv, args.data)
    answer["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
