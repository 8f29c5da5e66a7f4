"""WAL checkpoints in the background, so that no writer makes them while it holds the write lock.

In WAL mode each commit appends pages to the ``-wal`` file, and SQLite copies them back into the database
("checkpoints") in the commit that takes the log past ``wal_autocheckpoint`` pages: that commit copies
16 MB and waits for two fsyncs, all while every other writer queues behind it. Here one thread per
database does it instead, a few times a second, with PASSIVE checkpoints that never block a writer or a
reader. One process of all those that open the database runs it (elected by a lock file beside it; when
that process exits another takes over). Writers keep a higher ``wal_autocheckpoint`` as a safety net,
for a moment when no checkpointer runs.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time

log = logging.getLogger(__name__)

#: Seconds between checkpoints: about as often as a busy database fills SQLite's default 1,000 pages of log
#: (16 MB; 1,000-lead posts at 10,000 leads/s append ~40 MB a second). More often would copy the pages
#: every commit rewrites (the indexes' upper levels) over and over.
INTERVAL = 0.5
#: How often a process that is not the checkpointer asks whether the checkpointer is still there.
ELECTION_INTERVAL = 5.0
#: Pages of log after which a writer checkpoints itself anyway (SQLite's default is 1,000).
WRITER_AUTOCHECKPOINT = 8000

_started: set[tuple[int, str]] = set()
_started_lock = threading.Lock()


def start_checkpointer(path: str) -> None:
    """Make sure this process has a thread checkpointing the database at ``path`` (or waiting to)."""
    key = (os.getpid(), path)  # a forked child starts its own
    if key in _started:
        return
    with _started_lock:
        if key in _started:
            return
        _started.add(key)
        threading.Thread(
            target=_run, args=(path,), name=f"sqlite checkpoints {os.path.basename(path)}", daemon=True
        ).start()


def _run(path: str) -> None:
    """Wait to be elected, then checkpoint for as long as the process lives."""
    try:
        lock = os.open(f"{path}.checkpoint", os.O_RDWR | os.O_CREAT, 0o600)
        while not _elected(lock):
            time.sleep(ELECTION_INTERVAL)
        database = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error):
        log.warning("no background checkpoints for %s; writers make them", path, exc_info=True)
        return
    seen = None
    while True:
        time.sleep(INTERVAL)
        try:
            # data_version changes when another connection commits: no commit, no checkpoint to make.
            (version,) = database.execute("PRAGMA data_version").fetchone()
            if version != seen:
                database.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                seen = version
        except sqlite3.Error:
            log.warning("a background checkpoint of %s failed", path, exc_info=True)
            time.sleep(ELECTION_INTERVAL)


def _elected(lock: int) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
