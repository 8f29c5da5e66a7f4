"""Background tasks of the files app (run by `leadgate worker` through django-tasks)."""

from __future__ import annotations

from django_tasks import task

from .models import Upload
from .uploads import process_upload


@task()
def process_upload_task(upload_id: str) -> str:
    """Process a queued upload (or resume one); returns its state."""
    upload = Upload.objects.filter(upload_id=upload_id).first()
    if upload is None:  # deleted meanwhile: nothing to do
        return "gone"
    return process_upload(upload).state
