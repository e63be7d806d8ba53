"""Staff sign-in (OAuth2 password flow) and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import LoginRefused, LoginThrottled, authenticate, issue_token
from api.deps import CurrentStaff, NowDep, SessionDep, SettingsDep, VaultDep
from api.errors import ApiError, responses
from api.schemas import StaffOut, TokenOut
from api.views import staff_out

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, responses=responses(401, 422, 429))
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> TokenOut:
    """Exchange a username and password for a bearer token; repeated failures answer 429."""
    client = request.client.host if request.client else None
    try:
        staff = authenticate(
            db=db, settings=settings, username=form.username, password=form.password, client=client, now=now
        )
    except LoginThrottled as throttled:
        raise ApiError(
            429,
            "too_many_attempts",
            "too many failed sign-ins; try again later",
            headers={"Retry-After": str(throttled.retry_after)},
        ) from throttled
    except LoginRefused as refused:
        raise ApiError(
            401, "bad_credentials", "wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        ) from refused
    access, lifetime = issue_token(staff=staff, settings=settings, now=now)
    return TokenOut(access_token=access, expires_in=lifetime)


@router.get("/me", response_model=StaffOut, responses=responses(401))
def me(staff: CurrentStaff, db: SessionDep, vault: VaultDep) -> StaffOut:
    """The signed-in staff member."""
    return staff_out(db, staff, vault)
