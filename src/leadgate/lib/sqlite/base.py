"""SQLite, with write transactions queued on an operating-system lock instead of SQLite's busy loop.

SQLite lets one writer in at a time. A writer that finds the database locked sleeps and retries (1, 2, 5 …
up to 100 ms between tries), so under concurrent posts the lock often sits free while every waiter sleeps:
that is what makes the slowest requests slow. Here each write transaction first takes an exclusive
``flock`` on a file beside the database, which wakes the next writer the moment the previous one commits;
SQLite's own lock is then always free when ``BEGIN IMMEDIATE`` asks for it. Each connection opens the lock
file itself, so the lock queues threads of one process as well as processes. WAL checkpoints are made by
a background thread (``.checkpoint``), not by the commit that holds the lock.
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

from django.db.backends.sqlite3 import base

from .checkpoint import WRITER_AUTOCHECKPOINT, start_checkpointer


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock_fd: int | None = None
        self._write_lock_held = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            # Checkpoints are a background thread's job (see .checkpoint); this is only the safety net.
            connection.execute(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT}")
            start_checkpointer(self.settings_dict["NAME"])
        return connection

    def _lock_path(self) -> str | None:
        if self.is_in_memory_db():
            return None  # one process only: nothing to queue
        return f"{self.settings_dict['NAME']}.lock"

    def _acquire_write_lock(self) -> None:
        path = self._lock_path()
        if path is None or self._write_lock_held:
            return
        if self._write_lock_fd is None:
            self._write_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._write_lock_fd, fcntl.LOCK_EX)
        self._write_lock_held = True

    def _release_write_lock(self) -> None:
        if self._write_lock_held and self._write_lock_fd is not None:
            fcntl.flock(self._write_lock_fd, fcntl.LOCK_UN)
        self._write_lock_held = False

    def _start_transaction_under_autocommit(self) -> None:
        self._acquire_write_lock()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._release_write_lock()
            if self._write_lock_fd is not None:
                os.close(self._write_lock_fd)
                self._write_lock_fd = None
