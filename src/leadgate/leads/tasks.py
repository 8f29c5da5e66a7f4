"""Background tasks of the leads app (run by `leadgate worker` through django-tasks).

Reprocessing a Resolve group of many thousand leads takes longer than a web request should: the page
queues a ``ReprocessRun`` and follows its progress; the worker decides the leads again batch by batch.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from leadgate.sources.models import Source

from .models import ReprocessRun
from .services import Actor, reprocess_leads

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=5)  # renewed after every batch: far longer than one batch takes
REQUEUE_AFTER = dt.timedelta(minutes=2)  # a run no worker has taken by then gets a new task


def queue_reprocess(source: Source, lead_ids: Sequence[str], *, actor: Actor, note: str = "") -> ReprocessRun:
    """Record a run for these leads and have a worker do it (once the caller's transaction commits)."""
    ids = list(dict.fromkeys(lead_ids))
    run = ReprocessRun.objects.create(
        source=source,
        lead_ids=ids,
        total=len(ids),
        note=note,
        user=actor.user,
        actor=actor.label,
        created_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(run))
    return run


def _enqueue(run: ReprocessRun) -> None:
    ReprocessRun.objects.filter(pk=run.pk).update(enqueued_at=timezone.now())
    try:
        reprocess_task.enqueue(run.pk)
    except Exception:  # the worker's sweep queues it again
        log.warning("could not queue reprocess run %s; the worker's sweep will", run.pk, exc_info=True)


def resume_stalled_reprocess_runs(now: dt.datetime | None = None) -> int:
    """Queue again the runs nobody is doing: the worker died mid-way, or the task was lost."""
    now = now or timezone.now()
    stalled = ReprocessRun.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REQUEUE_AFTER),
        state__in=[ReprocessRun.State.QUEUED, ReprocessRun.State.RUNNING],
        created_at__lt=now - REQUEUE_AFTER,
    )
    count = 0
    for run in stalled:
        log.warning(
            "reprocess run %s stalled (%s, %d of %d); queued again", run.pk, run.state, run.done, run.total
        )
        _enqueue(run)
        count += 1
    return count


def _take(run: ReprocessRun) -> bool:
    """Take (or renew) the run's lease: true when this worker may go on with it."""
    now = timezone.now()
    return bool(
        ReprocessRun.objects.filter(
            pk=run.pk, state__in=[ReprocessRun.State.QUEUED, ReprocessRun.State.RUNNING]
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )


def run_reprocess(run: ReprocessRun, *, batch_size: int | None = None) -> ReprocessRun:
    """Decide the run's leads again, one batch at a time, writing the progress after each batch.

    A run taken up again (the worker restarted) carries on after the last batch it recorded; deciding a
    lead twice would change nothing anyway.
    """
    if not run.active or not _take(run):  # done, or another worker holds it
        return run
    size = batch_size or settings.LEADGATE_PROCESS_BATCH_SIZE
    ReprocessRun.objects.filter(pk=run.pk).update(
        state=ReprocessRun.State.RUNNING, started_at=run.started_at or timezone.now()
    )
    actor = Actor(run.actor or "resolve", run.user)
    outcome = dict(run.outcome) or {"reprocessed": 0, "changed": 0, "status": {}}
    done = run.done
    try:
        while done < run.total:
            batch = run.lead_ids[done : done + size]
            counted = reprocess_leads(run.source, batch, actor=actor, note=run.note).as_dict()
            outcome["reprocessed"] += counted["reprocessed"]
            outcome["changed"] += counted["changed"]
            for status, n in counted["status"].items():
                outcome["status"][status] = outcome["status"].get(status, 0) + n
            done += len(batch)
            ReprocessRun.objects.filter(pk=run.pk).update(
                done=done, outcome=outcome, lease_until=timezone.now() + LEASE
            )
    except Exception as exc:  # never silent: the page says the run failed and why
        log.exception("reprocess run %s failed after %d of %d leads", run.pk, done, run.total)
        ReprocessRun.objects.filter(pk=run.pk).update(
            state=ReprocessRun.State.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:500],
            finished_at=timezone.now(),
            lease_until=None,
        )
    else:
        ReprocessRun.objects.filter(pk=run.pk).update(
            state=ReprocessRun.State.DONE, finished_at=timezone.now(), lease_until=None
        )
    run.refresh_from_db()
    return run


@task()
def reprocess_task(run_id: int) -> str:
    """Do a queued reprocess run; returns its state."""
    run = ReprocessRun.objects.select_related("source", "user").filter(pk=run_id).first()
    if run is None:  # the source was deleted meanwhile: nothing to do
        return "gone"
    return run_reprocess(run).state
