"""Uploads (SPEC §1 "Upload", §3 "Upload Leads").

An upload is a file kept under the data directory and a row that tracks it. Its rows are processed in parts,
and each part's leads are stored in the same transaction that advances ``rows_done``, so a crash or a restart
resumes after the last stored part: no row is lost and none is stored twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from leadgate.lib.ids import ulid
from leadgate.sources.models import Source

UPLOAD_ID_PREFIX = "UP-"


def new_upload_id() -> str:
    return UPLOAD_ID_PREFIX + ulid()


class Upload(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        DONE = "done"
        FAILED = "failed"

    upload_id = models.CharField(max_length=32, unique=True, default=new_upload_id, editable=False)
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="uploads")
    name = models.CharField(max_length=255)  # the file name as the user gave it
    file = models.FileField(upload_to="uploads/%Y/%m/", max_length=255)
    size = models.BigIntegerField(default=0)
    digest = models.CharField(max_length=64, db_index=True)  # sha256 of the file: the same file twice
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor = models.CharField(max_length=200, blank=True, default="")
    # What was detected: "csv" | "xlsx" | "xls" | "ods"; the encoding and delimiter of a text file.
    format = models.CharField(max_length=8, blank=True, default="")
    encoding = models.CharField(max_length=16, blank=True, default="")
    delimiter = models.CharField(max_length=4, blank=True, default="")
    dry_run = models.BooleanField(default=False)
    update_accepted = models.BooleanField(default=False)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    rows = models.PositiveIntegerField(default=0)  # data rows in the file (the header not counted)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    row_errors = models.JSONField(default=list, blank=True)  # [{"row", "lead_id", "code", "message"}]
    warnings = models.JSONField(default=list, blank=True)  # [str]
    columns = models.JSONField(default=dict, blank=True)  # header → field key, "LeadID", platform or None
    preview = models.JSONField(default=list, blank=True)  # a dry run's first rows: what would happen
    error = models.JSONField(default=dict, blank=True)  # a file-level problem: {"code", "message"}
    # Who is processing it: a process holds the lease while it works and renews it every part; a worker's
    # sweep queues the task again for an upload whose lease ran out (its process died) or whose task was lost.
    lease_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["source", "digest"], name="upload_source_digest")]

    def __str__(self) -> str:
        return f"{self.upload_id} {self.name}"

    @property
    def actor_label(self) -> str:
        """How a lead's history names this upload."""
        return f"upload {self.name} ({self.upload_id})"
