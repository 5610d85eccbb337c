"""Encrypting secrets at rest (provider keys, webhook secrets) with Fernet.

Keys come from ENCRYPTION_KEYS (comma-separated Fernet keys; the first
encrypts, all decrypt, so a new key can be put first and old data re-saved).
Without it, one key is derived from SECRET_KEY, which is enough for a single
install but means rotating SECRET_KEY makes stored secrets unreadable.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret cannot be read with the configured keys."""


def _derived_key(secret_key: str) -> bytes:
    material = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"agentry-secrets",
        info=b"fernet",
    ).derive(secret_key.encode())
    return base64.urlsafe_b64encode(material)


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    return MultiFernet([Fernet(_derived_key(secret_key))])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored secret cannot be decrypted with the configured "
            "ENCRYPTION_KEYS; it must be entered again."
        ) from None


def mask(secret: str) -> str:
    """What may be shown of a secret: its start and last four characters."""
    if len(secret) <= 8:
        return "…" + secret[-2:]
    return f"{secret[:3]}…{secret[-4:]}"
