"""Group commit of concurrent intake requests (leadgate.leads.intake._SharedTransactions)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from leadgate.leads import intake
from leadgate.leads.intake import _Job, _SharedTransactions


def _job(name):
    return _Job(None, [], None, "api", None, "", name, [], {}, [])


@pytest.fixture
def outside_any_transaction(monkeypatch):
    monkeypatch.setattr(intake.transaction, "get_connection", lambda: SimpleNamespace(in_atomic_block=False))


def test_jobs_arriving_while_one_is_stored_share_the_next_transaction(monkeypatch, outside_any_transaction):
    shared = _SharedTransactions()
    batches, first_started, release = [], threading.Event(), threading.Event()

    def store_all(jobs):
        batches.append(sorted(job.request_digest for job in jobs))
        if len(batches) == 1:
            first_started.set()
            assert release.wait(5)
        for job in jobs:
            if job.request_digest == "bad":
                job.error = ValueError("this job only")
            else:
                job.result = ([{"lead": job.request_digest}], False)
            job.done = True
            job.wake.set()

    monkeypatch.setattr(shared, "_store_all", store_all)
    answers, errors = {}, {}

    def post(name):
        try:
            answers[name] = shared.run(_job(name))
        except ValueError as exc:
            errors[name] = str(exc)

    first = threading.Thread(target=post, args=("a",))
    first.start()
    assert first_started.wait(5)
    others = [threading.Thread(target=post, args=(name,)) for name in ("b", "c", "bad", "d")]
    for thread in others:
        thread.start()
    while len(shared._queue) < 4:  # all four wait behind the first transaction
        threading.Event().wait(0.01)
    release.set()
    for thread in [first, *others]:
        thread.join(5)
    assert batches == [["a"], ["b", "bad", "c", "d"]]
    assert answers == {name: ([{"lead": name}], False) for name in ("a", "b", "c", "d")}
    assert errors == {"bad": "this job only"}
    assert shared._leading is False and shared._queue == []


def test_a_request_alone_is_stored_at_once(monkeypatch, outside_any_transaction):
    shared = _SharedTransactions()
    seen = []

    def store_all(jobs):
        seen.append(len(jobs))
        for job in jobs:
            job.result, job.done = ([], True), True

    monkeypatch.setattr(shared, "_store_all", store_all)
    assert shared.run(_job("x")) == ([], True)
    assert shared.run(_job("y")) == ([], True)
    assert seen == [1, 1] and not shared._leading
