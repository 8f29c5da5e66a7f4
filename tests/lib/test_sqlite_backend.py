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
