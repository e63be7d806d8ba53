"""Annotated dependencies for thin routes: settings, session, clock, the signed-in staff, loaders that 404."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import read_token
from api.errors import ApiError, not_found
from api.scope import in_scope
from api.settings import Settings
from cases.crypto import Vault
from cases.intake import normalize_case_number
from cases.models import Case, Role, Staff
from cases.notify import Notifier

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    """One session per request; routes commit explicitly."""
    with request.app.state.sessions() as db:
        yield db


def get_now(request: Request) -> datetime:
    now: datetime = request.app.state.clock()
    return now


def get_vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


def get_notifier(request: Request) -> Notifier:
    notifier: Notifier = request.app.state.notifier
    return notifier


SettingsDep = Annotated[Settings, Depends(get_settings)]
VaultDep = Annotated[Vault, Depends(get_vault)]
NotifierDep = Annotated[Notifier, Depends(get_notifier)]
SessionDep = Annotated[Session, Depends(get_db)]
NowDep = Annotated[datetime, Depends(get_now)]


def get_current_staff(
    token: Annotated[str | None, Depends(oauth2_scheme)], db: SessionDep, settings: SettingsDep, now: NowDep
) -> Staff:
    """The active staff member behind the bearer token, or 401."""
    claims = read_token(token, settings=settings, now=now) if token else None
    staff = db.get(Staff, claims.staff_id) if claims else None
    if staff is None or not staff.active:
        raise ApiError(401, "not_authenticated", "sign in first", headers={"WWW-Authenticate": "Bearer"})
    return staff


CurrentStaff = Annotated[Staff, Depends(get_current_staff)]


def require_roles(*roles: Role) -> Callable[[Staff], Staff]:
    """A dependency admitting only the given roles (403 otherwise)."""

    def check(staff: CurrentStaff) -> Staff:
        if staff.role not in roles:
            raise ApiError(403, "role_not_allowed", f"this needs one of: {', '.join(r.value for r in roles)}")
        return staff

    return check


def load_case(number: str, staff: CurrentStaff, db: SessionDep) -> Case:
    """The case with this number inside the staff member's area; another area's case is 404, not 403."""
    case = db.scalar(select(Case).where(Case.number == normalize_case_number(number)))
    if case is None or not in_scope(staff, case.area_code):
        raise not_found("case")
    return case


CaseDep = Annotated[Case, Depends(load_case)]
