"""Creating users and giving them a role."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from leadgate.accounts.models import ApiKey, Role, User
from leadgate.lib.tokens import INGESTION_KEY_PREFIX, PERSONAL_TOKEN_PREFIX, digest, new_api_secret

if TYPE_CHECKING:  # sources depends on nothing here; only the type is needed
    from leadgate.sources.models import Source

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


@transaction.atomic
def create_api_key(
    name: str,
    *,
    source: Source | None = None,
    user: User | None = None,
    created_by: User | None = None,
) -> tuple[ApiKey, str]:
    """An ingestion key for ``source`` or a personal token for ``user``; returns it and its secret.

    The secret is returned only here: leadgate keeps its digest, so it cannot be shown again.
    """
    if (source is None) == (user is None):
        raise ValueError("a key belongs to either a source or a user")
    prefix = INGESTION_KEY_PREFIX if source is not None else PERSONAL_TOKEN_PREFIX
    secret = new_api_secret(prefix)
    key = ApiKey.objects.create(
        kind=ApiKey.Kind.INGESTION if source is not None else ApiKey.Kind.PERSONAL,
        name=name.strip() or ("ingestion key" if source is not None else "personal token"),
        prefix=secret[:10],
        digest=digest(secret),
        source=source,
        user=user,
        created_by=created_by,
    )
    return key, secret


def describe_api_key(key: ApiKey) -> dict[str, Any]:
    """A key as lists show it (never its secret)."""
    return {
        "id": key.pk,
        "kind": key.kind,
        "name": key.name,
        "prefix": key.prefix,
        "source": key.source.slug if key.source else None,
        "user": key.user.username if key.user else None,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


def revoke_api_key(key: ApiKey) -> bool:
    """Revoke ``key`` from now on; False when it was revoked already."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    forget_authenticated_keys()
    return True


# last_used_at is for people ("was this key used this week?"): writing it on every request would add a
# write to each lead post, so it is written at most once a minute per key and process.
_LAST_USED_EVERY = dt.timedelta(minutes=1)
_last_used_written: dict[int, dt.datetime] = {}
# A key found is remembered for a few seconds per process: the lookup (a join of key and user) costs more
# than deciding a lead. A revocation therefore reaches other processes within AUTH_CACHE_SECONDS.
AUTH_CACHE_SECONDS = 5.0
_authenticated: dict[str, tuple[float, ApiKey]] = {}


def authenticate_api_key(secret: str) -> ApiKey | None:
    """The active key with this secret (and an active owner), or None."""
    if not secret.startswith((INGESTION_KEY_PREFIX, PERSONAL_TOKEN_PREFIX)) or len(secret) > 100:
        return None
    hashed = digest(secret)
    cached = _authenticated.get(hashed)
    if cached is not None and time.monotonic() - cached[0] < AUTH_CACHE_SECONDS:
        return cached[1]
    key = ApiKey.objects.select_related("user").filter(digest=hashed, revoked_at__isnull=True).first()
    if key is None or (key.user is not None and not key.user.is_active):
        _authenticated.pop(hashed, None)
        return None
    if len(_authenticated) > 10_000:  # keys are few; this only bounds a flood of distinct ones
        _authenticated.clear()
    _authenticated[hashed] = (time.monotonic(), key)
    now = timezone.now()
    if now - _last_used_written.get(key.pk, dt.datetime.min.replace(tzinfo=dt.UTC)) > _LAST_USED_EVERY:
        _last_used_written[key.pk] = now
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def forget_authenticated_keys() -> None:
    """Drop this process's remembered keys (after a revocation, and between tests)."""
    _authenticated.clear()
