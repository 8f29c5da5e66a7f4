"""Destinations: where accepted leads are posted (SPEC §1 "Destination").

This holds the configuration that `leadgate apply` manages; the delivery engine arrives with its own issue.
"""

from __future__ import annotations

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
    config = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name or self.key


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
