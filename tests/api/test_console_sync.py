"""The console's tasks page brings the area's tasks up to date: the cases changed since the reminder tick
synced them, not every case of the area on every view."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import reminders
from cases.clock import FrozenClock
from cases.models import Assignment, Case, Staff, Task, TaskStatus
from cases.notify import RecordingNotifier
from tests.api.test_console import login


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def task(db: Session, case: Case, kind: str) -> Task:
    db.expire_all()
    return db.scalars(select(Task).where(Task.case_id == case.id, Task.kind == kind)).one()


def test_the_tasks_page_syncs_the_changed_cases_of_the_area(
    web: TestClient, seeded: Session, clock: FrozenClock, make_case: Callable[..., Case]
) -> None:
    changed, unchanged = make_case(), make_case()
    clock.advance(minutes=30)
    reminders.run_reminders(seeded, clock(), RecordingNotifier())  # the day's first tick syncs both
    verify = task(seeded, unchanged, "verify")
    other = seeded.scalars(  # a direct edit the rules would undo; not a change of the case
        select(Staff.id).where(Staff.username.in_(["cadre1", "cadre2"]), Staff.id != verify.assignee_staff_id)
    ).one()
    verify.assignee_staff_id = other
    clock.advance(minutes=10)
    assignment = seeded.scalars(select(Assignment).where(Assignment.case_id == changed.id)).one()
    assignment.acknowledged_at = clock()  # the cadre took the case up
    seeded.commit()
    cadre = assignment.staff_id
    username = seeded.get(Staff, cadre).username  # type: ignore[union-attr]
    login(web, username)
    assert web.get("/console/tasks").status_code == 200
    assert task(seeded, changed, "acknowledge").status == TaskStatus.DONE
    assert task(seeded, unchanged, "verify").assignee_staff_id == other  # left to the daily sweep
    clock.advance(days=1)  # no tick yet today: the page syncs every open case of the area
    web.cookies.clear()
    login(web, username)
    assert web.get("/console/tasks").status_code == 200
    assert task(seeded, unchanged, "verify").assignee_staff_id != other
