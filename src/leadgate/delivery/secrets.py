"""Destination secrets at rest: encrypted with a key derived from the app's secret key.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under a key derived with HKDF from
``SECRET_KEY``, so a copy of the database alone reveals no CRM token. Keys in ``SECRET_KEY_FALLBACKS`` still
decrypt, so the secret key can be rotated without re-entering every destination's secret.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored secret no key can decrypt (the secret key changed without a fallback)."""


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"leadgate destination secrets")
    return Fernet(base64.urlsafe_b64encode(derived.derive(secret_key.encode("utf-8"))))


@cache
def _keys(secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet(key) for key in (secret_key, *fallbacks)])


def _cipher() -> MultiFernet:
    return _keys(settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ())))


def encrypt(secret: str) -> str:
    return _cipher().encrypt(secret.encode("utf-8")).decode("ascii") if secret else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        raise SecretUnreadable(
            "the stored secret cannot be decrypted with the current secret key; enter it again"
        ) from None
