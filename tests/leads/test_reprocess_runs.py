"""Reprocess runs survive a dead worker: a lease keeps two workers off one run; the sweep takes it up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from leadgate.leads.models import Lead, ReprocessRun
from leadgate.leads.services import Actor, process_leads
from leadgate.leads.tasks import queue_reprocess, resume_stalled_reprocess_runs, run_reprocess
from tests.conftest import good_lead


@pytest.fixture
def run(summit, django_capture_on_commit_callbacks):
    process_leads(summit, [good_lead(email=f"r{i}@acme-corp.com", job_level="Wizard") for i in range(3)])
    ids = list(Lead.objects.filter(source=summit).values_list("lead_id", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        return queue_reprocess(summit, ids, actor=Actor("test"))


@pytest.mark.django_db
def test_a_queued_run_has_its_task(run):
    assert DBTaskResult.objects.filter(task_path="leadgate.leads.tasks.reprocess_task").count() == 1
    assert ReprocessRun.objects.get(pk=run.pk).enqueued_at is not None


@pytest.mark.django_db
def test_a_run_another_worker_holds_is_left_alone(run):
    ReprocessRun.objects.filter(pk=run.pk).update(
        state="running", lease_until=timezone.now() + dt.timedelta(minutes=1)
    )
    assert run_reprocess(ReprocessRun.objects.get(pk=run.pk)).done == 0


@pytest.mark.django_db
def test_the_sweep_queues_a_run_whose_worker_died_and_it_finishes(run):
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    ReprocessRun.objects.filter(pk=run.pk).update(
        state="running", done=1, created_at=long_ago, enqueued_at=long_ago, lease_until=long_ago
    )
    assert resume_stalled_reprocess_runs() == 1
    assert resume_stalled_reprocess_runs() == 0  # just queued: not again at once
    assert DBTaskResult.objects.filter(task_path="leadgate.leads.tasks.reprocess_task").count() == 2
    finished = run_reprocess(ReprocessRun.objects.get(pk=run.pk))
    assert (finished.state, finished.done, finished.lease_until) == ("done", 3, None)


@pytest.mark.django_db
def test_a_fresh_or_held_run_is_not_swept(run):
    assert resume_stalled_reprocess_runs() == 0
    ReprocessRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10),
        enqueued_at=timezone.now() - dt.timedelta(minutes=10),
        state="running",
        lease_until=timezone.now() + dt.timedelta(minutes=3),
    )
    assert resume_stalled_reprocess_runs() == 0
