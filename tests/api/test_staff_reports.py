"""Cadre screening and department alerts over REST: one household, one open case, whatever the channel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import demo
from cases.models import AuditEntry, Case, CaseEvent, Report, ReporterKind
from cases.notify import RecordingNotifier
from tests.api.conftest import make_id

Auth = Callable[[str], dict[str, str]]
HEAD_ID = make_id("43042119580303002")
WRONG_CHECK_DIGIT = HEAD_ID[:-1] + ("0" if HEAD_ID[-1] != "0" else "1")


def body(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "reporter_kind": "cadre",
        "raw_text": "走访发现：户主中风卧床，儿子外出务工收入不稳",
        "head_name": "刘德明",
        "id_number": HEAD_ID,
        "village_code": demo.MEIHUA,
        "household_size": 3,
        "risks": ["01", "07"],
    }
    base.update(kw)
    return base


def test_screening_opens_a_case_that_every_later_channel_joins(
    client: TestClient, auth: Auth, seeded: Session, make_case: Callable[..., Case]
) -> None:
    found = client.post("/api/cases", json=body(), headers=auth("cadre1"))
    assert found.status_code == 201, found.text
    opened = found.json()
    assert opened["joined_existing"] is False
    detail = client.get(f"/api/cases/{opened['case_number']}", headers=auth("cadre1")).json()
    assert detail["discovery"] == "cadre" and detail["pending_signatures"] == ["刘德明"]
    alert = client.post(
        "/api/cases",
        json=body(reporter_kind="department", department="县医保局", raw_text="大额医疗费用", risks=["01"]),
        headers=auth("county"),
    )
    assert alert.status_code == 201 and alert.json()["case_number"] == opened["case_number"]
    assert alert.json()["joined_existing"] is True
    sms = make_case(head_name="刘德明", id_number=HEAD_ID.lower(), risks=["04"])  # the household by SMS
    assert sms.number == opened["case_number"]
    case = seeded.scalars(select(Case).where(Case.number == opened["case_number"])).one()
    kinds = [r.reporter_kind for r in seeded.scalars(select(Report).where(Report.case_id == case.id))]
    assert kinds == [ReporterKind.CADRE, ReporterKind.DEPARTMENT, ReporterKind.SELF]
    assert sorted(case.risks) == ["01", "04", "07"]
    assert len(seeded.scalars(select(Case)).all()) == 1
    actions = [a.action for a in seeded.scalars(select(AuditEntry).where(AuditEntry.entity == "case"))]
    assert "report.cadre" in actions and "report.department" in actions


@pytest.mark.parametrize(
    ("username", "kw", "status", "reason"),
    [
        ("hotline", {}, 403, "role_not_allowed"),  # the hotline files calls, not screenings
        ("cadre1", {"reporter_kind": "department"}, 403, "role_not_allowed"),
        ("cadre3", {}, 422, "unknown_village"),  # another village
        ("cadre1", {"village_code": "430421100999"}, 422, "unknown_village"),
        ("cadre1", {"id_number": WRONG_CHECK_DIGIT}, 422, "invalid_id_number"),
        ("cadre1", {"reporter_kind": "self"}, 422, "invalid_request"),
        ("cadre1", {"raw_text": ""}, 422, "invalid_request"),
    ],
)
def test_staff_report_refusals(
    client: TestClient,
    auth: Auth,
    seeded: Session,
    username: str,
    kw: dict[str, Any],
    status: int,
    reason: str,
) -> None:
    response = client.post("/api/cases", json=body(**kw), headers=auth(username))
    assert (response.status_code, response.json()["reason"]) == (status, reason)
    assert seeded.scalars(select(Case)).all() == []


def test_a_household_staff_found_is_told_its_difficulty_is_recorded_not_that_it_reported(
    client: TestClient, auth: Auth, notifier: RecordingNotifier
) -> None:
    from bot.notify import render

    found = client.post("/api/cases", json=body(), headers=auth("cadre1"))
    alert = client.post("/api/cases", headers=auth("county"), json=body(
        reporter_kind="department", department="县医保局", raw_text="大额医疗费用", head_name="李四",
        id_number=make_id("43042119580303011")))
    assert found.status_code == alert.status_code == 201
    told = [event for kind, _id, event in notifier.events() if kind == "household"]
    assert told == ["case_opened_by_staff", "case_opened_by_staff"]
    text = render("case_opened_by_staff", {"case_number": found.json()["case_number"]}, "zh_CN")
    assert "已登记" in text and found.json()["case_number"] in text and "您的申报已收到" not in text


def test_a_report_joining_a_case_says_on_the_timeline_what_it_added(
    client: TestClient, auth: Auth, seeded: Session
) -> None:
    found = client.post("/api/cases", json=body(risks=["01"]), headers=auth("cadre1")).json()
    again = client.post("/api/cases", headers=auth("county"), json=body(
        reporter_kind="department", department="县应急管理局", raw_text="房屋受灾", risks=["01", "04"],
        urgent=True))
    same = client.post("/api/cases", headers=auth("county"), json=body(
        reporter_kind="department", department="县医保局", raw_text="大额医疗费用", risks=["01"]))
    assert again.json()["joined_existing"] and same.json()["joined_existing"]
    case = seeded.scalars(select(Case).where(Case.number == found["case_number"])).one()
    joined = seeded.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                    CaseEvent.action == "report_joined")
                            .order_by(CaseEvent.id)).all()
    assert joined[0].data["added_risks"] == ["04"] and joined[0].data["became_urgent"] is True
    assert "added_risks" not in joined[1].data and "became_urgent" not in joined[1].data  # nothing new


def test_a_name_other_than_the_head_on_record_is_asked_about_before_filing(
    client: TestClient, auth: Auth, seeded: Session
) -> None:
    """The ID number of a household on record headed by someone else (a typo at the door, or a member's
    number given as the head's): 409 with the head on record masked, nothing filed, until confirmed."""
    opened = client.post("/api/cases", json=body(), headers=auth("cadre1"))
    assert opened.status_code == 201, opened.text
    events = len(seeded.scalars(select(CaseEvent)).all())
    typo = client.post("/api/cases", json=body(head_name="刘德民"), headers=auth("cadre1"))
    assert typo.status_code == 409 and typo.json()["reason"] == "head_name_differs"
    assert "刘*" in typo.json()["message"] and "刘德明" not in typo.json()["message"]
    assert len(seeded.scalars(select(Report)).all()) == 1
    assert len(seeded.scalars(select(CaseEvent)).all()) == events  # nothing half-written
    same = client.post("/api/cases", json=body(), headers=auth("cadre1"))  # the name on record: no question
    assert same.status_code == 201 and same.json()["joined_existing"] is True
    confirmed = client.post("/api/cases", json=body(head_name="刘德民", name_confirmed=True),
                            headers=auth("cadre1"))
    assert confirmed.status_code == 201 and confirmed.json()["case_number"] == opened.json()["case_number"]
    details = [a.detail for a in seeded.scalars(select(AuditEntry).where(AuditEntry.action == "report.cadre")
                                                .order_by(AuditEntry.id))]
    assert [d.get("name_differs") for d in details] == [None, None, True]
    assert seeded.scalars(select(Case)).one().household.head_name == "刘德明"  # the record is not changed
