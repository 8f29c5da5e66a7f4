"""API personas: the source's own ingestion key, a key of another source (the outsider), and personal
tokens for an admin, a manager and a viewer."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from leadgate.accounts.services import create_api_key, create_user
from leadgate.sources.definition_file import apply_definition
from leadgate.sources.models import Source

OTHER_SOURCE = """
sources:
  - slug: other-event
    name: Other Event
    status: live
    fields:
      - {key: email, label: Email, type: email, required: true}
"""


class Api:
    """A test client that speaks JSON with a bearer token."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        return out

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self._headers(None))

    def send(self, method, path, body=None, *, content_type="application/json", headers=None):
        data = body if body is None or isinstance(body, str | bytes) else json.dumps(body)
        return getattr(self.client, method)(
            f"/api/v1{path}", data=data, content_type=content_type, headers=self._headers(headers)
        )

    def post(self, path, body=None, **kw):
        return self.send("post", path, body, **kw)


@pytest.fixture(autouse=True)
def _test_hosts(settings):
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    settings.LEADGATE_API_RATE_LIMIT = 0


@pytest.fixture
def other(db):
    apply_definition(OTHER_SOURCE)
    return Source.objects.get(slug="other-event")


@pytest.fixture
def personas(summit, other):
    """{"owner": the summit's ingestion key, "outsider": other-event's key, "admin"/"manager"/"viewer":
    personal tokens}."""
    out = {}
    out["owner"] = create_api_key("booth app", source=summit)[1]
    out["outsider"] = create_api_key("other app", source=other)[1]
    for role in ("admin", "manager", "viewer"):
        user = create_user(f"{role}-user", role, "a-long-password-1")
        out[role] = create_api_key(f"{role} token", user=user)[1]
    return {name: Api(secret) for name, secret in out.items()}
