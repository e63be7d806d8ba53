"""The console's Done button on a step's task: 入户核实 closes once the home visit is recorded, as 完成 in the
chat (757addf); the button closed it with no visit on record, its reminders stopped and the case waited in
'applied' for a visit no one had recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import demo
from cases.models import AuditEntry, Case, CaseStatus, Task, TaskStatus

from .test_console import login


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def task(db: Session, case: Case, kind: str) -> Task:
    db.expire_all()
    found = db.scalar(select(Task).where(Task.case_id == case.id, Task.kind == kind))
    assert found is not None, kind
    return found


def test_done_on_the_home_visit_is_refused_with_where_it_is_recorded(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case(demo.MEIHUA)
    csrf = login(web, "cadre1")
    page = web.get(f"/console/cases/{case.number}").text  # brings the case's tasks up to date
    verify, ack = task(seeded, case, "verify"), task(seeded, case, "acknowledge")
    assert f'action="/console/tasks/{verify.id}/done"' not in page  # no button that cannot work
    assert "在下面登记入户核实后自动办结" in page
    assert f'action="/console/tasks/{ack.id}/done"' in page

    refused = web.post(f"/console/tasks/{verify.id}/done",
                       data={"csrf": csrf, "note": "已入户", "next": f"/console/cases/{case.number}"})
    assert refused.status_code == 409
    assert (f"未办结：任务 #{verify.id}（入户核实）要登记入户核实才能办结，请在下面填写“登记入户核实”"
            "（核实组至少两人，以及核实的情况）。") in refused.text
    assert 'id="action-record_home_visit"' in refused.text or 'id="action-sign_at_visit"' in refused.text
    verify = task(seeded, case, "verify")
    assert verify.status == TaskStatus.OPEN and verify.done_note is None
    assert seeded.scalar(select(AuditEntry).where(AuditEntry.action == "task.complete")) is None

    done = web.post(f"/console/tasks/{ack.id}/done",
                    data={"csrf": csrf, "next": f"/console/cases/{case.number}"})
    assert done.status_code == 303  # the acknowledgement is closed by Done, as before
    assert task(seeded, case, "acknowledge").status == TaskStatus.DONE


def test_done_on_another_steps_task_says_it_closes_with_the_step(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case(demo.MEIHUA, status=CaseStatus.VERIFIED)
    csrf = login(web, "meihua")  # the village committee reviews
    page = web.get(f"/console/cases/{case.number}").text
    review = task(seeded, case, "village_review")
    assert "在下面办理这一步后自动办结" in page
    refused = web.post(f"/console/tasks/{review.id}/done", data={"csrf": csrf})
    assert refused.status_code == 409
    assert f"未办结：任务 #{review.id}（村评议）在下面办理这一步后自动办结。" in refused.text
    assert task(seeded, case, "village_review").status == TaskStatus.OPEN
