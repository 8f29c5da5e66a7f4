"""Concurrent retries through the real API (PostgreSQL only: SQLite's in-memory test database cannot be
shared by threads, and SQLite serialises every writer anyway)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from leadgate.accounts.services import create_api_key
from leadgate.leads.models import IdempotencyRecord, Lead
from leadgate.sources.definition_file import apply_definition
from leadgate.sources.models import Source
from tests.api.conftest import Api
from tests.conftest import SPEC_EXAMPLE, good_lead

URL = "/sources/data-summit-2026/leads"


@pytest.fixture
def owner(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")
    apply_definition(SPEC_EXAMPLE)
    return Api(create_api_key("booth", source=Source.objects.get(slug="data-summit-2026"))[1])


def _race(calls):
    answers, errors = [None] * len(calls), []
    start = threading.Barrier(len(calls))

    def run(i, call):
        try:
            start.wait()
            answers[i] = call()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return answers


@pytest.mark.parametrize("round_", range(3))
def test_two_retries_with_one_idempotency_key_make_one_lead(owner, round_):
    call = lambda: owner.post(URL, good_lead(), headers={"Idempotency-Key": f"same-{round_}"})  # noqa: E731
    first, second = _race([call, call])
    assert first.status_code == second.status_code == 201
    assert first.json()["lead_id"] == second.json()["lead_id"]
    assert Lead.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_two_retries_with_one_external_id_make_one_lead(owner):
    call = lambda: owner.post(URL, [good_lead(external_id="crm-7")])  # noqa: E731
    first, second = _race([call, call])
    assert first.json()[0]["lead_id"] == second.json()[0]["lead_id"]
    assert Lead.objects.filter(external_id="crm-7").count() == 1


def test_many_concurrent_posts_each_get_their_own_lead(owner):
    from leadgate.leads.models import LeadEvent

    calls = [
        (lambda i=i: owner.post(URL, good_lead(email=f"c{i}@acme-corp.com", first_name=f"N{i}")))
        for i in range(12)
    ]
    answers = _race(calls)
    assert all(a.status_code == 201 for a in answers)
    ids = [a.json()["lead_id"] for a in answers]
    assert len(set(ids)) == 12
    for i, lead_id in enumerate(ids):
        assert Lead.objects.get(lead_id=lead_id).values["first_name"] == f"N{i}"
    assert LeadEvent.objects.count() == 12
