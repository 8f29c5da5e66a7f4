"""Who is calling: ingestion keys and personal tokens, roles, and the per-key rate limit."""

from __future__ import annotations

import math
import threading
import time

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from leadgate.accounts.models import ApiKey, Role
from leadgate.accounts.services import authenticate_api_key
from leadgate.leads.services import Actor
from leadgate.sources.models import Source

from .problems import Problem


class _TokenBucket:
    """Requests per minute per key, with bursts up to a minute's worth; counted per web process.

    A shared counter would cost a database write per request on the intake path, which is the path
    that must be fast; with N web processes a key gets up to N times the limit.
    """

    def __init__(self) -> None:
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: int, per_minute: int) -> float:
        """Seconds to wait before the next request is allowed; 0 when this one may go."""
        rate = per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key_id, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - at) * rate)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                return (1.0 - tokens) / rate
            self._buckets[key_id] = (tokens - 1.0, now)
            return 0.0


_buckets = _TokenBucket()


class KeyAuth(HttpBearer):
    """``Authorization: Bearer lgk_…`` (ingestion key) or ``lgt_…`` (personal token)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = authenticate_api_key(token.strip())
        if key is None:
            return None
        limit = settings.LEADGATE_API_RATE_LIMIT
        if limit:
            wait = _buckets.take(key.pk, limit)
            if wait:
                raise Problem(
                    429,
                    "rate_limited",
                    f"This key may make {limit} requests a minute; try again in {math.ceil(wait)} s.",
                    headers={"Retry-After": str(math.ceil(wait))},
                )
        return key


key_auth = KeyAuth()

_RANK = {Role.VIEWER: 1, Role.MANAGER: 2, Role.ADMIN: 3}


def caller(request: HttpRequest) -> ApiKey:
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    return key


def require_role(request: HttpRequest, role: Role) -> ApiKey:
    """The caller's key, if it is a personal token whose user has ``role`` or a higher one."""
    key = caller(request)
    if key.kind == ApiKey.Kind.INGESTION:
        raise Problem(
            403, "ingestion_key_not_allowed", "An ingestion key may only post leads; use a personal token."
        )
    assert key.user is not None
    if _RANK.get(Role(key.user.role), 0) < _RANK[role]:
        raise Problem(403, "role_not_allowed", f"This needs the {role.label.lower()} role or higher.")
    return key


def can_post_to(key: ApiKey, source: Source) -> bool:
    """An ingestion key posts to its own source only; a manager's or admin's token to any."""
    if key.kind == ApiKey.Kind.INGESTION:
        return key.source_id == source.pk
    assert key.user is not None
    return _RANK.get(Role(key.user.role), 0) >= _RANK[Role.MANAGER]


def actor_for(key: ApiKey) -> Actor:
    """How the history names this caller."""
    if key.kind == ApiKey.Kind.INGESTION:
        return Actor(f"api key {key.name}")
    return Actor(f"api token {key.name}", key.user)
