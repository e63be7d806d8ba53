"""The identification workflow over REST: each step by the right role, refusals as 409 with a reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import demo
from cases.clock import FrozenClock
from cases.models import Case, Staff

Headers = dict[str, str]
Auth = Callable[[str], Headers]
VISIT = {
    "visited_on": "2026-03-02",
    "household_size": 4,
    "a27_risks": ["01"],
    "a28_wages": "12000",
    "a31_transfer_income": "2000",
    "a36_compliant_spending": "6000",
    "has_labour_capacity": True,
}


def sid(db: Session, username: str) -> int:
    return db.scalars(select(Staff.id).where(Staff.username == username)).one()


def act(client: TestClient, headers: Headers, case: Case, action: str, **body: Any) -> Any:
    return client.post(f"/api/cases/{case.number}/actions/{action}", headers=headers, json=body)


def sign(client: TestClient, headers: Headers, case: Case, name: str) -> Any:
    return client.post(
        f"/api/cases/{case.number}/signatures",
        headers=headers,
        json={"signer_name": name, "message_ref": "纸质附件1 第12号"},
    )


def test_identification_from_visit_to_monitored(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session, clock: FrozenClock
) -> None:
    case = make_case(demo.MEIHUA, head_name="张三")
    cadre, village, xidu, county = auth("cadre1"), auth("meihua"), auth("xidu"), auth("county")
    verifiers = [sid(seeded, "cadre1"), sid(seeded, "cadre2")]

    early = client.post(
        f"/api/cases/{case.number}/visits", headers=cadre, json=VISIT | {"verifier_ids": verifiers}
    )
    assert (early.status_code, early.json()["reason"]) == (409, "signature_pending")
    signed = sign(client, cadre, case, "张三")
    assert signed.status_code == 201 and signed.json()["channel"] == "console"
    assert signed.json()["witnessed_by_staff_id"] == sid(seeded, "cadre1")

    detail = client.get(f"/api/cases/{case.number}", headers=cadre).json()
    assert "record_home_visit" in detail["allowed_actions"] and detail["pending_signatures"] == []
    visit = client.post(
        f"/api/cases/{case.number}/visits", headers=cadre, json=VISIT | {"verifier_ids": verifiers}
    )
    assert visit.status_code == 201, visit.text
    assert (visit.json()["a33_net_income"], visit.json()["a38_adjusted_per_capita"]) == (
        "14000.00",
        "2000.00",
    )
    assert sorted(v["id"] for v in visit.json()["verifiers"]) == verifiers

    township_too_early = act(client, xidu, case, "township_review")
    assert (township_too_early.status_code, township_too_early.json()["reason"]) == (409, "illegal_step")
    reviewed = act(client, village, case, "village_review", note="村民代表会议通过")
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "public_notice"
    assert reviewed.json()["notice_end"] == "2026-03-08"

    objection = client.post(
        f"/api/cases/{case.number}/objections",
        headers=village,
        json={"raised_by": "村民（匿名）", "content": "他家有小轿车"},
    )
    assert objection.status_code == 201
    clock.advance(days=7)
    cadre, village, xidu, county = (
        auth("cadre1"),
        auth("meihua"),
        auth("xidu"),
        auth("county"),
    )  # fresh tokens
    blocked = act(client, village, case, "conclude_notice")
    assert (blocked.status_code, blocked.json()["reason"]) == (409, "objection_open")
    resolved = client.post(
        f"/api/cases/{case.number}/objections/{objection.json()['id']}/resolve",
        headers=xidu,
        json={"upheld": False, "resolution": "核实：车辆已于去年卖出"},
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "dismissed"
    assert act(client, village, case, "conclude_notice").json()["status"] == "township_review"
    assert act(client, xidu, case, "township_review").json()["status"] == "county_review"
    approved = act(client, county, case, "county_approve").json()
    # the category the visit suggested: A34 = 14,000 / 4 = 3,500, within 6,500, not formerly poor -> 2
    assert approved["status"] == "monitored" and approved["category"] == 2
    actions = [e["action"] for e in approved["timeline"]]
    for step in ("village_reviewed", "objection_raised", "township_reviewed", "county_approved"):
        assert step in actions, actions

    measure = client.post(
        f"/api/cases/{case.number}/measures",
        headers=cadre,
        json={"code": "A45", "sub_code": "03", "description": "医疗救助"},
    )
    assert measure.status_code == 201
    evaluation = client.post(
        f"/api/cases/{case.number}/evaluations", headers=cadre, json={"result": "医疗救助到位，收入稳定"}
    )
    assert evaluation.status_code == 201 and evaluation.json()["result"] == "医疗救助到位，收入稳定"
    no_mode = act(client, village, case, "propose_elimination")
    assert (no_mode.status_code, no_mode.json()["reason"]) == (422, "mode_required")
    too_poor = act(client, village, case, "propose_elimination", mode="assistance")
    assert (too_poor.status_code, too_poor.json()["reason"]) == (409, "below_elimination_floor")  # 3,500
    assert client.get(f"/api/cases/{case.number}", headers=village).json()["status"] == "monitored"


def test_refusals_are_409_with_reasons(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    case = make_case(demo.MEIHUA, head_name="李四")
    sign(client, auth("cadre1"), case, "李四")
    one = client.post(
        f"/api/cases/{case.number}/visits",
        headers=auth("cadre1"),
        json=VISIT | {"verifier_ids": [sid(seeded, "cadre1"), sid(seeded, "cadre1")]},
    )
    assert (one.status_code, one.json()["reason"]) == (409, "too_few_verifiers")
    outsider = client.post(
        f"/api/cases/{case.number}/visits",
        headers=auth("cadre1"),
        json=VISIT | {"verifier_ids": [sid(seeded, "cadre1"), sid(seeded, "cadre3")]},
    )
    assert (outsider.status_code, outsider.json()["reason"]) == (409, "verifier_out_of_area")
    wrong_role = act(client, auth("county"), case, "village_review")
    assert (wrong_role.status_code, wrong_role.json()["reason"]) == (409, "illegal_step")  # not verified yet
    unknown = act(client, auth("meihua"), case, "teleport")
    assert unknown.status_code == 422 and unknown.json()["reason"] == "invalid_request"
    no_reason = act(client, auth("meihua"), case, "refuse")
    assert (no_reason.status_code, no_reason.json()["reason"]) == (409, "reason_required")
    refused = act(client, auth("meihua"), case, "refuse", reason="经核实家庭收入高于监测范围")
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert refused.json()["refused_reason"] == "经核实家庭收入高于监测范围"
    review = act(client, auth("cadre1"), case, "request_review", note="农户电话申请复核")
    assert review.status_code == 200 and review.json()["status"] != "refused"


def test_another_areas_case_is_404_for_every_step(
    client: TestClient, auth: Auth, make_case: Callable[..., Case]
) -> None:
    other = make_case(demo.ZHONGHU)
    headers = auth("xidu")
    for path, body in (
        ("actions/refuse", {"reason": "x"}),
        ("visits", VISIT | {"verifier_ids": [1, 2]}),
        ("objections", {"raised_by": "x", "content": "y"}),
        ("assignment", {"staff_id": 1}),
        ("evaluations", {"result": "x"}),
        ("signatures", {"signer_name": "x"}),
    ):
        response = client.post(f"/api/cases/{other.number}/{path}", headers=headers, json=body)
        assert (response.status_code, response.json()["reason"]) == (404, "case_not_found"), path


def test_reassignment_keeps_history(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    case = make_case(demo.MEIHUA)
    first = client.get(f"/api/cases/{case.number}", headers=auth("meihua")).json()["assignment"]["staff"][
        "id"
    ]
    other = ({sid(seeded, "cadre1"), sid(seeded, "cadre2")} - {first}).pop()
    moved = client.post(
        f"/api/cases/{case.number}/assignment",
        headers=auth("meihua"),
        json={"staff_id": other, "note": "原联系人调岗"},
    )
    assert moved.status_code == 200 and moved.json()["staff"]["id"] == other
    detail = client.get(f"/api/cases/{case.number}", headers=auth("meihua")).json()
    assert [a["staff"]["id"] for a in detail["assignment_history"]] == [first, other]
    assert detail["assignment_history"][0]["ended_at"] is not None
    by_cadre = client.post(
        f"/api/cases/{case.number}/assignment", headers=auth("cadre1"), json={"staff_id": first}
    )
    assert (by_cadre.status_code, by_cadre.json()["reason"]) == (409, "role_not_allowed")
