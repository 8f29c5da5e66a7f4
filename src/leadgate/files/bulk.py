"""Writing an upload's parts fast: the database set up for a million inserts, and parts stored on a thread
of their own while the next part is decided.

Deciding a part is Python and polars; storing it is mostly the database's own work (SQLite's B-trees,
PostgreSQL's backend), which runs without Python's lock. On two cores the two overlap: ``PartWriter``
stores part N in its own connection and transaction while the caller decides part N + 1.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from types import TracebackType

from django.db import connection

_BULK_CACHE_KIB = 256 * 1024  # SQLite's page cache while an upload runs


@contextlib.contextmanager
def sqlite_for_bulk() -> Iterator[Callable[[], None]]:
    """On SQLite, set this thread's connection up for a million inserts: a bigger page cache (the lead
    indexes of a big source outgrow the usual 128 MiB), and the write-ahead log copied into the database
    from a thread of its own after each commit, rather than in the commit, so that the copying runs on
    another core. (Between uploads leadgate's background checkpointer, ``leadgate.lib.sqlite.checkpoint``,
    does it twice a second, from whichever process is elected; an upload's parts are copied the moment each
    commits, from the uploading process: without this thread a 100k upload took 5–10% longer.)

    Yields the function to call after each commit. Elsewhere it does nothing.
    """
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        yield lambda: None
        return
    wanted, done = threading.Event(), threading.Event()
    path = connection.settings_dict["NAME"]

    def copy_log() -> None:
        db = sqlite3.connect(path, timeout=30)
        try:
            while not done.is_set():
                wanted.wait()
                wanted.clear()
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (cache_size,) = cursor.fetchone()
        cursor.execute("PRAGMA wal_autocheckpoint")
        (autocheckpoint,) = cursor.fetchone()
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute(f"PRAGMA cache_size={min(int(cache_size), -_BULK_CACHE_KIB)}")
    worker = threading.Thread(target=copy_log, name="wal-checkpoint", daemon=True)
    worker.start()
    try:
        yield wanted.set
    finally:
        done.set()
        wanted.set()
        worker.join()
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint)}")
            cursor.execute(f"PRAGMA cache_size={int(cache_size)}")


def no_wait_for_disk() -> None:
    """On PostgreSQL, commit this part without waiting for its log to reach the disk. A crash may lose the
    last parts' commits, but never half of one, and the upload's progress is lost with them, so the upload
    resumes from the last part that did reach the disk: nothing lost, nothing stored twice."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


class Stale(Exception):
    """A decided part's decision no longer holds (the rules, or the leads it was checked against, changed
    meanwhile): it was not stored, and must be decided again."""


Job = Callable[[], None]  # stores one part, in a transaction of its own; raises Stale to refuse it


class PartWriter:
    """Runs jobs that store parts, in order, on a thread with its own connection.

    One job waits while another runs, so at most two decided parts are held in memory. After a job raises
    ``Stale`` or fails, the later ones are dropped unrun: ``stale`` or the error (raised by ``put``,
    ``drain`` or leaving the ``with`` block) tells the caller, which goes on from the last part stored.
    ``after_commit`` runs after each job that stored its part (SQLite's log copying is set up here for
    this thread's connection).
    """

    def __init__(self) -> None:
        self.stale = False
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="upload-writer", daemon=True)

    def __enter__(self) -> PartWriter:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._jobs.put(None)
        self._thread.join()
        if kind is None:
            self._raise()

    def put(self, job: Job) -> None:
        """Queue a job; waits while another is queued."""
        self._raise()
        self._jobs.put(job)

    def drain(self) -> None:
        """Wait until every queued job has run."""
        self._jobs.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        served = False
        try:
            with sqlite_for_bulk() as after_commit:
                served = self._serve(after_commit)
        except BaseException as error:  # the set-up failed, or undoing it did
            self._error = self._error or error
        finally:
            if not served:
                self._serve(None)  # drop the jobs left, so that the caller never waits for them
            connection.close()

    def _serve(self, after_commit: Callable[[], None] | None) -> bool:
        """Run jobs until the end mark; with no ``after_commit`` (no set-up), drop them."""
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return True
                if after_commit is not None and not self.stale and self._error is None:
                    job()
                    after_commit()
            except Stale:
                self.stale = True
            except BaseException as error:
                self._error = error
            finally:
                self._jobs.task_done()
