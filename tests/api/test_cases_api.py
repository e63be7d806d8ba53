"""Cases over REST: scoping (another area's case is 404), filters, detail (masked), measures, reveal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.settings import Settings
from cases import annex1, annex1_text, demo
from cases.clock import BEIJING, FrozenClock
from cases.crypto import Vault
from cases.intake import sign_authorization
from cases.models import AuditEntry, Case, CaseStatus, Channel

Headers = dict[str, str]
Auth = Callable[[str], Headers]


def numbers(client: TestClient, headers: Headers, **params: Any) -> list[str]:
    response = client.get("/api/cases", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [c["number"] for c in response.json()["items"]]


@pytest.mark.parametrize(
    ("username", "sees_meihua", "sees_zhonghu"),
    [
        ("cadre1", True, False),
        ("meihua", True, False),
        ("xidu", True, False),
        ("cadre3", False, True),
        ("zhonghu", False, True),
        ("sanhu", False, True),
        ("county", True, True),
        ("admin", True, True),
        ("hotline", True, True),
    ],
)
def test_another_areas_case_is_404_and_unlisted(
    client: TestClient,
    auth: Auth,
    make_case: Callable[..., Case],
    username: str,
    sees_meihua: bool,
    sees_zhonghu: bool,
) -> None:
    meihua, zhonghu = make_case(demo.MEIHUA), make_case(demo.ZHONGHU)
    headers = auth(username)
    listed = set(numbers(client, headers))
    for case, sees in ((meihua, sees_meihua), (zhonghu, sees_zhonghu)):
        response = client.get(f"/api/cases/{case.number}", headers=headers)
        assert response.status_code == (200 if sees else 404)
        assert (case.number in listed) == sees
        if not sees:
            assert response.json() == {"reason": "case_not_found", "message": "no such case in your area"}


def test_unknown_case_and_out_of_area_case_answer_alike(
    client: TestClient, auth: Auth, make_case: Callable[..., Case]
) -> None:
    other = make_case(demo.ZHONGHU)
    headers = auth("cadre1")
    unknown = client.get("/api/cases/SB00000000", headers=headers)
    hidden = client.get(f"/api/cases/{other.number}", headers=headers)
    assert (unknown.status_code, unknown.json()) == (hidden.status_code, hidden.json())
    for path in ("measures", "reveal"):
        assert client.post(f"/api/cases/{other.number}/{path}", headers=headers, json={}).status_code in (
            404,
            422,
        )
    refused = client.post(
        f"/api/cases/{other.number}/reveal", headers=headers, json={"field": "phone", "reason": "回访"}
    )
    assert refused.status_code == 404


def test_case_list_needs_a_token(client: TestClient) -> None:
    response = client.get("/api/cases")
    assert response.status_code == 401 and response.json()["reason"] == "not_authenticated"


def test_filters_and_pagination(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], clock: FrozenClock
) -> None:
    illness = make_case(demo.MEIHUA)
    clock.advance(minutes=1)
    disaster = make_case("430421100203", risks=["04"], disasters=["01"], urgent=True)
    clock.advance(minutes=1)
    monitored = make_case(demo.MEIHUA, risks=["07"], status=CaseStatus.MONITORED)
    headers = auth("xidu")
    assert numbers(client, headers) == [disaster.number, monitored.number, illness.number]  # urgent first
    assert numbers(client, headers, status="monitored") == [monitored.number]
    assert numbers(client, headers, status=["monitored", "applied"]) == [
        disaster.number,
        monitored.number,
        illness.number,
    ]
    assert numbers(client, headers, village=demo.MEIHUA) == [monitored.number, illness.number]
    assert numbers(client, headers, risk="04") == [disaster.number]
    assert numbers(client, headers, urgent="true") == [disaster.number]
    assert numbers(client, headers, urgent="false") == [monitored.number, illness.number]
    page = client.get("/api/cases", headers=headers, params={"page": 2, "page_size": 2}).json()
    assert (page["total"], page["page"], [c["number"] for c in page["items"]]) == (3, 2, [illness.number])
    bad = client.get("/api/cases", headers=headers, params={"risk": "1; drop"})
    assert bad.status_code == 422 and bad.json()["reason"] == "invalid_request"


def test_assigned_to_me(client: TestClient, auth: Auth, make_case: Callable[..., Case]) -> None:
    first, second = make_case(demo.MEIHUA), make_case(demo.MEIHUA)  # auto-assigned: fewest open cases first
    mine = set(numbers(client, auth("cadre1"), assigned_to_me="true"))
    theirs = set(numbers(client, auth("cadre2"), assigned_to_me="true"))
    assert mine | theirs == {first.number, second.number} and len(mine) == len(theirs) == 1
    assert numbers(client, auth("meihua"), assigned_to_me="true") == []


def test_detail_is_masked_and_complete(
    client: TestClient,
    auth: Auth,
    make_case: Callable[..., Case],
    seeded: Session,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    case = make_case(demo.MEIHUA, head_name="张三")
    body = client.get(f"/api/cases/{case.number}", headers=auth("cadre1")).json()
    household = body["household"]
    assert household["id_number_masked"][:6] == "430421" and household["id_number_masked"][6:14] == "*" * 8
    assert household["phone_masked"] == "139****0001"
    assert body["head_name_masked"] == "张*" and household["head_name"] == "张三"
    assert body["village_name"] == "梅花村委会" and body["status"] == "applied"
    assert [e["action"] for e in body["timeline"]][:2] == ["case_opened", "assigned"]
    [report] = body["reports"]
    assert "4304211960" not in report["raw_text"] and "身份证430421" in report["raw_text"]
    assert report["channel"] == "sms" and report["risks"] == ["01"]
    assert body["assignment"]["staff"]["name"] in ("赵强", "陈芳")
    assert body["pending_signatures"] == ["张三"] and body["authorizations"] == []
    text = str(body)
    for secret in ("13907340001", "0101001"):
        assert secret not in text

    vault = Vault(settings.secret_key)
    household_id_number = vault.decrypt(case.household.id_number_enc or "")
    today = clock().astimezone(BEIJING).date()
    shown, report_id = annex1_text.case_text(seeded, vault, case, signed_on=today)
    sign_authorization(
        db=seeded,
        vault=vault,
        case=case,
        signer_name="张三",
        signer_id_number=household_id_number,
        channel=Channel.SMS,
        message_ref="SM123",
        contact_id=None,
        now=clock(),
        text_version=annex1.CURRENT_VERSION,
        shown_sha256=annex1.digest(shown),
    )
    seeded.commit()
    body = client.get(f"/api/cases/{case.number}", headers=auth("cadre1")).json()
    [evidence] = body["authorizations"]
    assert evidence["text_version"] == annex1.CURRENT_VERSION
    assert evidence["text_sha256"] == annex1.sha256(annex1.CURRENT_VERSION)
    assert evidence["shown_sha256"] == annex1.digest(shown) and evidence["report_id"] == report_id
    assert evidence["shown_variant"] == "full"  # the text shown in full (the household's own identity)
    assert evidence["signer_name_masked"] == "张*" and evidence["channel"] == "sms"
    assert evidence["signer_id_masked"].startswith("430421") and "*" in evidence["signer_id_masked"]
    assert evidence["message_ref"] == "SM123" and body["pending_signatures"] == []


def test_reveal_is_audited(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    case = make_case(demo.MEIHUA)
    response = client.post(
        f"/api/cases/{case.number}/reveal",
        headers=auth("cadre1"),
        json={"field": "phone", "reason": "入户前电话联系 13907340001"},
    )
    assert response.status_code == 200
    assert response.json()["value"] == "13907340001"
    entry = seeded.get(AuditEntry, response.json()["audit_id"])
    assert entry is not None and entry.action == "reveal.phone" and entry.area_code == demo.MEIHUA
    assert "13907340001" not in str(entry.detail) and entry.detail["case"] == case.number
    id_number = client.post(
        f"/api/cases/{case.number}/reveal",
        headers=auth("xidu"),
        json={"field": "id_number", "reason": "核对"},
    ).json()["value"]
    assert len(id_number) == 18 and id_number.startswith("430421196001010")
    actions = [e.action for e in seeded.scalars(select(AuditEntry).where(AuditEntry.action.like("reveal.%")))]
    assert actions == ["reveal.phone", "reveal.id_number"]


@pytest.mark.parametrize(
    ("username", "body", "status", "reason"),
    [
        ("hotline", {"field": "phone", "reason": "回访"}, 403, "role_not_allowed"),
        ("cadre1", {"field": "phone"}, 422, "invalid_request"),
        ("cadre1", {"field": "bank", "reason": "回访"}, 422, "invalid_request"),
        ("cadre1", {"field": "id_number", "reason": "核对", "member_id": 999}, 404, "member_not_found"),
    ],
)
def test_reveal_refusals(
    client: TestClient,
    auth: Auth,
    make_case: Callable[..., Case],
    seeded: Session,
    username: str,
    body: dict[str, Any],
    status: int,
    reason: str,
) -> None:
    case = make_case(demo.MEIHUA)
    response = client.post(f"/api/cases/{case.number}/reveal", headers=auth(username), json=body)
    assert (response.status_code, response.json()["reason"]) == (status, reason)
    assert seeded.scalars(select(AuditEntry).where(AuditEntry.action.like("reveal.%"))).all() == []


def test_measures(client: TestClient, auth: Auth, make_case: Callable[..., Case]) -> None:
    applied = make_case(demo.MEIHUA)
    monitored = make_case(demo.MEIHUA, status=CaseStatus.MONITORED)
    headers = auth("cadre1")
    measure = {"code": "A40", "sub_code": "01", "description": "参加电工技能培训", "amount": "800"}
    refused = client.post(f"/api/cases/{applied.number}/measures", headers=headers, json=measure)
    assert (refused.status_code, refused.json()["reason"]) == (409, "illegal_step")
    created = client.post(f"/api/cases/{monitored.number}/measures", headers=headers, json=measure)
    assert created.status_code == 201
    assert created.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "code": "A40",
        "name": "就业帮扶",
        "sub_code": "01",
        "sub_name": "技能培训",
        "description": "参加电工技能培训",
        "started_on": None,
        "amount": "800.00",
        "created_by_staff_id": created.json()["created_by_staff_id"],
        "created_at": "",
    }
    detail = client.get(f"/api/cases/{monitored.number}", headers=headers).json()
    assert [m["code"] for m in detail["measures"]] == ["A40"]
    assert detail["timeline"][-1]["action"] == "measure_added"
    unknown = client.post(
        f"/api/cases/{monitored.number}/measures", headers=headers, json={"code": "A40", "sub_code": "99"}
    )
    assert (unknown.status_code, unknown.json()["reason"]) == (409, "unknown_measure_sub_code")
    bad_code = client.post(f"/api/cases/{monitored.number}/measures", headers=headers, json={"code": "A99"})
    assert bad_code.status_code == 422
    hotline = client.post(f"/api/cases/{monitored.number}/measures", headers=auth("hotline"), json=measure)
    assert (hotline.status_code, hotline.json()["reason"]) == (409, "role_not_allowed")


def test_unknown_route_is_json(client: TestClient) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.json()["reason"] == "not_found"


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("cadre3", {"zhonghu", "cadre3"}),
        ("meihua", {"meihua", "cadre1", "cadre2"}),
        ("xidu", {"xidu", "meihua", "cadre1", "cadre2", "cadre4", "cadre5"}),  # not 三湖镇's cadre6
        ("county", {s.username for s in demo.STAFF} - {"admin"}),
    ],
)
def test_staff_list_is_scoped_and_masked(
    client: TestClient, auth: Auth, username: str, expected: set[str]
) -> None:
    listed = client.get("/api/staff", headers=auth(username)).json()
    assert {s["username"] for s in listed} == expected
    assert all(s["phone"] is None or "****" in s["phone"] for s in listed)
    cadres = client.get("/api/staff", headers=auth(username), params={"role": "cadre"}).json()
    assert {s["role"] for s in cadres} <= {"cadre"} and {s["username"] for s in cadres} <= expected


def test_a_mistyped_id_number_in_the_report_text_is_masked_too(
    client: TestClient, auth: Auth, make_case: Callable[..., Case]
) -> None:
    typed = "老人住院了，身份证43042119500606123，卡号6222021234567890123，花了30000元，电话0734-8123456"
    case = make_case(demo.MEIHUA, raw_text=typed)
    [report] = client.get(f"/api/cases/{case.number}", headers=auth("cadre1")).json()["reports"]
    text = report["raw_text"]
    assert "43042119500606123" not in text and "430************23" in text  # 17 digits: not an ID, still one
    assert "6222021234567890123" not in text and "622**************23" in text
    assert "30000元" in text and "0734-8123456" in text  # amounts and landlines stay readable


def test_timeline_notes_are_masked_in_the_api(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session, clock: FrozenClock
) -> None:
    from cases.events import add_event

    case = make_case(demo.MEIHUA)
    add_event(seeded, case, action="supplement", now=clock(), actor_label="household via sms",
              note="儿子身份证430421197303153457，电话13712345678")
    seeded.commit()
    timeline = client.get(f"/api/cases/{case.number}", headers=auth("cadre1")).json()["timeline"]
    [note] = [e["note"] for e in timeline if e["action"] == "supplement"]
    assert note == "儿子身份证430421********3457，电话137****5678"
