"""`leadgate worker`: runs background tasks from the database and keeps a heartbeat."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.db import close_old_connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker

from leadgate.ops.models import WorkerHeartbeat
from leadgate.ops.services import HEARTBEAT_INTERVAL

log = logging.getLogger(__name__)
SWEEP_INTERVAL = 5  # seconds between looks for stalled uploads and reprocess runs
PURGE_INTERVAL = 3600  # seconds between purges of expired idempotency keys


def _beat(worker_id: str, stop: threading.Event) -> None:
    """The heartbeat, and the housekeeping that rides on it: forgetting expired idempotency keys and old
    delivery exchanges."""
    from leadgate.delivery.services import purge_log
    from leadgate.leads.intake import purge_idempotency_records

    started = timezone.now()
    purged_at = 0.0
    while not stop.is_set():
        if time.monotonic() - purged_at > PURGE_INTERVAL:
            purged_at = time.monotonic()
            try:
                purge_idempotency_records()
                purge_log()
            except Exception:
                log.warning(
                    "purging idempotency keys or the delivery log failed; the next hour retries",
                    exc_info=True,
                )
        try:
            WorkerHeartbeat.objects.update_or_create(
                worker_id=worker_id,
                defaults={
                    "hostname": socket.gethostname()[:200],
                    "pid": os.getpid(),
                    "started_at": started,
                    "seen_at": timezone.now(),
                },
            )
        except Exception:  # a busy or restarting database must not kill the worker; the next beat retries
            log.warning("worker heartbeat failed", exc_info=True)
        finally:
            close_old_connections()
        stop.wait(HEARTBEAT_INTERVAL)


def _sweep(stop: threading.Event) -> None:
    """Queue again the uploads and reprocess runs whose process died (or whose task was lost).

    A thread of its own, so that a slow query never delays the heartbeat.
    """
    from leadgate.files.uploads import resume_stalled_uploads
    from leadgate.leads.tasks import resume_stalled_reprocess_runs

    while not stop.is_set():
        try:
            resume_stalled_uploads()
            resume_stalled_reprocess_runs()
        except Exception:  # same as the heartbeat: a database hiccup must not end the sweeping
            log.warning("background sweep failed", exc_info=True)
        finally:
            close_old_connections()
        stop.wait(SWEEP_INTERVAL)


def _deliver(stop: threading.Event) -> None:
    """Post due deliveries and status callbacks until the worker stops (see `leadgate.delivery.engine`)."""
    from leadgate.delivery.engine import Deliverer

    Deliverer().run(stop)


def run_worker(interval: float = 1.0, batch: bool = False) -> None:
    worker_id = f"{socket.gethostname()[:40]}-{get_random_string(12)}"
    stop = threading.Event()
    heartbeat = threading.Thread(target=_beat, args=(worker_id, stop), daemon=True, name="heartbeat")
    heartbeat.start()
    delivering = None
    if not batch:
        sweeper = threading.Thread(target=_sweep, args=(stop,), daemon=True, name="sweep")
        sweeper.start()
        delivering = threading.Thread(target=_deliver, args=(stop,), daemon=True, name="deliveries")
        delivering.start()
    log.info("worker %s started", worker_id)
    worker = Worker(
        queue_names=[DEFAULT_TASK_QUEUE_NAME],
        interval=interval,
        batch=batch,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=not batch,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    worker.configure_signals()
    try:
        worker.run()
        if batch:
            from leadgate.delivery.engine import Deliverer

            # Due deliveries and callbacks are waiting work too, though no task names them.
            deliverer = Deliverer()
            try:
                deliverer.run_once()
            finally:
                deliverer.close()
    finally:
        stop.set()
        if delivering is not None:
            delivering.join(timeout=30)  # let posts in flight be recorded: fewer repeats after a restart
        WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()
