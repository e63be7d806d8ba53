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
from cases.crypto import Vault
from cases.ids import check_digit
from cases.intake import ReportDraft, submit_report
from cases.models import Case, CaseStatus, Channel, ReporterKind, Staff
from cases.notify import RecordingNotifier

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
def app(
    settings: Settings, clock: FrozenClock, seeded: Session, notifier: RecordingNotifier
) -> Iterator[FastAPI]:
    application = create_app(settings, clock=clock, notifier=notifier)
    yield application
    application.state.engine.dispose()  # no pooled connections left behind on the shared PostgreSQL


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


def make_id(first17: str) -> str:
    """A valid GB 11643 ID number from its first 17 digits."""
    return first17 + check_digit(first17)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def make_case(
    seeded: Session, settings: Settings, clock: FrozenClock, notifier: RecordingNotifier
) -> Callable[..., Case]:
    """Open a case through the domain's intake (as a household would by SMS) and commit it."""
    vault = Vault(settings.secret_key)
    counter = iter(range(1, 10_000))

    def make(village: str = demo.MEIHUA, *, status: CaseStatus | None = None, **fields: object) -> Case:
        n = next(counter)
        values: dict[str, object] = {
            "channel": Channel.SMS,
            "reporter_kind": ReporterKind.SELF,
            "raw_text": f"我家老人住院了，花了三万多，身份证{make_id(f'43042119600101{n:03d}')}",
            "risks": ["01"],
            "head_name": f"张{'三四五六七八九'[n % 7]}",
            "id_number": make_id(f"43042119600101{n:03d}"),
            "phone": f"1390734{n:04d}",
            "household_size": 4,
            "village_code": village,
        }
        values.update(fields)
        result = submit_report(
            db=seeded,
            vault=vault,
            draft=ReportDraft(**values),
            now=clock(),
            notifier=notifier,  # type: ignore[arg-type]
        )
        if status is not None:  # test set-up only: jump to a later step without walking the workflow
            result.case.status = status
        seeded.commit()
        return result.case

    return make
