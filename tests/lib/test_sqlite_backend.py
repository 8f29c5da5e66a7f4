"""The SQLite backend queues write transactions on a file lock: a second writer waits for the first to
commit and then goes through, with no "database is locked" and no lost write."""

from __future__ import annotations

import threading

from django.db.utils import ConnectionHandler

from leadgate.lib.sqlite.base import DatabaseWrapper


def _wrapper(path):
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "leadgate.lib.sqlite",
                "NAME": str(path),
                "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 1},
            }
        }
    )
    return handler["default"]


def test_second_writer_waits_for_the_first_then_writes(tmp_path, django_db_blocker):
    with django_db_blocker.unblock():
        _race(tmp_path)


def _race(tmp_path):
    db = tmp_path / "queue.sqlite3"
    first = _wrapper(db)
    assert isinstance(first, DatabaseWrapper)
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE t (who TEXT)")
    order: list[str] = []
    started = threading.Event()

    def write_second():
        second = _wrapper(db)  # a connection belongs to its thread
        started.set()
        second.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        order.append("second began")
        with second.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES ('second')")
        second.commit()
        second.set_autocommit(True)
        second.close()

    first.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with first.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES ('first')")
    thread = threading.Thread(target=write_second)
    thread.start()
    started.wait()
    thread.join(timeout=1.5)  # longer than SQLite's own 1 s timeout: the wait is on the file lock
    assert thread.is_alive() and order == []
    order.append("first committed")
    first.commit()
    first.set_autocommit(True)
    thread.join(timeout=10)
    assert order == ["first committed", "second began"]
    with first.cursor() as cursor:
        cursor.execute("SELECT who FROM t ORDER BY rowid")
        assert [row[0] for row in cursor.fetchall()] == ["first", "second"]
    first.close()


def test_in_memory_databases_take_no_file_lock(tmp_path):
    assert _wrapper(":memory:")._lock_path() is None
    assert _wrapper(tmp_path / "x.sqlite3")._lock_path() == f"{tmp_path / 'x.sqlite3'}.lock"


# --- WAL checkpoints in the background (leadgate.lib.sqlite.checkpoint) ---------------------------------


def test_writers_leave_checkpoints_to_the_background_thread(tmp_path, django_db_blocker):
    import time

    from leadgate.lib.sqlite.checkpoint import WRITER_AUTOCHECKPOINT

    db = tmp_path / "wal.sqlite3"
    with django_db_blocker.unblock():
        writer = _wrapper(db)
        with writer.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA wal_autocheckpoint")
            assert cursor.fetchone()[0] == WRITER_AUTOCHECKPOINT
            cursor.execute("CREATE TABLE t (x TEXT)")
            # About 1,500 pages of log: past SQLite's own 1,000, where the commit would have copied them.
            cursor.executemany("INSERT INTO t VALUES (?)", [("x" * 3000,) for _ in range(2000)])
        # The database file grows as the pages are copied into it: the background thread's work.
        deadline = time.monotonic() + 10
        while db.stat().st_size < 2000 * 3000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert db.stat().st_size >= 2000 * 3000
        writer.close()


def test_one_process_of_many_is_the_checkpointer(tmp_path):
    import os

    from leadgate.lib.sqlite.checkpoint import _elected

    path = tmp_path / "db.sqlite3.checkpoint"
    first, second = (os.open(path, os.O_RDWR | os.O_CREAT) for _ in range(2))
    assert _elected(first)
    assert not _elected(second)  # the lock is per open file, as it is per process
    os.close(first)  # its process exited
    assert _elected(second)
    os.close(second)
