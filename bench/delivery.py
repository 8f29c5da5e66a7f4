"""``python -m bench delivery``: webhook deliveries to a local receiver that answers in 20 ms.

For each database a fresh data directory (SQLite) or a fresh ``leadgate_bench_delivery`` database
(PostgreSQL) gets a source with one webhook destination, and ``leadgate upload`` creates LEADS accepted leads
(so LEADS pending deliveries). Then ``leadgate worker`` processes start — the default set-up: one worker with
its default LEADGATE_DELIVERY_THREADS — and the clock runs from their start until the database says every
delivery is delivered. On PostgreSQL the run is repeated with 1, 2 and 4 worker processes.

The receiver is a separate process (asyncio, keep-alive HTTP/1.1) that answers each post 200 after 20 ms and
counts posts and distinct ``webhook-id``s, so a post made twice shows. Figures go to the "Deliveries" section
of docs/benchmarks.md (between ``<!-- bench:delivery -->`` markers); the exit status is 1 when the target is
missed on SQLite (the file is still written), unless ``--no-fail``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import report

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:delivery -->", "<!-- /bench:delivery -->"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/leadgate_bench_delivery"
ANSWER_SECONDS = 0.020
MIN_LEADS_PER_S = 500  # the target, on SQLite with the default worker set-up
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # a fixed test secret, never a real one
DEFINITION = """
destinations:
  - {{key: bench_hook, kind: webhook, url: "{url}", secret_env: BENCH_WEBHOOK_SECRET}}
sources:
  - slug: bench-delivery
    name: Delivery benchmark
    kind: api
    status: live
    destinations: [bench_hook]
    fields:
      - {{key: email, label: Email, type: email, required: true}}
      - {{key: first_name, label: First Name, type: text}}
      - {{key: company, label: Company, type: text}}
"""


# --- the receiver ------------------------------------------------------------------------------------------


def _receive(port: Any, posts: Any, ready: Any) -> None:
    """A process: answer every POST with 200 after ANSWER_SECONDS; count posts and distinct webhook-ids."""
    seen: set[str] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length, message_id = 0, ""
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"webhook-id":
                        message_id = value.strip().decode()
                await reader.readexactly(length)
                await asyncio.sleep(ANSWER_SECONDS)
                seen.add(message_id)
                posts[0] += 1
                posts[1] = len(seen)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port.value = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


@dataclass
class Receiver:
    process: multiprocessing.Process
    port: int
    posts: Any  # [posts, distinct webhook-ids]

    @classmethod
    def start(cls) -> Receiver:
        port = multiprocessing.Value("i", 0)
        posts = multiprocessing.Array("q", 2, lock=False)
        ready = multiprocessing.Event()
        process = multiprocessing.Process(target=_receive, args=(port, posts, ready), daemon=True)
        process.start()
        ready.wait(10)
        return cls(process, port.value, posts)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/leads"

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


# --- one run -----------------------------------------------------------------------------------------------


@dataclass
class Run:
    database: str
    workers: int
    leads: int
    seconds: float  # from starting the workers until every delivery is delivered
    steady: float  # from the first delivery to the last (startup excluded)
    posts: int
    distinct: int
    cpu_seconds: float  # the workers' CPU time

    @property
    def per_second(self) -> float:
        return self.leads / self.seconds

    @property
    def steady_per_second(self) -> float:
        return self.leads / self.steady if self.steady else 0.0


def _leadgate(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "leadgate", *args], env=env, capture_output=True, text=True, check=True
    ).stdout


def _counts(env: dict[str, str]) -> tuple[int, dt.datetime | None, dt.datetime | None]:
    """Delivered deliveries and the first and last delivery time, read straight from the database."""
    sql = (
        "SELECT count(*), min(delivered_at), max(delivered_at) FROM delivery_delivery"
        " WHERE state = 'delivered'"
    )
    url = env["LEADGATE_DATABASE_URL"]
    if url:
        import psycopg

        with psycopg.connect(url) as conn:
            n, first, last = conn.execute(sql).fetchone()  # type: ignore[misc]
        return n, first, last
    path = Path(env["LEADGATE_DATA_DIR"]) / "leadgate.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
        n, first, last = conn.execute(sql).fetchone()
    parse = dt.datetime.fromisoformat
    return n, parse(first) if first else None, parse(last) if last else None


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _fresh_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run(database: str, workers: int, leads: int, pg_url: str, timeout: float) -> Run:
    receiver = Receiver.start()
    with tempfile.TemporaryDirectory(prefix="leadgate-bench-delivery-") as tmp:
        env = {
            **os.environ,
            "LEADGATE_DATA_DIR": str(Path(tmp) / "data"),
            "LEADGATE_DATABASE_URL": pg_url if database == "postgresql" else "",
            "LEADGATE_ALLOW_PRIVATE_DESTINATIONS": "true",
            "BENCH_WEBHOOK_SECRET": SECRET,
            "LEADGATE_LOG_LEVEL": "WARNING",
        }
        if database == "postgresql":
            _fresh_postgres(pg_url)
        definition = Path(tmp) / "bench.yaml"
        definition.write_text(DEFINITION.format(url=receiver.url), encoding="utf-8")
        _leadgate(env, "apply", str(definition), "--json")
        rows = "\n".join(f"lead{i}@acme-corp.com,Lead {i},Acme {i % 97}" for i in range(leads))
        csv = Path(tmp) / "leads.csv"
        csv.write_text(f"email,first_name,company\n{rows}\n", encoding="utf-8")
        uploaded = json.loads(_leadgate(env, "upload", "bench-delivery", str(csv), "--json"))
        assert uploaded["accepted"] == leads, uploaded
        started = time.monotonic()
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "leadgate", "worker"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        try:
            while True:
                delivered, first, last = _counts(env)
                if delivered >= leads:
                    seconds = time.monotonic() - started
                    break
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"only {delivered:,} of {leads:,} delivered in {timeout:.0f} s")
                time.sleep(0.2)
            cpu = sum(_cpu_seconds(p.pid) for p in processes)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
            receiver.stop()
        steady = (last - first).total_seconds() if first and last else 0.0
        return Run(database, workers, leads, seconds, steady, receiver.posts[0], receiver.posts[1], cpu)


# --- the report --------------------------------------------------------------------------------------------


def render(runs: list[Run], machine: dict[str, Any], when: str) -> str:
    judged = [r for r in runs if r.database == "sqlite" and r.workers == 1]
    passed = all(r.per_second >= MIN_LEADS_PER_S for r in judged) if judged else None
    lines = [
        BEGIN,
        "## Deliveries (`python -m bench delivery`)",
        "",
        f"Run {when} on {machine['cpu']} ({machine['cores']} cores, {machine['memory_gib']:.1f} GiB), "
        f"{machine['system']}, {machine['python']}; leadgate {machine['leadgate_commit']}.",
        "",
        f"Webhook deliveries (one signed post per lead) to a local receiver that answers each post in "
        f"{ANSWER_SECONDS * 1000:.0f} ms. The leads are uploaded first; the clock runs from starting the "
        "`leadgate worker` processes until the database records every delivery as delivered (worker "
        "start-up included). *Steady* counts from the first delivery to the last. The receiver runs in its "
        "own process on the same 2-core machine.",
        "",
        f"Target: at least {MIN_LEADS_PER_S} leads/s on SQLite with the default set-up (one worker, "
        f"its default threads): **{'met' if passed else 'missed' if passed is False else 'not run'}**.",
        "",
        "| database | workers | leads | seconds | leads/s | steady leads/s | posts | distinct ids "
        "| workers' CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.database} | {r.workers} | {r.leads:,} | {r.seconds:.1f} | {r.per_second:,.0f} "
            f"| {r.steady_per_second:,.0f} | {r.posts:,} | {r.distinct:,} | {r.cpu_seconds:.1f} |"
        )
    pg = [r for r in runs if r.database == "postgresql"]
    if len(pg) > 1:
        base = pg[0].per_second
        curve = ", ".join(f"{r.workers} → {r.per_second / base:.2f}×" for r in pg)
        lines += ["", f"Scaling on PostgreSQL (leads/s relative to one worker): {curve}."]
    lines += [
        "",
        "Posts equal distinct ids when no lead was posted twice. The machine has two cores for the "
        "workers, the receiver and the database together, so more worker processes mostly add "
        "parallel posting, not CPU.",
        END,
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench delivery", description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2,4", help="worker counts on PostgreSQL")
    parser.add_argument("--pg-url", default=os.environ.get("LEADGATE_BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-fail", action="store_true")
    args = parser.parse_args(argv)
    runs = []
    for database in args.databases.split(","):
        counts = [1] if database == "sqlite" else [int(w) for w in args.workers.split(",")]
        for workers in counts:
            result = run(database, workers, args.leads, args.pg_url, args.timeout)
            print(
                f"{database}, {workers} worker(s): {result.leads:,} leads in {result.seconds:.1f} s = "
                f"{result.per_second:,.0f}/s (steady {result.steady_per_second:,.0f}/s), "
                f"{result.posts:,} posts, {result.distinct:,} distinct",
                flush=True,
            )
            runs.append(result)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    report.write_section(args.out, render(runs, report.machine(), when), BEGIN, END)
    judged = [r for r in runs if r.database == "sqlite" and r.workers == 1]
    missed = any(r.per_second < MIN_LEADS_PER_S for r in judged) or any(r.posts != r.distinct for r in runs)
    return 1 if missed and not args.no_fail else 0
