"""A person asked for in a chat (人工) reaches the 12317 desk: the hotline sees the call-back with the number
masked, shows the number to dial (an audited view), and closes it with what the call settled, on the case's
timeline. It had no page: the chat promised a call no one was shown."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.models import AuditEntry, Case, CaseEvent, Task, TaskStatus

from .test_console import csrf_of, login
from .test_console_household_words import Household

PHONE = "13912345678"


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def card(html: str) -> str:
    start = html.index('id="chat-callbacks"')
    return html[start:html.index("</section>", start)]


def test_the_hotline_sees_dials_and_closes_a_call_back_a_household_asked_for(
    web: TestClient, seeded: Session
) -> None:
    household = Household(web)
    number = household.report()  # the household's chat is linked to its case
    assert "打您登记的号码 139****5678" in household.send("人工")  # the number it gave in the report
    household.send("1")
    task = seeded.scalars(select(Task).where(Task.kind == "callback")).one()
    case = seeded.scalars(select(Case).where(Case.number == number)).one()
    assert task.case_id == case.id

    csrf = login(web, "hotline")
    desk = web.get("/console/hotline").text
    shown = card(desk)
    assert f'id="callback-{task.id}"' in shown and "139****5678" in shown and PHONE not in shown
    assert number in shown  # the case it is about, linked

    revealed = web.post(f"/console/hotline/callbacks/{task.id}/reveal", data={"csrf": csrf})
    assert revealed.status_code == 200 and f'href="tel:{PHONE}"' in revealed.text
    seeded.expire_all()
    views = seeded.scalars(select(AuditEntry).where(AuditEntry.action == "reveal.callback_phone")).all()
    assert len(views) == 1 and views[0].entity_id == str(task.id) and PHONE not in str(views[0].detail)

    empty = web.post(f"/console/hotline/callbacks/{task.id}/done", data={"csrf": csrf, "note": " "})
    assert empty.status_code == 409 and "请写下通话结果" in empty.text
    done = web.post(f"/console/hotline/callbacks/{task.id}/done",
                    data={"csrf": csrf, "note": f"已回电，农户想问进度，号码{PHONE}"})
    assert done.status_code == 303
    seeded.expire_all()
    closed = seeded.get(Task, task.id)
    assert closed is not None and closed.status == TaskStatus.DONE and PHONE not in (closed.done_note or "")
    event = seeded.scalars(select(CaseEvent).where(CaseEvent.action == "callback_done")).one()
    assert event.case_id == case.id and "农户想问进度" in (event.note or "")
    assert f'id="callback-{task.id}"' not in card(web.get("/console/hotline").text)
    again = web.post(f"/console/hotline/callbacks/{task.id}/done", data={"csrf": csrf, "note": "再试"})
    assert again.status_code == 404  # closed: no longer one of the desk's


def test_a_cadre_cannot_use_the_desk_and_a_forged_form_changes_nothing(
    web: TestClient, seeded: Session
) -> None:
    household = Household(web)
    household.send("人工")
    household.send(PHONE)
    task = seeded.scalars(select(Task).where(Task.kind == "callback")).one()
    csrf = login(web, "cadre1")
    refused = web.post(f"/console/hotline/callbacks/{task.id}/done", data={"csrf": csrf, "note": "好"})
    assert refused.status_code in (403, 404)
    web.cookies.clear()
    login(web, "hotline")
    forged = web.post(f"/console/hotline/callbacks/{task.id}/done", data={"csrf": "forged", "note": "好"})
    assert forged.status_code in (400, 403)
    seeded.expire_all()
    assert seeded.get(Task, task.id).status == TaskStatus.OPEN  # type: ignore[union-attr]
    assert f'id="callback-{task.id}"' in card(web.get("/console/hotline").text)  # no case: the county desk's
    assert csrf_of(web.get("/console/hotline").text)


def test_the_same_call_backs_over_rest(
    web: TestClient, client: TestClient, auth: Callable[[str], dict[str, str]], seeded: Session
) -> None:
    household = Household(web)
    number = household.report()
    household.send("人工")
    household.send(PHONE)
    hotline = auth("hotline")
    listed = client.get("/api/hotline/callbacks", headers=hotline).json()
    assert len(listed) == 1 and listed[0]["case_number"] == number
    assert listed[0]["phone_masked"] == "139****5678" and PHONE not in str(listed[0])
    task_id = listed[0]["id"]
    assert client.get("/api/hotline/callbacks", headers=auth("cadre1")).status_code == 403
    revealed = client.post(f"/api/hotline/callbacks/{task_id}/reveal", headers=hotline).json()
    assert revealed["value"] == PHONE and revealed["audit_id"]
    assert client.post(f"/api/hotline/callbacks/{task_id}/done", headers=hotline,
                       json={"note": " "}).json()["reason"] == "call_note_required"
    done = client.post(f"/api/hotline/callbacks/{task_id}/done", headers=hotline, json={"note": "已解答"})
    assert done.status_code == 200 and (done.json()["status"], done.json()["done_note"]) == ("done", "已解答")
    assert client.get("/api/hotline/callbacks", headers=hotline).json() == []
    assert client.post(f"/api/hotline/callbacks/{task_id}/done", headers=hotline,
                       json={"note": "再"}).status_code == 404
