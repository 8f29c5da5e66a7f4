"""Leads and their history (SPEC §1 "Lead")."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from leadgate.lib.ids import new_lead_id
from leadgate.rules.catalogue import CATALOGUE, Status
from leadgate.sources.models import Source


class ReceivedVia(models.TextChoices):
    API = "api"
    FORM = "form"
    UPLOAD = "upload"
    EVENT_APP = "event_app"


class Lead(models.Model):
    # Unique by a constraint (Meta), not ``unique=True``: on PostgreSQL that would add a second index for
    # LIKE queries, which nothing asks and which every uploaded lead pays for.
    lead_id = models.CharField(max_length=32, default=new_lead_id, editable=False)
    # Not indexed on its own: every index below starts with the source. (An upload writes a million rows,
    # and each index costs each row a B-tree insert.)
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="leads", db_index=False)
    status = models.CharField(
        max_length=12, choices=[(s.value, s.value) for s in Status], default=Status.PROCESSING
    )
    disposition_code = models.CharField(
        max_length=48, choices=[(d.code, d.code) for d in CATALOGUE], blank=True, default=""
    )
    custom_reason = models.TextField(blank=True, default="")
    problems = models.JSONField(default=list, blank=True)
    values = models.JSONField(default=dict, blank=True)  # as last submitted: what a re-upload re-validates
    clean = models.JSONField(default=dict, blank=True)  # standardised: what gets delivered
    received_via = models.CharField(max_length=12, choices=ReceivedVia.choices, default=ReceivedVia.API)
    # The upload that created the lead. No database constraint: the upload is stored before its leads and
    # leadgate never deletes one (should an admin, Django still sets its leads' link to NULL), while the
    # check cost PostgreSQL a lookup per uploaded lead (a tenth of storing it).
    upload = models.ForeignKey(
        "files.Upload",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
        db_constraint=False,
    )
    # The sender's own id for this lead (API `external_id`): a retry that repeats it creates nothing new.
    external_id = models.CharField(max_length=200, blank=True, default="")
    # Dedupe keys as the engine normalised them; indexed so a lookup never scans the leads.
    email_key = models.CharField(max_length=320, blank=True, default="")
    phone_key = models.CharField(max_length=32, blank=True, default="")
    submitted_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["source", "status"], name="lead_source_status"),
            models.Index(fields=["source", "disposition_code"], name="lead_source_code"),
            models.Index(fields=["source", "submitted_at"], name="lead_source_submitted"),
            models.Index(fields=["source", "updated_at"], name="lead_source_updated"),
            # Dedupe looks keys up in one source or in all; the key first serves both, with one index.
            models.Index(fields=["email_key", "source"], name="lead_email_source"),
            models.Index(fields=["phone_key", "source"], name="lead_phone_source"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["lead_id"], name="unique_lead_id"),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="unique_source_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.lead_id


class LeadEvent(models.Model):
    """One entry in a lead's history: who or what changed it, when, and how."""

    class Kind(models.TextChoices):
        RECEIVED = "received"
        REPROCESSED = "reprocessed"
        EDITED = "edited"
        APPROVED = "approved"
        REJECTED = "rejected"
        REDELIVERED = "redelivered"  # someone asked for the lead to be posted to a destination again

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()  # read per lead (by the lead's index), never across leads
    kind = models.CharField(max_length=16, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor = models.CharField(max_length=200, blank=True, default="")  # "api", "upload leads.csv", "cli"…
    status_before = models.CharField(max_length=12, blank=True, default="")
    status_after = models.CharField(max_length=12, blank=True, default="")
    code_before = models.CharField(max_length=48, blank=True, default="")
    code_after = models.CharField(max_length=48, blank=True, default="")
    changes = models.JSONField(default=dict, blank=True)  # {field: [before, after]}
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"


class IdempotencyRecord(models.Model):
    """The answer to a request made with an ``Idempotency-Key``, so a retry gets it again and creates nothing.

    Written in the same transaction as the leads it created; kept at least a day (the worker purges older
    ones).
    """

    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_digest = models.CharField(max_length=64)  # the same key with another body is refused
    status_code = models.PositiveSmallIntegerField(default=201)
    response = models.JSONField(default=list)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="unique_idempotency_key")]

    def __str__(self) -> str:
        return self.key


class KeptRejection(models.Model):
    """A Resolve group someone marked "keep rejected": those leads are rejected rightly, hide them.

    Shared by the team and kept across sign-ins. A group is named as ``leads.resolve.Group`` names it:
    disposition code, field and value (the domain for domain codes).
    """

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="kept_rejections")
    code = models.CharField(max_length=48)
    field = models.CharField(max_length=100, blank=True, default="")
    value = models.TextField(blank=True, default="")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "code", "field", "value"], name="unique_kept_rejection")
        ]

    def __str__(self) -> str:
        return f"{self.source.slug} {self.code} {self.field}={self.value!r}"


class ReprocessRun(models.Model):
    """Leads being decided again in the background (Resolve → Reprocess), with the progress the page shows.

    The LeadIDs are fixed when the run is queued: the group as the user saw it. The worker writes ``done``
    and ``outcome`` after each batch, so the page can show a progress bar and a resumed run skips what
    was done.
    """

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="reprocess_runs")
    lead_ids = models.JSONField(default=list)
    note = models.TextField(blank=True, default="")  # written in each lead's history
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    outcome = models.JSONField(default=dict, blank=True)  # {"reprocessed", "changed", "status": {…}}
    error = models.TextField(blank=True, default="")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The worker doing the run holds it until then (renewed after each batch); a run whose holder died is
    # taken up again by the worker's sweep. ``enqueued_at``: when a task for it was last queued.
    lease_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["source", "state"], name="reprocess_run_source_state")]

    def __str__(self) -> str:
        return f"reprocess {self.source.slug} {self.done}/{self.total} {self.state}"

    @property
    def active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)
