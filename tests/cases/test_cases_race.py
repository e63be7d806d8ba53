"""One open case per household when two channels report at the same moment (PostgreSQL, two connections)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from cases.clock import FrozenClock
from cases.crypto import Vault
from cases.intake import IntakeResult, ReportDraft, submit_report
from cases.models import Case, CaseStatus, Channel, Household, ReporterKind
from cases.notify import NullNotifier
from tests.cases.conftest import SECRET, VILLAGE, build_areas

HEAD_ID = "430421199001013458"


def _draft(channel: Channel) -> ReportDraft:
    return ReportDraft(
        channel=channel,
        reporter_kind=ReporterKind.SELF,
        raw_text="家里有人生病",
        risks=["01"],
        head_name="张三",
        id_number=HEAD_ID,
        village_code=VILLAGE,
    )


def _race(session_factory: sessionmaker[Session], clock: FrozenClock) -> tuple[IntakeResult, IntakeResult]:
    """A reports and holds its transaction open while B reports the same household; then A commits."""
    vault = Vault(SECRET)
    results: dict[str, IntakeResult] = {}
    errors: list[BaseException] = []
    with session_factory() as first:
        results["a"] = submit_report(
            db=first, vault=vault, draft=_draft(Channel.WECHAT), now=clock(), notifier=NullNotifier()
        )

        def second() -> None:
            try:
                with session_factory() as db:
                    results["b"] = submit_report(
                        db=db, vault=vault, draft=_draft(Channel.SMS), now=clock(), notifier=NullNotifier()
                    )
                    db.commit()
            except BaseException as exc:  # noqa: BLE001 - surfaced below
                errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # let B reach the unique index or the row lock; the outcome must not depend on it
        first.commit()
        thread.join(timeout=30)
    assert not errors, errors
    return results["a"], results["b"]


@pytest.fixture
def postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks and unique-index waits are what is tested; SQLite has a single writer")


def test_new_household_reported_twice_at_once(
    postgres_only: None, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with session_factory() as db:
        build_areas(db)
        db.commit()
    a, b = _race(session_factory, clock)
    assert not a.joined_existing and b.joined_existing and a.case.id == b.case.id
    with session_factory() as db:
        assert len(db.scalars(select(Household)).all()) == 1
        assert len(db.scalars(select(Case)).all()) == 1


def test_existing_household_reported_twice_at_once(
    postgres_only: None, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with session_factory() as db:
        build_areas(db)
        old = submit_report(
            db=db, vault=Vault(SECRET), draft=_draft(Channel.WEB), now=clock(), notifier=NullNotifier()
        )
        old.case.status = CaseStatus.REFUSED
        db.commit()
    a, b = _race(session_factory, clock)
    assert a.case.id == b.case.id != old.case.id and b.joined_existing
    with session_factory() as db:
        open_cases = db.scalars(select(Case).where(Case.status == CaseStatus.APPLIED)).all()
        assert len(open_cases) == 1
