"""``python -m bench``: the rule-engine benchmark.

For each size, a CSV of generated leads (leadgate.demo.generator) is written to a temporary directory (not
timed), then each contender reads and checks it in a process of its own (bench.contenders), so each one's peak
memory is its own:

* ``polars.read_csv`` of the file: the floor, what merely parsing the file costs;
* leadgate: the rule engine's bulk path with bench.rules.default_rules(): polars reads the file and
  ``decide_frame`` decides it column by column (what an uploaded file takes);
* leadgate row by row: the same Engine's ``decide`` on 10,000 LeadInputs a batch (what the API takes);
* the naive loop: csv.DictReader with email-validator, phonenumbers and picklist ``in`` checks per row;
* Frictionless ``validate`` with the closest Table Schema: the peer (capped by ``--peer-timeout``).

Then a sample of leads is decided again and leadgate's email and phone verdicts are compared with
email-validator's and phonenumbers' (there must be no disagreement), and the outcome is checked for sanity.
The figures replace the "Rule engine" section of docs/benchmarks.md. The exit status is 1 when a target
or a sanity check is missed (the file is still written), unless ``--no-fail``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import report
from leadgate.demo.generator import DEFAULT_SEED, expected_dispositions, write_csv

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
DEFAULT_SIZES = (100_000, 1_000_000)

#: The targets of the issue, judged on files of at least JUDGED_FROM leads (fixed costs blur smaller ones).
JUDGED_FROM = 1_000_000
MAX_RATIO_TO_POLARS = 25.0
MIN_NAIVE_RATIO = 6.0
MAX_PEAK_RSS_MB = 1.5 * 1024
#: Sanity bounds on leadgate's outcome, judged at every size.
ACCEPTED_SHARE = (0.80, 0.95)
MIN_CODES = 8
#: Leads whose disposition may differ from the generator's labels (a share of all leads).
MAX_OFF_LABEL = 0.01


@dataclass
class Run:
    """One contender on one file."""

    name: str
    seconds: float | None = None
    peak_rss_mb: float | None = None
    timed_out_after: float | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.seconds is not None


@dataclass
class Check:
    """A target or a sanity check; ``passed`` is None when it is only reported, not judged."""

    name: str
    target: str
    result: str
    passed: bool | None


@dataclass
class SizeResult:
    rows: int
    file_mb: float
    generate_seconds: float
    expected: Counter[str]
    runs: dict[str, Run]
    agreement: Run | None
    checks: list[Check] = field(default_factory=list)

    def ratio(self, numerator: str, denominator: str) -> float | None:
        a, b = self.runs.get(numerator), self.runs.get(denominator)
        if a is None or b is None or not a.ok or not b.ok or not b.seconds:
            return None
        return a.seconds / b.seconds  # type: ignore[operator]


def run_contender(args: list[str], timeout: float) -> Run:
    """Run ``python -m bench.contenders ARGS`` and read its JSON answer; kill it after ``timeout`` seconds."""
    name = args[0]
    env = dict(os.environ)
    # This checkout's src first: the contenders measure this leadgate, not whatever else is installed.
    paths = (str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", ""))
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.contenders", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        peak = _peak_rss_of(process.pid)
        process.kill()
        process.communicate()
        return Run(name, peak_rss_mb=peak, timed_out_after=timeout)
    if process.returncode != 0:
        return Run(name, error=(err.strip().splitlines() or ["no output"])[-1])
    answer = json.loads(out.strip().splitlines()[-1])
    return Run(name, answer.pop("seconds", None), answer.pop("peak_rss_mb", None), details=answer)


def _peak_rss_of(pid: int) -> float | None:
    """The peak resident memory of a running process (VmHWM), in MiB, or None where /proc cannot tell."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def bench_size(rows: int, workdir: Path, args: argparse.Namespace) -> SizeResult:
    path = workdir / f"leads-{rows}.csv"
    say(f"{rows:,} leads: generating {path.name} (seed {args.seed}) …")
    start = time.perf_counter()
    kinds = write_csv(path, rows, args.seed)
    generate_seconds = time.perf_counter() - start
    file_mb = path.stat().st_size / 2**20
    say(f"  written in {generate_seconds:.1f} s, {file_mb:.1f} MiB")

    csv_path = str(path)
    plan: list[tuple[str, list[str], float]] = [
        ("polars", ["polars", csv_path, "--repeat", str(args.polars_repeat)], args.timeout),
        ("leadgate", ["leadgate", csv_path, "--frame-batch", str(args.frame_batch)], args.timeout),
        ("leadgate-rows", ["leadgate-rows", csv_path, "--chunk-size", str(args.chunk_size)], args.timeout),
    ]
    if not args.skip_naive:
        plan.append(("naive", ["naive", csv_path], args.timeout))
    if not args.skip_frictionless:
        plan.append(("frictionless", ["frictionless", csv_path], args.peer_timeout))
    runs: dict[str, Run] = {}
    for name, contender_args, timeout in plan:
        say(f"  {report.LABELS[name]} …")
        run = runs[name] = run_contender(contender_args, timeout)
        say(f"    {report.describe(run)}")

    say("  agreement with email-validator and phonenumbers …")
    agreement = run_contender(
        ["agreement", csv_path, "--rows", str(rows), "--sample", str(args.sample)], args.timeout
    )
    say(f"    {report.describe_agreement(agreement)}")
    if not args.keep_csv:
        path.unlink()

    result = SizeResult(rows, file_mb, generate_seconds, expected_dispositions(kinds), runs, agreement)
    result.checks = judge(result)
    return result


def judge(result: SizeResult) -> list[Check]:
    """The issue's targets (judged from JUDGED_FROM leads) and the sanity checks (judged at every size)."""
    checks: list[Check] = []
    judged = result.rows >= JUDGED_FROM
    leadgate = result.runs["leadgate"]

    ratio = result.ratio("leadgate", "polars")
    checks.append(
        Check(
            report.CHECK_POLARS,
            f"≤ {MAX_RATIO_TO_POLARS:g}×",
            report.times(ratio),
            (ratio is not None and ratio <= MAX_RATIO_TO_POLARS) if judged else None,
        )
    )
    naive = result.runs.get("naive")
    if naive is not None:
        ratio = result.ratio("naive", "leadgate")
        checks.append(
            Check(
                report.CHECK_NAIVE,
                f"≥ {MIN_NAIVE_RATIO:g}×",
                report.times(ratio),
                (ratio is not None and ratio >= MIN_NAIVE_RATIO) if judged else None,
            )
        )
    peak = leadgate.peak_rss_mb
    checks.append(
        Check(
            report.CHECK_MEMORY,
            f"≤ {MAX_PEAK_RSS_MB / 1024:g} GiB",
            "—" if peak is None else f"{peak:,.0f} MiB",
            (peak is not None and peak <= MAX_PEAK_RSS_MB) if judged else None,
        )
    )
    peer = result.runs.get("frictionless")
    if peer is not None:
        checks.append(Check("Frictionless time / leadgate time", "(peer)", report.peer_ratio(result), None))

    codes: Counter[str] = Counter(leadgate.details.get("codes", {}))
    decided = sum(codes.values())
    checks.append(
        Check("leads decided", f"= {result.rows:,}", f"{decided:,}", leadgate.ok and decided == result.rows)
    )
    share = codes["ACCEPT_LEAD"] / decided if decided else 0.0
    low, high = ACCEPTED_SHARE
    checks.append(
        Check("accepted share", f"{low:.0%}–{high:.0%}", f"{share:.1%}", leadgate.ok and low <= share <= high)
    )
    checks.append(
        Check("distinct disposition codes", f"≥ {MIN_CODES}", str(len(codes)), len(codes) >= MIN_CODES)
    )
    off = sum(abs(codes[c] - result.expected[c]) for c in set(codes) | set(result.expected)) // 2
    checks.append(
        Check(
            "leads off the generator's expected dispositions (lower bound, from the counts)",
            f"≤ {MAX_OFF_LABEL:.0%}",
            f"{off:,} ({off / result.rows:.2%})",
            leadgate.ok and off <= MAX_OFF_LABEL * result.rows,
        )
    )
    rows_path = result.runs.get("leadgate-rows")
    if rows_path is not None:
        row_codes: Counter[str] = Counter(rows_path.details.get("codes", {}))
        differ = sum(abs(codes[c] - row_codes[c]) for c in set(codes) | set(row_codes)) // 2
        checks.append(
            Check(
                "bulk path vs row-by-row path: leads with another disposition (lower bound)",
                "0",
                f"{differ:,}" if rows_path.ok else "row-by-row path failed",
                leadgate.ok and rows_path.ok and differ == 0,
            )
        )
    agreement = result.agreement
    if agreement is not None:
        disagreements = agreement.details.get("disagreements")
        checks.append(
            Check(
                "disagreements with email-validator / phonenumbers",
                "0",
                report.describe_agreement(agreement),
                agreement.ok and disagreements == 0,
            )
        )
    return checks


def say(text: str) -> None:
    print(text, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the rule engine against polars.read_csv, Frictionless and a naive loop.",
    )
    parser.add_argument(
        "--sizes",
        default=",".join(str(n) for n in DEFAULT_SIZES),
        help="comma-separated lead counts (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="generator seed (default: %(default)s)"
    )
    parser.add_argument("--skip-naive", action="store_true", help="do not run the naive per-row loop")
    parser.add_argument("--skip-frictionless", action="store_true", help="do not run Frictionless (the peer)")
    parser.add_argument(
        "--peer-timeout",
        type=float,
        default=900,
        help="seconds Frictionless may take per file before it is stopped (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600,
        help="seconds any other contender may take (default: %(default)s)",
    )
    parser.add_argument("--chunk-size", type=int, default=10_000, help="leads per Engine.decide call")
    parser.add_argument(
        "--frame-batch",
        type=int,
        default=0,
        help="bulk path: decide the file in streamed frames of this many rows (default 0: one frame)",
    )
    parser.add_argument("--polars-repeat", type=int, default=3, help="polars reads to take the best of")
    parser.add_argument("--sample", type=int, default=20_000, help="leads in the agreement check")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="Markdown file to update (default: %(default)s)"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where to write the CSVs (default: a temporary directory)"
    )
    parser.add_argument("--keep-csv", action="store_true", help="keep the generated CSVs (with --workdir)")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even when a target is missed")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes comma-separated whole numbers, e.g. 100000,1000000")
    if not args.sizes or min(args.sizes) < 1:
        parser.error("--sizes needs at least one positive lead count")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    machine = report.machine()
    say(f"leadgate rule-engine benchmark on {machine['cpu']} ({machine['cores']} cores), sizes {args.sizes}")
    results = []
    with tempfile.TemporaryDirectory(prefix="leadgate-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for rows in args.sizes:
            results.append(bench_size(rows, workdir, args))

    section = report.render(results, machine, started, args)
    report.write_section(args.out, section)
    say(f"\nwrote {args.out}\n")
    failed = [(r.rows, c) for r in results for c in r.checks if c.passed is False]
    for r in results:
        say(report.summary(r))
    if failed:
        say("\nMISSED:")
        for rows, check in failed:
            say(f"  {rows:,} leads: {check.name}: {check.result} (target {check.target})")
        return 0 if args.no_fail else 1
    return 0
