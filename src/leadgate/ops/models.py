"""What operators need to see that the system is alive."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """Each background worker stamps its row while it runs; /healthz reads them."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker_id
