"""`leadgate serve`: the embedded default — web server and worker in one process tree.

The parent process prepares the database, then supervises two children: gunicorn serving the WSGI app and a
`leadgate worker`. If either child dies the parent stops the other and exits non-zero, so a service manager
(or the person at the terminal) sees the failure instead of a half-working app.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

from django.conf import settings

from leadgate.ops.services import ensure_admin


def _banner(host: str, port: int, credentials: tuple[str, str] | None) -> None:
    url = f"http://{host}:{port}"
    print(f"leadgate is starting on {url}  (data: {settings.DATA_DIR})", flush=True)
    if credentials:
        user, password = credentials
        print(
            "\n  First start: an admin user was created. This password is shown only once:\n"
            f"    username: {user}\n    password: {password}\n"
            f"  Sign in at {url}/\n",
            flush=True,
        )


def serve(host: str, port: int, worker: bool = True, demo: bool = True) -> None:
    from leadgate.sources.models import Source

    credentials = ensure_admin()
    if demo and credentials and not Source.objects.exists():
        from leadgate.demo.services import build_demo

        print("Creating the demo source (first start)…", flush=True)
        build_demo()
    _banner(host, port, credentials)

    python = sys.executable
    children: list[subprocess.Popen[bytes]] = []
    web = [
        python, "-m", "gunicorn", "leadgate.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(settings.LEADGATE_WEB_WORKERS),
        "--threads", str(settings.LEADGATE_WEB_THREADS),
        "--graceful-timeout", "10",
        "--no-control-socket",  # one fixed path per user: two leadgates on a machine would collide
    ]  # fmt: skip
    if settings.LEADGATE_ACCESS_LOG:
        web += ["--access-logfile", "-"]
    children.append(subprocess.Popen(web))  # noqa: S603 (our own interpreter and arguments)
    if worker:
        children.append(subprocess.Popen([python, "-m", "leadgate", "worker"]))  # noqa: S603

    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    exit_code = 0
    try:
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"leadgate: {child.args[2]} exited with status {child.returncode}", file=sys.stderr)
                    exit_code = 1
                    stopping = True
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
    sys.exit(exit_code)
