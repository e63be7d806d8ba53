"""Staff authentication: OAuth2 password flow, JWT access tokens, failed-login throttling in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.settings import Settings
from cases.models import LoginAttempt, Staff
from cases.passwords import verify_password

ALGORITHM = "HS256"
AUDIENCE = "shenbao-staff"
CLIENT_FAILURE_FACTOR = 4  # one address may fail for a few usernames before it is throttled too


class LoginRefused(Exception):
    """Wrong username or password (the same answer for both)."""


class LoginThrottled(Exception):
    """Too many failed logins for this username or client; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed logins; retry in {retry_after} s")


@dataclass(frozen=True)
class TokenClaims:
    staff_id: int
    role: str
    area_code: str
    expires_at: datetime


def issue_token(*, staff: Staff, settings: Settings, now: datetime) -> tuple[str, int]:
    """A signed JWT for `staff` and its lifetime in seconds."""
    lifetime = timedelta(minutes=settings.access_token_minutes)
    payload = {
        "sub": str(staff.id),
        "role": str(staff.role),
        "area": staff.area_code,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(payload, settings.secret_key, algorithm=ALGORITHM), int(lifetime.total_seconds())


def read_token(token: str, *, settings: Settings, now: datetime) -> TokenClaims | None:
    """The claims of a valid, unexpired token, or None."""
    try:
        payload = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"verify_exp": False, "require": ["sub", "exp", "aud"]},
        )
        expires_at = datetime.fromtimestamp(int(payload["exp"]), tz=now.tzinfo)
        staff_id = int(payload["sub"])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    if expires_at <= now:  # checked against the injected clock, not the machine's
        return None
    return TokenClaims(staff_id, str(payload.get("role")), str(payload.get("area")), expires_at)


def _failures_since(
    db: Session, since: datetime, *, username: str | None = None, client: str | None = None
) -> int:
    query = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.at > since, LoginAttempt.succeeded.is_(False))
    )
    if username is not None:
        query = query.where(LoginAttempt.username == username)
    if client is not None:
        query = query.where(LoginAttempt.client == client)
    return db.scalar(query) or 0


def authenticate(
    *, db: Session, settings: Settings, username: str, password: str, client: str | None, now: datetime
) -> Staff:
    """Check a login; every attempt is recorded and committed, so throttling holds across processes."""
    key = username.strip().lower()[:64]
    window = timedelta(minutes=settings.login_window_minutes)
    since = now - window
    too_many = _failures_since(db, since, username=key) >= settings.login_max_failures or (
        client is not None
        and _failures_since(db, since, client=client) >= settings.login_max_failures * CLIENT_FAILURE_FACTOR
    )
    if too_many:
        raise LoginThrottled(int(window.total_seconds()))
    staff = db.scalar(select(Staff).where(func.lower(Staff.username) == key))
    ok = verify_password(password, staff.password_hash if staff is not None else None)
    ok = ok and staff is not None and staff.active
    db.add(LoginAttempt(username=key, client=client, at=now, succeeded=ok))
    db.commit()
    if not ok or staff is None:
        raise LoginRefused("wrong username or password")
    return staff
