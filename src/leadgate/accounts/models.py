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
