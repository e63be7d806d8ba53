"""Console sessions: a random token in a Secure, HTTP-only, SameSite cookie; the database keeps its hash.

Every process reads the same table, so any web process serves any logged-in staff member. Every form
carries the session's CSRF token (checked in constant time); the login form, before a session exists,
uses a double-submit token (cookie + field).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from sqlalchemy import select

from api.deps import NowDep, SessionDep, SettingsDep
from api.settings import Settings
from cases.models import ConsoleSession, Role, Staff

COOKIE = "sb_console"
LOGIN_COOKIE = "sb_login_csrf"
SESSION_HOURS = 10


class LoginRequired(Exception):
    """No valid console session: the app answers with a redirect to the login page."""


class CsrfFailed(Exception):
    """A form without the right CSRF token: 403, nothing changed."""


class Forbidden(Exception):
    """This role may not use this page."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_secure(settings: Settings) -> bool:
    """Secure cookies always, except a development server on plain http (so `make run` works)."""
    return not (settings.environment == "development" and settings.public_url.startswith("http://"))


def start_session(db: Any, response: Response, *, staff: Staff, settings: Settings, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    db.add(
        ConsoleSession(
            token_hash=_hash(token),
            staff_id=staff.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )
    db.commit()
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        secure=cookie_secure(settings),
        samesite="lax",
        path="/console",
        max_age=SESSION_HOURS * 3600,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return token


def end_session(db: Any, request: Request, response: Response, now: datetime) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        row = db.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == _hash(token)))
        if row is not None and row.ended_at is None:
            row.ended_at = now
            db.commit()
    response.delete_cookie(COOKIE, path="/console")


@dataclass
class Viewer:
    """The signed-in staff member and their session's CSRF token."""

    staff: Staff
    csrf: str


def get_viewer(request: Request, db: SessionDep, now: NowDep) -> Viewer:
    token = request.cookies.get(COOKIE)
    row = (
        db.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == _hash(token))) if token else None
    )
    if row is None or row.ended_at is not None or row.expires_at <= now:
        raise LoginRequired()
    staff = db.get(Staff, row.staff_id)
    if staff is None or not staff.active:
        raise LoginRequired()
    return Viewer(staff=staff, csrf=row.csrf_token)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def get_form(request: Request) -> dict[str, Any]:
    """The submitted form: single values as str, repeated fields (checkboxes) as lists under 'name[]'."""
    form = await request.form()
    out: dict[str, Any] = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        out[key] = values if key.endswith("[]") else (values[-1] if values else "")
    return out


FormDep = Annotated[dict[str, Any], Depends(get_form)]


def check_csrf(viewer: Viewer, form: Mapping[str, Any]) -> None:
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, viewer.csrf):
        raise CsrfFailed()


def login_csrf(request: Request) -> str:
    """The login form's double-submit token (reuses the cookie's when present)."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)


def check_login_csrf(request: Request, form: Mapping[str, Any]) -> None:
    cookie, sent = request.cookies.get(LOGIN_COOKIE), form.get("csrf")
    if not cookie or not isinstance(sent, str) or not hmac.compare_digest(cookie, sent):
        raise CsrfFailed()


def require(viewer: Viewer, *roles: Role) -> None:
    if viewer.staff.role not in roles and viewer.staff.role != Role.ADMIN:
        raise Forbidden()


SettingsDepT = SettingsDep
