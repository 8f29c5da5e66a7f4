"""Creating users and giving them a role."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import Permission
from django.db import transaction

from leadgate.accounts.models import Role, User

# Until the web UI exists, people work in Django's admin; a role maps onto its permissions.
_MANAGED_APPS = ("sources", "leads", "delivery")


def set_role(user: User, role: str) -> None:
    """Give ``user`` the role and the admin permissions that go with it."""
    user.role = Role(role)
    user.is_staff = True
    user.is_superuser = user.role == Role.ADMIN
    user.save()
    perms = Permission.objects.filter(content_type__app_label__in=_MANAGED_APPS)
    if user.role == Role.VIEWER:
        perms = perms.filter(codename__startswith="view_")
    user.user_permissions.set(perms if user.role != Role.ADMIN else [])


@transaction.atomic
def create_user(username: str, role: str, password: str, email: str = "") -> User:
    if User.objects.filter(username=username).exists():
        raise ValueError(f'a user named "{username}" already exists')
    user = User(username=username, email=email)
    user.set_password(password)
    user.save()
    set_role(user, role)
    return user


def generate_password() -> str:
    return secrets.token_urlsafe(12)
