"""Staff password hashing (argon2 through pwdlib) and one-time password generation."""

from __future__ import annotations

import secrets
from functools import lru_cache

from pwdlib import PasswordHash

GENERATED_PASSWORD_BYTES = 9  # 12 url-safe characters


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """True when `password` matches; a missing hash is still checked against a dummy to even out timing."""
    if hashed is None:
        _hasher().verify(password, _dummy_hash())
        return False
    return _hasher().verify(password, hashed)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
