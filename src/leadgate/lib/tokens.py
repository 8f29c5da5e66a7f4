"""Secrets leadgate hands out: API keys, personal tokens and webhook signing secrets."""

from __future__ import annotations

import base64
import hashlib
import secrets

INGESTION_KEY_PREFIX = "lgk_"
PERSONAL_TOKEN_PREFIX = "lgt_"  # noqa: S105 (a prefix, not a secret)
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105


def new_api_secret(prefix: str) -> str:
    """A random key with a readable prefix (``lgk_…``), so a leaked one is easy to recognise."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored instead of the secret: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 24 random bytes in base64."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")
