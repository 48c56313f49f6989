"""Encryption of LMS secrets at rest (Fernet, keys from FIELD_ENCRYPTION_KEY).

Several comma-separated keys may be configured: the first encrypts, every key decrypts,
which is how a key is rotated (see the README).
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY holds a key that is not a valid Fernet key.") from exc


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(token: str) -> str:
    """Raise ImproperlyConfigured when no configured key opens the token."""
    if not token:
        return ""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored LMS secret cannot be decrypted with the configured FIELD_ENCRYPTION_KEY."
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt with the first (newest) key."""
    return _current().rotate(token.encode()).decode() if token else ""
