"""`leadgate serve` as `make run` starts it: first start, demo, admin credentials, health, shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_first_start_serves_the_app_with_demo_and_a_worker(tmp_path):
    port = _free_port()
    env = {**os.environ, "LEADGATE_DATA_DIR": str(tmp_path), "LEADGATE_DATABASE_URL": ""}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "leadgate", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        status = None
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"{base}/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, "serve exited early"
            time.sleep(0.5)
        assert status == 200, body
        login_status, login_page = _get(f"{base}/admin/login/")
        assert login_status == 200 and "leadgate" in login_page
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "username: admin" in output and "password: " in output
    assert "Creating the demo source" in output
