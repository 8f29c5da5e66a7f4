"""Standard Webhooks signatures (https://www.standardwebhooks.com, SPEC §6 "Webhook deliveries").

A receiver checks ``webhook-signature`` against ``webhook-id``, ``webhook-timestamp`` and the exact body bytes
with the shared secret, so it knows the post came from leadgate, unaltered, and not replayed later. The id
stays the same across retries (receivers drop repeats by it); the timestamp is the attempt's own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from leadgate.lib.tokens import WEBHOOK_SECRET_PREFIX

JSON = "application/json"


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_<base64>`` secret (the prefix is optional, as receivers accept it)."""
    encoded = secret.strip().removeprefix(WEBHOOK_SECRET_PREFIX)
    encoded += "=" * (-len(encoded) % 4)  # some senders hand out secrets without base64 padding
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "msg_id.timestamp.body">``."""
    if "." in msg_id:
        # The parts are joined with dots: a dot in the id would let one signed message pass for another.
        raise ValueError("a webhook id may not contain '.'")
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(
    secret: str, msg_id: str, body: bytes, *, timestamp: int | None = None, content_type: str = JSON
) -> dict[str, str]:
    """The headers of one signed post; ``timestamp`` (Unix seconds) defaults to now."""
    at = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "content-type": content_type,
        "webhook-id": msg_id,
        "webhook-timestamp": str(at),
        "webhook-signature": sign(secret, msg_id, at, body),
    }
