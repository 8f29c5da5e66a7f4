"""``python -m bench.api_profile``: where one intake request's time goes, without HTTP or contention.

Calls leadgate's WSGI application in this process, one request after another (as one gunicorn thread
would, without the socket), on a fresh SQLite data directory or PostgreSQL database with the demo source:

1. a warm-up, then ``--requests`` posts timed without a profiler: wall and CPU ms per request;
2. the same number of posts under cProfile: each component's share of the time, scaled to the
   unprofiled wall time (cProfile slows Python code more than C code, so shares are approximate).

Components are inclusive times of leadgate's and Django's own functions, taken from cProfile's
caller/callee table, so "Source lookup" is the time of ``QuerySet.first`` called from ``post_leads``.
Nothing here is judged: it explains the figures of ``python -m bench api``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# (label, depth, callee file suffix, callee name, caller file suffix or "", caller name or "")
Component = tuple[str, int, str, str, str, str]
COMPONENTS: tuple[Component, ...] = (
    ("WSGI application (Django handler, all of it)", 0, "django/core/handlers/wsgi.py", "__call__", "", ""),
    ("open the database connection", 1, "django/db/backends/base/base.py", "connect", "", ""),
    ("close it (request_finished)", 1, "django/db/__init__.py", "close_old_connections", "", ""),
    ("ninja: the operation (auth, view, response)", 1, "ninja/operation.py", "run", "", ""),
    ("key auth (digest, ApiKey query)", 2, "leadgate/api/auth.py", "authenticate", "", ""),
    ("the view post_leads", 2, "leadgate/api/intake.py", "post_leads", "", ""),
    ("Source lookup", 3, "leadgate/sources/services.py", "source_by_slug", "", ""),
    ("body parse (JSON, checks)", 3, "leadgate/api/intake.py", "_parse", "", ""),
    ("receive_leads", 3, "leadgate/leads/intake.py", "_receive", "", ""),
    ("prepare_leads (no lock)", 4, "leadgate/leads/services.py", "prepare_leads", "", ""),
    ("compiled_source (RulesVersion query)", 5, "leadgate/sources/compile.py", "compiled_source",
     "leadgate/leads/services.py", "prepare_leads"),
    ("rule engine: each lead's own checks (Engine.check)", 5, "leadgate/rules/engine.py", "check",
     "leadgate/leads/services.py", "_prepare"),
    ("columns (stored_decision)", 5, "leadgate/leads/services.py", "stored_decision", "", ""),
    ("the source's transaction (group commit)", 4, "leadgate/leads/intake.py", "_store_all", "", ""),
    ("source row lock (lock_source, PostgreSQL)", 5, "leadgate/leads/services.py", "lock_source", "", ""),
    ("store_leads", 5, "leadgate/leads/services.py", "store_leads", "", ""),
    ("dedupe and allocation (Engine.settle)", 6, "leadgate/rules/engine.py", "settle", "", ""),
    ("… of which dedupe lookup (query)", 7, "leadgate/leads/dedupe.py", "find", "", ""),
    ("insert leads and events (insert_columns)", 6, "leadgate/leads/store.py", "insert_columns", "", ""),
    ("new leads' pks (lead_pks)", 6, "leadgate/leads/store.py", "lead_pks", "", ""),
    ("outbox (leads_changed)", 6, "leadgate/delivery/outbox.py", "leads_changed", "", ""),
    ("COMMIT", 5, "django/db/transaction.py", "__exit__", "leadgate/leads/intake.py", "_store_all"),
    ("lead_outcome", 4, "leadgate/leads/intake.py", "lead_outcome", "", ""),
    ("answer (outcomes → JSON)", 3, "leadgate/lib/jsontext.py", "dumps_bytes", "", ""),
)  # fmt: skip
#: Layers, across components: SQL execution in the driver, Django's SQL compilation, JSON.
SQL_EXECUTE = ("django/db/backends/utils.py", "_execute")
LAYERS = (
    ("SQL executed (driver and database, through Django's cursor wrapper)", SQL_EXECUTE),
    ("ORM: compiling querysets to SQL (SQLCompiler.as_sql)", ("django/db/models/sql/compiler.py", "as_sql")),
    ("ORM: building querysets (QuerySet.filter)", ("django/db/models/query.py", "filter")),
    ("ORM: rows to model instances (Model.__init__)", ("django/db/models/base.py", "__init__")),
    ("json.loads", ("json/__init__.py", "loads")),
    ("JSON text (lib/jsontext.dumps)", ("leadgate/lib/jsontext.py", "dumps")),
)


def _environ(path: str, body: bytes, key: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {key}",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _poster(app: Callable[..., Any], path: str, key: str) -> Callable[[bytes], None]:
    def post(body: bytes) -> None:
        status: list[str] = []
        result = app(_environ(path, body, key), lambda s, h, exc_info=None: status.append(s))
        try:
            b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # what a WSGI server does: sends request_finished, which closes old connections
        if not status or not status[0].startswith("201"):
            raise RuntimeError(f"the API answered {status[0] if status else 'nothing'}")

    return post


def _inclusive(stats: pstats.Stats, component: Component) -> tuple[float, int]:
    """Inclusive seconds and calls of a function, or of its calls from one caller."""
    _label, _depth, file, name, caller_file, caller_name = component
    seconds, calls = 0.0, 0
    for (path, _line, func), (_cc, nc, _tt, ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if func != name or not path.endswith(file):
            continue
        if not caller_file:
            seconds, calls = seconds + ct, calls + nc
            continue
        for (cpath, _cline, cfunc), (_ccc, cnc, _ctt, cct) in callers.items():
            if cfunc == caller_name and cpath.endswith(caller_file):
                seconds, calls = seconds + cct, calls + cnc
    return seconds, calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_profile", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/leadgate_bench")
    parser.add_argument("--requests", type=int, default=2000, help="requests timed, then profiled")
    parser.add_argument("--batch-size", type=int, default=1, help="leads per request (1: a single lead)")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--pstats", type=Path, help="also write the raw profile here")
    args = parser.parse_args(argv)

    from bench.api import _bodies, pg_recreate

    data_dir = tempfile.mkdtemp(prefix="leadgate-bench-profile-")
    os.environ.update(
        {"LEADGATE_DATA_DIR": data_dir, "LEADGATE_API_RATE_LIMIT": "0", "LEADGATE_LOG_LEVEL": "WARNING"}
    )
    os.environ.pop("LEADGATE_DATABASE_URL", None)
    if args.database == "postgresql":
        why = pg_recreate(args.pg_url)
        if why:
            parser.error(f"PostgreSQL not reachable: {why}")
        os.environ["LEADGATE_DATABASE_URL"] = args.pg_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadgate.settings")
    try:
        return _profile(args, _bodies)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(data_dir, ignore_errors=True)
        if args.database == "postgresql":
            pg_recreate(args.pg_url, drop_only=True)


def _profile(args: argparse.Namespace, bodies_of: Callable[[list[dict[str, str]], int], list[bytes]]) -> int:
    import django

    django.setup()
    from leadgate.accounts.services import create_api_key
    from leadgate.demo.generator import generate_leads
    from leadgate.demo.services import build_demo
    from leadgate.ops.services import migrate_if_needed
    from leadgate.wsgi import application

    migrate_if_needed()
    source = build_demo(leads=0)
    _, key = create_api_key("profile", source=source)
    per = args.batch_size
    rows = list(generate_leads((args.warmup + 2 * args.requests) * per, seed=args.seed))
    bodies = bodies_of(rows, per)
    warm, timed, profiled = (
        bodies[: args.warmup],
        bodies[args.warmup : args.warmup + args.requests],
        bodies[args.warmup + args.requests :],
    )
    post = _poster(application, f"/api/v1/sources/{source.slug}/leads", key)
    if args.database == "sqlite":
        # Under load the server's other threads and its worker keep the database open; without another
        # connection each request's close would be the last one and checkpoint the WAL, which it is not there.
        import sqlite3

        from django.conf import settings

        keeper = sqlite3.connect(settings.DATABASES["default"]["NAME"])
        keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()
    for body in warm:
        post(body)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    for body in timed:
        post(body)
    wall = (time.perf_counter() - wall0) / len(timed) * 1000
    cpu = (time.process_time() - cpu0) / len(timed) * 1000

    n = len(profiled) // 2
    profiles = {}
    for timer, part in (("wall", profiled[:n]), ("CPU", profiled[n:])):
        profiler = cProfile.Profile(time.perf_counter if timer == "wall" else time.process_time)
        profiler.enable()
        for body in part:
            post(body)
        profiler.disable()
        if args.pstats:
            profiler.dump_stats(f"{args.pstats}.{timer.lower()}")
        profiles[timer] = pstats.Stats(profiler)

    print(json.dumps({"database": args.database, "leads_per_request": per, "requests": len(timed)}))
    print(
        f"\nunprofiled: {wall:.2f} ms wall, {cpu:.2f} ms CPU per request; one thread would post "
        f"{1000 / wall * per:,.0f} leads/s. Below, each profile's shares are scaled to those figures.\n"
    )
    totals, scales = {}, {}
    for timer, unprofiled in (("wall", wall), ("CPU", cpu)):
        totals[timer], _ = _inclusive(profiles[timer], COMPONENTS[0])
        scales[timer] = unprofiled / (totals[timer] / n * 1000) if totals[timer] else 0.0
    print(f"{'component':<58} {'wall ms':>9} {'share':>6} {'CPU ms':>9} {'share':>6} {'calls':>6}")
    for component in COMPONENTS:
        cells = []
        for timer in ("wall", "CPU"):
            seconds, calls = _inclusive(profiles[timer], component)
            share = seconds / totals[timer] if totals[timer] else 0.0
            cells.append(f"{seconds / n * 1000 * scales[timer]:>9.3f} {share:>6.1%}")
        label = "  " * component[1] + component[0]
        print(f"{label:<58} {' '.join(cells)} {calls / n:>6.1f}")
    print("\nAcross components (the same profiles):")
    for timer in ("wall", "CPU"):
        stats, total, scale = profiles[timer], totals[timer], scales[timer]
        for label, layer in LAYERS:
            seconds, calls = _inclusive(stats, ("", 0, *layer, "", ""))
            if layer == SQL_EXECUTE:
                label = f"{label} ({calls / n:.1f} statements a request)"
            print(f"  {timer:<4} {label:<74} {seconds / n * 1000 * scale:>7.3f} ms {seconds / total:>6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
