"""Group commit of concurrent intake requests (leadgate.leads.intake._SharedTransactions)."""

from __future__ import annotations

import re
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


# --- the real transaction: plain jobs stored as one batch ----------------------------------------------


def _request(source, rows, actor_label, *, external_ids=(), idempotency_key="", api_key=None):
    """A job as ``intake._receive`` makes one: its new leads prepared outside the lock."""
    from leadgate.leads.intake import Submission, _new_submissions
    from leadgate.leads.services import Actor, prepare_leads

    submissions = [
        Submission(row, external_ids[i] if i < len(external_ids) else "") for i, row in enumerate(rows)
    ]
    new, known = _new_submissions(source, submissions)
    prepared = prepare_leads(source, [s.values for s in new], external_ids=[s.external_id for s in new])
    return _Job(
        source,
        submissions,
        Actor(actor_label),
        "api",
        api_key,
        idempotency_key,
        actor_label,
        new,
        known,
        prepared,
    )


def _requests(source, api_key):
    from tests.conftest import good_lead

    return [
        _request(source, [good_lead(email="first@acme-corp.com")], "booth app"),
        # The same email as the request before it: a duplicate of that lead, as if stored after it.
        _request(source, [good_lead(email="first@acme-corp.com"), good_lead(email="x@gmail.com")], "webinar"),
        _request(source, [good_lead(email="ext@acme-corp.com")], "partner", external_ids=["p-1"]),
        _request(
            source, [good_lead(email="idem@acme-corp.com")], "form", idempotency_key="k1", api_key=api_key
        ),
        _request(source, [good_lead(email="last@acme-corp.com", job_level="Wizard")], "booth app"),
    ]


def _decided(jobs):
    """Each job's outcomes, LeadIDs (in reasons too) replaced by the lead's place among all the jobs'."""
    place = {o["lead_id"]: f"#{i}" for i, o in enumerate(o for job in jobs for o in job.result[0])}

    def named(text):
        return re.sub(r"LD-\w+", lambda found: place.get(found.group(), "?"), text)

    return [
        [(o["status"], o["disposition_code"], named(o["custom_reason"])) for o in job.result[0]]
        for job in jobs
    ]


def test_plain_requests_are_stored_together_and_decided_as_if_one_after_another(summit, monkeypatch):
    from leadgate.accounts.services import create_api_key
    from leadgate.leads import services
    from leadgate.leads.models import Lead

    key, _ = create_api_key("booth", source=summit)
    together_sizes = []
    store_together = services.store_together

    def spy(parts, actors):
        together_sizes.append(len(parts))
        return store_together(parts, actors)

    monkeypatch.setattr(intake, "store_together", spy)
    jobs = _requests(summit, key)
    _SharedTransactions()._store_all(jobs)
    assert together_sizes == [3]  # the three plain requests; the external_id and the key go on their own
    assert all(job.done and job.error is None for job in jobs)
    together = _decided(jobs)
    assert together[1][0][1] == "REJECT_LEAD_DUPLICATE"
    assert together[4][0][1] == "REJECT_LEAD_INVALID_LIST_VALUE"

    # The same requests one after another, each in its own transaction, decide the same.
    Lead.objects.all().delete()
    alone = _requests(summit, key)
    for job in alone:
        job.idempotency_key = "k2" if job.idempotency_key else ""
        _SharedTransactions()._store_all([job])
    assert _decided(alone) == together

    assert together[1][0][2] == "Duplicate of #0 (same email first@acme-corp.com)"


def test_requests_stored_together_keep_their_own_actor_and_channel(summit):
    from leadgate.leads.models import Lead, LeadEvent

    jobs = _requests(summit, None)[:2] + _requests(summit, None)[4:]
    jobs[1].prepared[0].received_via = "form"
    _SharedTransactions()._store_all(jobs)
    expected = [("booth app", "api"), ("webinar", "form"), ("booth app", "api")]
    for job, (actor, via) in zip(jobs, expected, strict=True):
        for outcome in job.result[0]:
            lead = Lead.objects.get(lead_id=outcome["lead_id"])
            assert (lead.received_via, lead.status, lead.disposition_code) == (
                via,
                outcome["status"],
                outcome["disposition_code"],
            )
            (event,) = LeadEvent.objects.filter(lead=lead)
            assert (event.kind, event.actor, event.status_after) == ("received", actor, lead.status)


def test_when_storing_together_fails_each_request_is_stored_on_its_own(summit, monkeypatch):
    from leadgate.leads.models import Lead

    def fail(parts, actors):
        Lead.objects.create(source=summit, lead_id="LG-WRITTEN-THEN-LOST")  # undone with the savepoint
        raise RuntimeError("the batch failed")

    monkeypatch.setattr(intake, "store_together", fail)
    jobs = _requests(summit, None)[:2] + _requests(summit, None)[4:]
    _SharedTransactions()._store_all(jobs)
    assert all(job.error is None for job in jobs)
    assert [len(job.result[0]) for job in jobs] == [1, 2, 1]
    assert not Lead.objects.filter(lead_id="LG-WRITTEN-THEN-LOST").exists()
    assert Lead.objects.filter(source=summit).count() == 4
