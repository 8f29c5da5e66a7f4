"""``python -m bench api``: the intake API under load, on SQLite and on PostgreSQL.

For each database, ``leadgate serve --no-demo`` runs as a subprocess on a fresh temporary data directory
(SQLite) or a fresh ``leadgate_bench`` database (PostgreSQL, created and dropped here), with the "demo-summit"
source of ``leadgate demo --leads 0`` and an ingestion key for it. A load generator on loopback then posts
leads from ``leadgate.demo.generator`` to ``POST /api/v1/sources/demo-summit/leads``:

* a warm-up of single-lead posts (not judged: it fills each web process's caches);
* single-lead posts, e.g. 20,000 requests at 16 concurrent clients: leads/s and latency percentiles;
* batch posts of 1,000 leads, e.g. 100 requests at 16 concurrent clients: leads/s.

The load generator is CONCURRENCY processes, each with one keep-alive HTTP/1.1 connection (``http.client``),
the requests split evenly between them, no retries (a retry could double a lead), bounded by the request
count and a deadline per phase. It shares the machine with the server, so its CPU time is measured and
reported, as is the server's (the process tree of ``leadgate serve``).

After each phase the stored leads are counted (``leadgate summary --json``) and compared with the leads
answered 201: nothing lost, nothing doubled. The figures replace the "Intake API" section of
docs/benchmarks.md (between ``<!-- bench:api -->`` markers). The exit status is 1 when a target or a count
check is missed (the file is still written), unless ``--no-fail``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import report

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:api -->", "<!-- /bench:api -->"
SLUG = "demo-summit"
PATH = f"/api/v1/sources/{SLUG}/leads"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/leadgate_bench"
LIBRARIES = ("leadgate", "django", "django-ninja", "gunicorn", "psycopg")

#: The issue's targets, judged on SQLite (the embedded default); PostgreSQL is reported against them.
CONCURRENCY = 16
MIN_SINGLE_LEADS_PER_S = 1_000
MAX_SINGLE_P99_MS = 100.0
MIN_BATCH_LEADS_PER_S = 20_000
JUDGED_DATABASE = "sqlite"

SINGLE, BATCH, WARMUP = "single", "batch", "warm-up"


# --- results ---------------------------------------------------------------------------------------------


@dataclass
class Phase:
    """One phase of requests against one server: what was sent, what came back, what it cost."""

    name: str
    requests_planned: int
    leads_per_request: int
    concurrency: int
    answers: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    leads_in_201s: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    client_cpu: float = 0.0
    server_cpu: dict[str, float] = field(default_factory=dict)
    machine_busy: float | None = None
    machine_cpu: float = 0.0
    stored_before: int = 0
    stored_after: int = 0
    deadline_hit: bool = False

    @property
    def requests(self) -> int:
        return sum(self.answers.values()) + sum(self.errors.values())

    @property
    def created(self) -> int:
        return self.answers[201]

    @property
    def stored(self) -> int:
        return self.stored_after - self.stored_before

    @property
    def leads_per_s(self) -> float:
        return self.leads_in_201s / self.seconds if self.seconds else 0.0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float | None:
        """Latency in ms at quantile ``q`` (nearest rank), of every request that got an answer."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    @property
    def web_cpu(self) -> float:
        return self.server_cpu.get("web", 0.0)

    @property
    def other_cpu(self) -> float:
        """CPU seconds of everything else on the machine during the phase (other people's work)."""
        return max(0.0, self.machine_cpu - sum(self.server_cpu.values()) - self.client_cpu)


@dataclass
class Check:
    name: str
    target: str
    result: str
    passed: bool | None


@dataclass
class DatabaseRun:
    database: str
    label: str
    phases: list[Phase] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    skipped: str = ""
    settings: dict[str, str] = field(default_factory=dict)


# --- the server ------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _leadgate(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadgate", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


_KEY_SCRIPT = """
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadgate.settings")
django.setup()
from leadgate.accounts.services import create_api_key
from leadgate.sources.models import Source
key, secret = create_api_key("bench", source=Source.objects.get(slug=%r))
print(json.dumps({"key": secret}))
"""


def prepare(env: dict[str, str]) -> str:
    """Create the demo source (no leads) and an ingestion key for it; returns the key's secret."""
    done = _leadgate(env, "demo", "--leads", "0", "--json")
    if done.returncode != 0:
        raise RuntimeError(f"leadgate demo failed: {_last_line(done.stderr or done.stdout)}")
    # `leadgate apikey create` where this checkout has it; else the service function it wraps.
    done = _leadgate(env, "apikey", "create", SLUG, "--json")
    if done.returncode == 0:
        return str(json.loads(done.stdout.strip().splitlines()[-1])["key"])
    done = subprocess.run(
        [sys.executable, "-c", _KEY_SCRIPT % SLUG],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"creating an ingestion key failed: {_last_line(done.stderr)}")
    return str(json.loads(done.stdout.strip().splitlines()[-1])["key"])


def stored_leads(env: dict[str, str]) -> tuple[int, dict[str, int]]:
    """The source's stored leads, in all and by status, as `leadgate summary` counts them."""
    done = _leadgate(env, "summary", SLUG, "--json")
    if done.returncode != 0:
        raise RuntimeError(f"leadgate summary failed: {_last_line(done.stderr or done.stdout)}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return int(data["total"]), {k: int(v) for k, v in data["status"].items()}


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


class Server:
    """``leadgate serve --no-demo`` on a free loopback port, its output in ``log``."""

    def __init__(self, env: dict[str, str], log: Path, database: str = "") -> None:
        self.env = env
        self.database = database
        self.port = _free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> None:
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "leadgate", "serve", "--no-demo", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() can end what it started
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"leadgate serve exited with {self.process.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"/healthz did not answer 200 within {timeout:.0f} s: {self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-5:])
        except OSError:
            return "no log"

    def cpu_snapshot(self) -> dict[int, tuple[str, float]]:
        """Each server process's kind and CPU seconds (user + system) so far: web (gunicorn), worker, rest
        of its tree, and the PostgreSQL backends serving its database (found by their process title)."""
        assert self.process is not None
        snapshot: dict[int, tuple[str, float]] = {}
        tree, cpu = _process_cpu(self.process.pid)
        for pid, seconds in cpu.items():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if pid not in tree:
                ours = self.database and f" {self.database} ".encode() in cmdline
                if ours and cmdline.startswith(b"postgres: "):
                    snapshot[pid] = ("database", seconds)
            elif b"gunicorn" in cmdline.split(b"\0"):
                snapshot[pid] = ("web", seconds)
            elif b"worker" in cmdline.split(b"\0"):
                snapshot[pid] = ("worker", seconds)
            else:
                snapshot[pid] = ("rest", seconds)
        return snapshot

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # serve stops its own children
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _cpu_used(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds by kind between two snapshots (a process that ended in between is not counted)."""
    used = {"web": 0.0, "worker": 0.0, "rest": 0.0, "database": 0.0}
    for pid, (kind, seconds) in after.items():
        earlier = before.get(pid)
        used[kind] += seconds - (earlier[1] if earlier and earlier[0] == kind else 0.0)
    return used


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu(root: int) -> tuple[set[int], dict[int, float]]:
    """``root`` and every process below it, and the CPU seconds of every process, from /proc."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree, cpu


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


# --- the load generator ----------------------------------------------------------------------------------


def _client(
    port: int,
    key: str,
    bodies: list[bytes],
    ready: Any,
    deadline_after: float,
    results: Any,
) -> None:
    """One client process: one keep-alive connection, its share of the bodies in order, no retries."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.connect()
    answers: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    leads = 0
    ready.wait()
    cpu0, start = time.process_time(), time.perf_counter()
    deadline = start + deadline_after
    stopped = False
    for body in bodies:
        if time.perf_counter() > deadline:
            stopped = True
            break
        sent = time.perf_counter()
        try:
            connection.request("POST", PATH, body, headers)
            answer = connection.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException) as exc:
            errors[type(exc).__name__] += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            continue
        latencies.append(time.perf_counter() - sent)
        answers[answer.status] += 1
        if answer.status == 201:
            decoded = json.loads(data)
            items = decoded if isinstance(decoded, list) else [decoded]
            leads += len(items)
            outcomes.update(item["status"] for item in items)
    end = time.perf_counter()
    results.put(
        {
            "answers": dict(answers),
            "errors": dict(errors),
            "outcomes": dict(outcomes),
            "latencies": latencies,
            "leads": leads,
            "start": start,
            "end": end,
            "cpu": time.process_time() - cpu0,
            "stopped": stopped,
        }
    )
    connection.close()


def run_phase(
    server: Server,
    key: str,
    name: str,
    bodies: list[bytes],
    leads_per_request: int,
    concurrency: int,
    timeout: float,
) -> Phase:
    """Send ``bodies`` from ``concurrency`` client processes; count answers, leads, latencies and CPU."""
    phase = Phase(name, len(bodies), leads_per_request, concurrency)
    phase.stored_before, _ = stored_leads(server.env)
    context = multiprocessing.get_context("fork")  # the bodies are inherited, not pickled
    ready = context.Barrier(concurrency + 1)
    results = context.Queue()
    clients = [
        context.Process(
            target=_client,
            args=(server.port, key, bodies[i::concurrency], ready, timeout, results),
            daemon=True,
        )
        for i in range(concurrency)
    ]
    for client in clients:
        client.start()
    ready.wait(timeout=60)  # every client connected
    cpu_before, busy_before = server.cpu_snapshot(), _machine_ticks()
    answers = [results.get(timeout=timeout + 180) for _ in clients]
    cpu_after, busy_after = server.cpu_snapshot(), _machine_ticks()
    for client in clients:
        client.join(timeout=30)

    phase.seconds = max(a["end"] for a in answers) - min(a["start"] for a in answers)
    for a in answers:
        phase.answers.update({int(k): v for k, v in a["answers"].items()})
        phase.errors.update(a["errors"])
        phase.outcomes.update(a["outcomes"])
        phase.latencies.extend(a["latencies"])
        phase.leads_in_201s += a["leads"]
        phase.client_cpu += a["cpu"]
        phase.deadline_hit |= a["stopped"]
    phase.server_cpu = _cpu_used(cpu_before, cpu_after)
    busy, total = busy_after[0] - busy_before[0], busy_after[1] - busy_before[1]
    phase.machine_busy = busy / total if total else None
    phase.machine_cpu = busy / _TICK
    phase.stored_after, _ = stored_leads(server.env)
    return phase


# --- one database ----------------------------------------------------------------------------------------


def _bodies(leads: list[dict[str, str]], per_request: int) -> list[bytes]:
    if per_request == 1:
        return [json.dumps(lead).encode() for lead in leads]
    return [json.dumps(leads[i : i + per_request]).encode() for i in range(0, len(leads), per_request)]


def bench_database(
    database: str, label: str, env: dict[str, str], workdir: Path, leads: dict[str, list[bytes]], args: Any
) -> DatabaseRun:
    run = DatabaseRun(database, label)
    say(f"\n{label}: preparing the source and a key …")
    key = prepare(env)
    server = Server(
        env, workdir / f"serve-{database}.log", _pg_admin(args.pg_url)[1] if database == "postgresql" else ""
    )
    server.start()
    served = json.loads(_leadgate(env, "check", "--json").stdout)  # the settings the server runs with
    run.settings = {
        "web workers": str(served["web_workers"]),
        "threads": f"{served['web_threads']} per web worker (gthread)",
        "rate limit": "LEADGATE_API_RATE_LIMIT=0 (off)",
    }
    say(f"  leadgate serve on port {server.port} (log: {server.log})")
    try:
        plan = [
            (WARMUP, leads[WARMUP], 1),
            (SINGLE, leads[SINGLE], 1),
            (BATCH, leads[BATCH], args.batch_size),
        ]
        for name, bodies, per_request in plan:
            if not bodies:
                continue
            count = f"{len(bodies):,} requests of {per_request:,} lead(s)"
            say(f"  {name}: {count}, {args.concurrency} clients …")
            phase = run_phase(server, key, name, bodies, per_request, args.concurrency, args.phase_timeout)
            run.phases.append(phase)
            say(f"    {describe(phase)}")
    finally:
        server.stop()
    run.checks = judge(run)
    return run


def describe(phase: Phase) -> str:
    p50, p99 = phase.percentile(0.50), phase.percentile(0.99)
    others = {k: v for k, v in phase.answers.items() if k != 201}
    return (
        f"{phase.requests:,} requests in {phase.seconds:.1f} s: {phase.leads_per_s:,.0f} leads/s, "
        f"{phase.requests_per_s:,.0f} requests/s, p50 {_ms(p50)}, p99 {_ms(p99)}; "
        f"{phase.created:,} × 201 with {phase.leads_in_201s:,} leads, {phase.stored:,} stored"
        + (f"; other answers {others}" if others else "")
        + (f"; errors {dict(phase.errors)}" if phase.errors else "")
        + f"; server CPU {phase.web_cpu:.1f} s, client CPU {phase.client_cpu:.1f} s"
    )


def judge(run: DatabaseRun) -> list[Check]:
    """Targets (judged on SQLite, reported on PostgreSQL) and the count check (judged on every database)."""
    judged = run.database == JUDGED_DATABASE
    checks: list[Check] = []
    phases = {p.name: p for p in run.phases}
    single, batch = phases.get(SINGLE), phases.get(BATCH)
    if single is not None:
        checks.append(
            Check(
                "single-lead posts: leads/s",
                f"≥ {MIN_SINGLE_LEADS_PER_S:,}",
                f"{single.leads_per_s:,.0f}",
                single.leads_per_s >= MIN_SINGLE_LEADS_PER_S if judged else None,
            )
        )
        p99 = single.percentile(0.99)
        checks.append(
            Check(
                "single-lead posts: p99 latency",
                f"≤ {MAX_SINGLE_P99_MS:g} ms",
                _ms(p99),
                (p99 is not None and p99 <= MAX_SINGLE_P99_MS) if judged else None,
            )
        )
    if batch is not None:
        checks.append(
            Check(
                f"{batch.leads_per_request:,}-lead batch posts: leads/s",
                f"≥ {MIN_BATCH_LEADS_PER_S:,}",
                f"{batch.leads_per_s:,.0f}",
                batch.leads_per_s >= MIN_BATCH_LEADS_PER_S if judged else None,
            )
        )
    for phase in run.phases:
        checks.append(
            Check(
                f"{phase.name}: stored leads = leads answered 201",
                f"= {phase.leads_in_201s:,}",
                f"{phase.stored:,}",
                phase.stored == phase.leads_in_201s,
            )
        )
        failed = phase.requests - phase.created
        checks.append(
            Check(
                f"{phase.name}: requests sent and not answered 201",
                "0",
                f"{failed:,}" + (f" ({_answers(phase)})" if failed else ""),
                failed == 0,
            )
        )
    return checks


# --- PostgreSQL ------------------------------------------------------------------------------------------


def _pg_admin(url: str) -> tuple[str, str]:
    """The maintenance connection string and the benchmark database's name, which must end in _bench."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = str(conninfo_to_dict(url).get("dbname") or "")
    if not name.endswith("_bench"):
        raise ValueError(f"--pg-url must name a database ending in _bench (it is dropped), not {name!r}")
    return make_conninfo(url, dbname="postgres"), name


def pg_recreate(url: str, drop_only: bool = False) -> str | None:
    """Drop and create the benchmark database; None when done, else why PostgreSQL is unavailable."""
    import psycopg
    from psycopg import sql

    admin, name = _pg_admin(url)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            if not drop_only:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        return _last_line(str(exc)) or type(exc).__name__
    return None


def _pg_version(url: str) -> str:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            return f"PostgreSQL {row[0]}" if row else "PostgreSQL"
    except psycopg.Error:
        return "PostgreSQL"


# --- the report ------------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "—" if value is None else (f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms")


def _answers(phase: Phase) -> str:
    parts = [f"{n:,} × {status}" for status, n in sorted(phase.answers.items()) if status != 201]
    parts += [f"{n:,} × {error}" for error, n in sorted(phase.errors.items())]
    if phase.deadline_hit:
        parts.append(f"stopped at the deadline after {phase.requests:,} of {phase.requests_planned:,}")
    return ", ".join(parts)


def _verdict(passed: bool | None) -> str:
    return "not judged" if passed is None else ("pass" if passed else "**MISSED**")


def render(runs: list[DatabaseRun], machine: dict[str, Any], started: dt.datetime, args: Any) -> str:
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    memory = f"{machine['memory_gib']:.1f} GiB RAM" if machine.get("memory_gib") else "RAM unknown"
    shown = [a for i, a in enumerate(args.argv) if a != "--out" and args.argv[i - 1 : i] != ["--out"]]
    command = " ".join(["python -m bench api", *(a for a in shown if not a.startswith("--out="))])
    served = next((r.settings for r in runs if r.settings), {})
    web_workers = served.get("web workers", "?")
    web_threads = served.get("threads", "4 per web worker").split()[0]
    lines = [
        BEGIN,
        "## Intake API",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `{command}` (`make bench` runs it after the rule-engine "
        "benchmark). The command writes this section: do not edit it by hand.",
        "",
        f"- **Machine:** {machine['cpu']}, {machine['cores']} cores, {memory}; {machine['system']}; "
        f"{machine['python']}; load average {machine['load']} when the run started. The server and the load "
        "generator share these cores.",
        f"- **leadgate:** commit {report.checkout_commit(ROOT, ('src', 'bench'))}; {', '.join(versions)}.",
        "- **Server:** `leadgate serve --no-demo --port <free port>`: gunicorn (gthread) with "
        f"{web_workers} web workers × {web_threads} threads (the defaults on this machine unless "
        "LEADGATE_WEB_WORKERS / LEADGATE_WEB_THREADS were set), plus the background worker; access log to a "
        "file. "
        "`LEADGATE_API_RATE_LIMIT=0`: the per-key rate limit (6,000 requests a minute by default) is off "
        "for the run, or it would be what is measured.",
        "- **Databases:** SQLite in a fresh temporary `LEADGATE_DATA_DIR` (WAL, as configured by leadgate); "
        f"PostgreSQL in a fresh database (`{_pg_admin(args.pg_url)[1]}`, dropped afterwards) on the same "
        "machine.",
        f"- **Source and leads:** `{SLUG}` from `leadgate demo --leads 0` (17 fields: email with free-mail "
        "and disposable domain lists, phone per country, country, state, three picklists with aliases, "
        "consent, lengths, date, URL, dedupe on email over 365 days, a suppression list), an ingestion key "
        "for it; "
        f"leads from `leadgate.demo.generator` (seed {args.seed}), every lead a different one, about 12% of "
        "them rejected by the rules (still answered 201: received and decided).",
        f"- **Load:** {args.concurrency} client processes on loopback, each with one keep-alive HTTP/1.1 "
        "connection (`http.client`), the requests split evenly between them and sent back to back, no "
        "retries; latency is from sending a request to the last byte of its answer. A warm-up of "
        f"{args.warmup:,} single-lead posts runs first and is not judged. Bounded by the request counts and "
        f"{args.phase_timeout:g} s a phase.",
        "- **Count check:** after each phase `leadgate summary --json` counts the stored leads; the new ones "
        "must equal the leads in the 201 answers (nothing lost, nothing doubled), and every request must be "
        "answered 201.",
        "- **Where the time goes:** `python -m bench.api_profile` (add `--batch-size 1000`, `--database "
        "postgresql`) calls the WSGI application in-process and breaks one request's time down by component "
        "with cProfile.",
        "",
        f"Targets (the issue's, at {CONCURRENCY} concurrent clients): single-lead posts ≥ "
        f"{MIN_SINGLE_LEADS_PER_S:,} leads/s with p99 ≤ {MAX_SINGLE_P99_MS:g} ms, and 1,000-lead batch "
        f"posts ≥ {MIN_BATCH_LEADS_PER_S:,} leads/s, judged on SQLite; PostgreSQL runs the same phases and "
        "is reported against the same figures. The count checks are judged on both.",
    ]
    for run in runs:
        lines += ["", f"### {run.label}", ""]
        if run.skipped:
            lines.append(f"Not run: {run.skipped}.")
            continue
        lines += [
            "| phase | requests | leads | seconds | leads/s | requests/s | p50 | p95 | p99 | max "
            "| 201s | leads in 201s | stored | other answers |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for p in run.phases:
            lines.append(
                f"| {p.name} ({p.leads_per_request:,} lead{'s' if p.leads_per_request > 1 else ''}/request) "
                f"| {p.requests:,} | {p.leads_in_201s:,} | {p.seconds:,.1f} | {p.leads_per_s:,.0f} "
                f"| {p.requests_per_s:,.0f} | {_ms(p.percentile(0.5))} | {_ms(p.percentile(0.95))} "
                f"| {_ms(p.percentile(0.99))} | {_ms(p.percentile(1.0))} | {p.created:,} "
                f"| {p.leads_in_201s:,} | {p.stored:,} | {_answers(p) or 'none'} |"
            )
        lines += ["", "| check | target | result | |", "|---|---|---|---|"]
        lines += [f"| {c.name} | {c.target} | {c.result} | {_verdict(c.passed)} |" for c in run.checks]
        cores = machine["cores"] or 1
        lines += [
            "",
            f"Where the CPU went, in CPU seconds of each phase (the machine has {cores} cores: {cores} CPU "
            "seconds a second at most). *Ceiling* is the leads/s the web processes and the database could "
            "reach with every core to themselves at the CPU cost per lead measured here.",
            "",
            "| phase | web (gunicorn) | … per request | … per lead | ceiling, leads/s | PostgreSQL backends "
            "| background worker | load generator | … per request | other processes | machine busy |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for p in run.phases:
            n, leads = max(p.requests, 1), max(p.leads_in_201s, 1)
            serving = p.web_cpu + p.server_cpu.get("database", 0.0)
            ceiling = f"{cores * leads / serving:,.0f}" if serving else "—"
            database = f"{p.server_cpu['database']:,.1f}" if run.database == "postgresql" else "—"
            busy = "—" if p.machine_busy is None else f"{p.machine_busy:.0%}"
            lines.append(
                f"| {p.name} | {p.web_cpu:,.1f} | {p.web_cpu / n * 1000:,.2f} ms "
                f"| {p.web_cpu / leads * 1000:,.3f} ms | {ceiling} | {database} "
                f"| {p.server_cpu.get('worker', 0.0):,.1f} | {p.client_cpu:,.1f} "
                f"| {p.client_cpu / n * 1000:,.2f} ms | {p.other_cpu:,.1f} | {busy} |"
            )
        busy = [p for p in run.phases if p.seconds and p.other_cpu / (p.seconds * cores) > 0.15]
        if busy:
            shares = ", ".join(f"{p.name} {p.other_cpu / (p.seconds * cores):.0%}" for p in busy)
            lines += [
                "",
                f"Other work on the machine took a share of its CPU during this run ({shares}): throughput "
                "and latency are worse than on a quiet machine; the CPU per request is the steadier figure.",
            ]
        status = Counter[str]()
        for p in run.phases:
            status.update(p.outcomes)
        if status:
            total = sum(status.values())
            shares = ", ".join(f"{k} {v:,} ({v / total:.1%})" for k, v in status.most_common())
            lines += ["", f"Outcomes in the 201 answers, all phases: {shares}."]
    lines.append(END)
    return "\n".join(lines) + "\n"


# --- the command -----------------------------------------------------------------------------------------


def say(text: str) -> None:
    print(text, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench api",
        description="Benchmark the intake API (leadgate serve) on SQLite and PostgreSQL.",
    )
    parser.add_argument(
        "--single", type=int, default=20_000, help="single-lead requests (default %(default)s)"
    )
    parser.add_argument("--batches", type=int, default=100, help="batch requests (default %(default)s)")
    parser.add_argument("--batch-size", type=int, default=1000, help="leads per batch (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=500, help="single-lead warm-up requests, not judged")
    parser.add_argument(
        "--concurrency", type=int, default=CONCURRENCY, help="client processes (default %(default)s)"
    )
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql (default: %(default)s)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("LEADGATE_BENCH_DATABASE_URL", DEFAULT_PG_URL),
        help="PostgreSQL database to create, use and drop; its name must end in _bench "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--phase-timeout", type=float, default=300, help="seconds a phase may send requests (default: 300)"
    )
    parser.add_argument("--seed", type=int, default=2027, help="generator seed (default: %(default)s)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="Markdown file to update (default: %(default)s)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data directory and the server logs")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even when a target is missed")
    args = parser.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[2:])
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = set(args.databases) - {"sqlite", "postgresql"}
    if unknown or not args.databases:
        parser.error("--databases takes sqlite and/or postgresql")
    if min(args.single, args.batches, args.warmup) < 0 or args.batch_size < 1 or args.concurrency < 1:
        parser.error("counts must not be negative, and --batch-size and --concurrency at least 1")
    try:
        _pg_admin(args.pg_url)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    machine = report.machine()
    say(f"leadgate intake API benchmark on {machine['cpu']} ({machine['cores']} cores), {args.databases}")

    total = args.warmup + args.single + args.batches * args.batch_size
    say(f"generating {total:,} leads (seed {args.seed}) …")
    from leadgate.demo.generator import generate_leads

    rows = list(generate_leads(total, seed=args.seed))
    cut = args.warmup + args.single
    leads = {
        WARMUP: _bodies(rows[: args.warmup], 1),
        SINGLE: _bodies(rows[args.warmup : cut], 1),
        BATCH: _bodies(rows[cut:], args.batch_size),
    }
    del rows

    base = {k: v for k, v in os.environ.items() if not k.startswith("LEADGATE_")}
    base.update(
        {
            "LEADGATE_API_RATE_LIMIT": "0",
            "LEADGATE_LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p),
        }
    )
    # Settings of the server that this run may be asked to vary (e.g. LEADGATE_WEB_WORKERS=3 make bench).
    for name in ("LEADGATE_WEB_WORKERS", "LEADGATE_PROCESS_BATCH_SIZE"):
        if os.environ.get(name):
            base[name] = os.environ[name]

    runs: list[DatabaseRun] = []
    workdir = Path(tempfile.mkdtemp(prefix="leadgate-bench-api-"))
    try:
        for database in args.databases:
            env = dict(base, LEADGATE_DATA_DIR=str(workdir / database))
            if database == "sqlite":
                label = f"SQLite {_sqlite_version()}"
            else:
                why = pg_recreate(args.pg_url)
                label = "PostgreSQL" if why else _pg_version(args.pg_url)
                if why:
                    say(f"\nPostgreSQL at {args.pg_url} not reachable ({why}): skipped")
                    runs.append(DatabaseRun(database, label, skipped=f"PostgreSQL not reachable ({why})"))
                    continue
                env["LEADGATE_DATABASE_URL"] = args.pg_url
            try:
                runs.append(bench_database(database, label, env, workdir, leads, args))
            finally:
                if database == "postgresql":
                    pg_recreate(args.pg_url, drop_only=True)
    finally:
        if args.keep:
            say(f"\nkept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    report.write_section(args.out, render(runs, machine, started, args), BEGIN, END)
    say(f"\nwrote {args.out}")
    failed = [(r.label, c) for r in runs for c in r.checks if c.passed is False]
    for r in runs:
        say(f"{r.label}:" + (f" skipped ({r.skipped})" if r.skipped else ""))
        for c in r.checks:
            say(f"  {c.name}: {c.result} (target {c.target}, {_verdict(c.passed)})")
    if failed:
        say("\nMISSED:")
        for label, check in failed:
            say(f"  {label}: {check.name}: {check.result} (target {check.target})")
        return 0 if args.no_fail else 1
    return 0


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


if __name__ == "__main__":
    raise SystemExit(main())
