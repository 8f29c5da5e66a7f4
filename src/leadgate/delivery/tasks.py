"""Background tasks of the delivery app (run by `leadgate worker` through django-tasks)."""

from __future__ import annotations

from django_tasks import task

from leadgate.delivery.callbacks import send_due_callbacks


@task()
def send_status_callbacks() -> int:
    """Post the status callbacks that are due; queued whenever intake writes some. Returns how many."""
    return send_due_callbacks().attempted
