"""API fixtures: the app on the test database with the demo county, a TestClient, bearer headers per user."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.app import create_app
from api.auth import issue_token
from api.settings import Settings
from cases import demo
from cases.clock import FrozenClock
from cases.models import Staff

Headers = dict[str, str]


@pytest.fixture
def seeded(db: Session, clock: FrozenClock) -> Session:
    """The demo county, its region setting and staff (no cases)."""
    demo.seed_areas(db=db, rows=demo.AREAS)
    demo.seed_region_setting(db)
    demo.seed_staff(db, clock())
    db.commit()
    return db


@pytest.fixture
def app(settings: Settings, clock: FrozenClock, seeded: Session) -> FastAPI:
    return create_app(settings, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def auth(seeded: Session, settings: Settings, clock: FrozenClock) -> Callable[[str], Headers]:
    """Bearer headers for a demo username (tokens issued directly; the login route has its own tests)."""

    def headers(username: str) -> Headers:
        staff = seeded.scalars(select(Staff).where(Staff.username == username)).one()
        token, _ = issue_token(staff=staff, settings=settings, now=clock())
        return {"Authorization": f"Bearer {token}"}

    return headers
