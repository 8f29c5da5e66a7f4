"""People who sign in, and the role that decides what they may do."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"  # everything, including users and keys
    MANAGER = "manager", "Manager"  # sources, lists, leads, uploads
    VIEWER = "viewer", "Viewer"  # read-only


class User(AbstractUser):
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)

    def can_manage(self) -> bool:
        return self.is_active and self.role in (Role.ADMIN, Role.MANAGER)


class ApiKey(models.Model):
    """A secret that authenticates API calls (SPEC §4, §6).

    An ingestion key (``lgk_…``) may only post leads to its one source; a personal token (``lgt_…``) acts
    as its user, with the user's role. Only a SHA-256 digest is stored: the secret is shown once, at creation.
    Keys are long random strings, so a fast digest is enough; no slow password hash is needed.
    """

    class Kind(models.TextChoices):
        INGESTION = "ingestion"
        PERSONAL = "personal"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16)  # the first characters, to tell keys apart in lists
    digest = models.CharField(max_length=64, unique=True)
    source = models.ForeignKey(
        "sources.Source", on_delete=models.CASCADE, null=True, blank=True, related_name="api_keys"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="api_tokens")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="ingestion", source__isnull=False, user__isnull=True))
                | (models.Q(kind="personal", user__isnull=False, source__isnull=True)),
                name="api_key_owner_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
