"""Post-out (SPEC §1 "Destination", "Delivery"): where accepted leads go, and each lead's way there.

A Delivery is one lead × one destination, written in the transaction that accepted the lead, so a crash never
loses one; the engine (`delivery.engine`) posts it. Every attempt is logged with the HTTP exchanges it made.
"""

from __future__ import annotations

import os
from typing import Any

from django.db import models

from leadgate.sources.models import ListMapper, key_validator


class Destination(models.Model):
    class Kind(models.TextChoices):
        WEBHOOK = "webhook"
        HUBSPOT = "hubspot"
        SALESFORCE = "salesforce"
        MARKETO = "marketo"

    key = models.CharField(max_length=100, unique=True, validators=[key_validator])
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    url = models.URLField(max_length=500, blank=True)
    # Secrets never live in definition files: only the name of the environment variable that holds one.
    secret_env = models.CharField(max_length=100, blank=True)
    # Or one entered in the UI, encrypted (delivery.secrets); it wins over the environment.
    secret_encrypted = models.TextField(blank=True, default="")
    config = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    # The circuit breaker: after LEADGATE_DELIVERY_PAUSE_AFTER failed attempts in a row the destination
    # pauses until ``paused_until``; then one probe decides whether it resumes or pauses longer.
    failures_in_a_row = models.PositiveIntegerField(default=0)
    paused_until = models.DateTimeField(null=True, blank=True)
    pause_reason = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name or self.key

    @property
    def health(self) -> str:
        """``disabled``, ``paused`` (by its circuit breaker), ``failing`` (its last requests failed) or
        ``delivering``: one word for the web UI, the API and the CLI alike."""
        from django.utils import timezone

        if not self.enabled:
            return "disabled"
        if self.paused_until and self.paused_until > timezone.now():
            return "paused"
        return "failing" if self.failures_in_a_row else "delivering"

    def secret(self) -> str:
        """The secret to post with: the one entered in the UI, else the environment variable's."""
        from leadgate.delivery.secrets import decrypt

        if self.secret_encrypted:
            return decrypt(self.secret_encrypted)
        return os.environ.get(self.secret_env, "") if self.secret_env else ""

    def set_secret(self, secret: str) -> None:
        from leadgate.delivery.secrets import encrypt

        self.secret_encrypted = encrypt(secret)


class DestinationMapping(models.Model):
    """One output field: a source field or a static value, optionally through a list mapper."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="mapping")
    position = models.PositiveIntegerField(default=0)
    from_field = models.CharField(max_length=100, blank=True)
    value = models.CharField(max_length=500, blank=True)
    to = models.CharField(max_length=200)
    mapper = models.ForeignKey(ListMapper, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.from_field or repr(self.value)} → {self.to}"


class Delivery(models.Model):
    """One lead on its way to one destination."""

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        RETRYING = "retrying"
        DEAD = "dead"  # gave up after the last attempt; a person may retry it
        REJECTED = "rejected"  # the destination refused the lead for good (the lead is rejected too)

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="deliveries")
    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="deliveries")
    # The lead's source, kept here so a source's delivery counts never join a million leads.
    source = models.ForeignKey(
        "sources.Source", on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    message_id = models.CharField(max_length=40, unique=True)  # `webhook-id`: the same for every attempt
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When it is due; while a worker holds it, when its claim ends (a crashed worker's claim just expires).
    next_attempt_at = models.DateTimeField()
    claim = models.CharField(max_length=32, blank=True, default="")
    external_id = models.CharField(max_length=200, blank=True, default="")  # the CRM record's id
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "destination"], name="unique_lead_destination")
        ]
        indexes = [
            models.Index(fields=["destination", "state", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["source", "state"], name="delivery_source_state"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} {self.state}"


class DeliveryAttempt(models.Model):
    """One try of one delivery: the verdict and the HTTP exchanges it rests on (secrets redacted).

    A batch destination answers a hundred leads with one exchange; each lead's attempt names the same
    exchange rows, so the log stays one request per request.
    """

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    verdict = models.CharField(max_length=10)  # delivered | retry | refused
    reason = models.TextField(blank=True, default="")
    external_id = models.CharField(max_length=200, blank=True, default="")
    duration = models.FloatField(default=0.0)  # seconds, all exchanges together
    exchanges: models.ManyToManyField[Exchange, Any] = models.ManyToManyField(
        "Exchange", related_name="attempts"
    )

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.verdict}"


class Exchange(models.Model):
    """One HTTP request and its answer, as the delivery log shows them (secrets redacted before storing)."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="exchanges")
    at = models.DateTimeField(db_index=True)  # the log is purged by age
    purpose = models.CharField(max_length=20, default="delivery")  # delivery | test | test_lead
    method = models.CharField(max_length=10)
    url = models.TextField()
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True, default="")
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True, default="")
    response_body = models.TextField(blank=True, default="")
    duration = models.FloatField(default=0.0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.method} {self.url} → {self.status or self.error}"


class StatusCallback(models.Model):
    """One status change of a lead, waiting to be posted to its source's callback URL (or posted).

    Written in the transaction that changed the lead, so no change is lost; the payload is the change as it
    was, so a late retry never reports a newer status under an older timestamp.
    """

    class State(models.TextChoices):
        PENDING = "pending"
        RETRYING = "retrying"
        DELIVERED = "delivered"
        DEAD = "dead"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="status_callbacks")
    url = models.URLField(max_length=500)
    message_id = models.CharField(max_length=40, unique=True)  # the `webhook-id` header
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="callback_due")]

    def __str__(self) -> str:
        return f"{self.message_id} {self.state}"
