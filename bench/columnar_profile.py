"""Time ``leadgate.rules.columnar.decide_frame`` on a CSV and check its counts against the row engine.

    python -m bench.columnar_profile [CSV] [--check-rows N]

Reads the CSV with ``polars.read_csv(infer_schema=False)``, decides it with one engine of
``bench.rules.default_rules()``, prints the seconds of the read, of decide_frame and the disposition
counts; then decides the first N rows (100k by default, 0 to skip) both ways and compares the counts
(and the Decisions, lead by lead).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from itertools import islice

import polars as pl

from bench.rules import default_rules
from leadgate.rules.columnar import decide_frame
from leadgate.rules.engine import Engine
from leadgate.rules.outcome import LeadInput


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("csv", nargs="?", default="/tmp/b1m.csv")
    parser.add_argument("--check-rows", type=int, default=100_000)
    args = parser.parse_args()

    start = time.perf_counter()
    frame = pl.read_csv(args.csv, infer_schema=False)
    read = time.perf_counter() - start
    ids = [f"LD-BENCH{n:08d}" for n in range(2, frame.height + 2)]  # as bench.contenders numbers them
    start = time.perf_counter()
    result = decide_frame(Engine(default_rules()), frame, ids)
    counts = result.counts()
    decide = time.perf_counter() - start
    print(f"rows {frame.height}: read {read:.2f} s, decide_frame {decide:.2f} s, total {read + decide:.2f} s")
    for code, count in sorted(counts.items(), key=lambda item: -item[1]):
        print(f"  {code:45} {count}")

    if args.check_rows:
        n = min(args.check_rows, frame.height)
        with open(args.csv, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            leads = [
                LeadInput(ids[i], dict(zip(header, row, strict=True)))
                for i, row in enumerate(islice(reader, n))
            ]
        start = time.perf_counter()
        expected = Engine(default_rules()).decide(leads)
        row_seconds = time.perf_counter() - start
        start = time.perf_counter()
        got = decide_frame(Engine(default_rules()), frame.head(n), ids[:n])
        col_seconds = time.perf_counter() - start
        same_counts = Counter(d.disposition_code for d in expected) == Counter(got.counts())
        mismatches = sum(1 for a, b in zip(expected, got, strict=True) if a != b)
        print(
            f"first {n} rows: row engine {row_seconds:.2f} s, columnar {col_seconds:.2f} s; "
            f"counts equal: {same_counts}; decisions differing: {mismatches}"
        )


if __name__ == "__main__":
    main()
