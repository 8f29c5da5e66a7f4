"""Two writers at once: the per-source lock keeps dedupe and allocation exact (PostgreSQL only).

SQLite serialises every write transaction anyway; its in-memory test database cannot be shared by threads.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from leadgate.leads.models import Lead
from leadgate.leads.services import process_leads
from leadgate.sources.definition_file import apply_definition
from leadgate.sources.models import Source
from tests.conftest import SPEC_EXAMPLE, good_lead


@pytest.fixture
def pg_summit(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")
    apply_definition(SPEC_EXAMPLE)
    return Source.objects.get(slug="data-summit-2026")


def _race(source, submissions_per_thread):
    from django.db import connections

    errors = []
    start = threading.Barrier(len(submissions_per_thread))

    def run(submissions):
        try:
            start.wait()
            process_leads(source, submissions)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(s,)) for s in submissions_per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_the_same_email_posted_at_once_is_accepted_once(pg_summit):
    _race(pg_summit, [[good_lead()] for _ in range(6)])
    assert Lead.objects.filter(status="accepted").count() == 1
    assert Lead.objects.filter(disposition_code="REJECT_LEAD_DUPLICATE").count() == 5


def test_allocation_holds_under_concurrent_posts(pg_summit):
    Source.objects.filter(pk=pg_summit.pk).update(allocation=3)
    pg_summit.refresh_from_db()
    _race(pg_summit, [[good_lead(email=f"t{t}-{i}@acme.io") for i in range(2)] for t in range(5)])
    assert Lead.objects.filter(status="accepted").count() == 3
    assert Lead.objects.filter(disposition_code="REJECT_LEAD_ALLOCATION_REACHED").count() == 7
