"""API keys: ingestion keys for sources and personal tokens, created (shown once), listed, revoked."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from leadgate.accounts.models import ApiKey, Role
from leadgate.accounts.services import create_api_key, describe_api_key, revoke_api_key

from .auth import key_auth, require_role
from .problems import AUTH_ERRORS, Problem, ProblemSchema
from .schemas import KeyCreatedOut, KeyCreateIn, KeyOut
from .sources import get_source

router = Router(tags=["keys"])


def _visible(request: HttpRequest) -> Any:
    """Admins see every key; managers ingestion keys and their own tokens; viewers their own tokens."""
    me = require_role(request, Role.VIEWER)
    assert me.user is not None
    keys = ApiKey.objects.select_related("source", "user")
    if me.user.role == Role.ADMIN:
        return keys
    if me.user.role == Role.MANAGER:
        return keys.filter(kind=ApiKey.Kind.INGESTION) | keys.filter(user=me.user)
    return keys.filter(user=me.user)


@router.get("/keys", auth=key_auth, response={200: list[KeyOut], **AUTH_ERRORS})
def list_keys(request: HttpRequest) -> list[dict[str, Any]]:
    return [describe_api_key(k) for k in _visible(request).order_by("-created_at", "-id")]


@router.post("/keys", auth=key_auth, response={201: KeyCreatedOut, 404: ProblemSchema, **AUTH_ERRORS})
def create_key(request: HttpRequest, body: KeyCreateIn) -> Status:
    """With `source`: an ingestion key for that source (manager or admin). Without: a personal token for
    yourself. The secret is in `key`, shown this once."""
    if body.source:
        me = require_role(request, Role.MANAGER)
        key, secret = create_api_key(body.name, source=get_source(body.source), created_by=me.user)
    else:
        me = require_role(request, Role.VIEWER)
        key, secret = create_api_key(body.name, user=me.user, created_by=me.user)
    return Status(201, {**describe_api_key(key), "key": secret})


@router.delete("/keys/{key_id}", auth=key_auth, response={200: KeyOut, 404: ProblemSchema, **AUTH_ERRORS})
def revoke_key(request: HttpRequest, key_id: int) -> dict[str, Any]:
    """Revoke a key from now on (it stays listed, with its revocation time)."""
    key = _visible(request).filter(pk=key_id).first()
    if key is None:
        raise Problem(404, "unknown_key", f"No key {key_id} that you may revoke.")
    revoke_api_key(key)
    return describe_api_key(key)
