"""Household members over REST (annex 2 A5-A8): recorded by field staff, one person in one household, and the
people whose annex 1 signatures a region with `signers = all_adults` waits for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases import demo
from cases.models import AuditEntry, Case, CaseEvent, Member, RegionSetting
from tests.api.conftest import make_id

Headers = dict[str, str]
Auth = Callable[[str], Headers]
SPOUSE_ID = make_id("43042119650315002")
CHILD_ID = make_id("43042120150601003")  # born 2015: not an adult


def add(client: TestClient, headers: Headers, case: Case, name: str, relation: str, id_number: str,
        **extra: Any) -> Any:
    return client.post(f"/api/cases/{case.number}/members", headers=headers,
                       json={"name": name, "relation_code": relation, "id_number": id_number, **extra})


def reason_of(res: Any) -> tuple[int, str]:
    return res.status_code, res.json().get("reason")


def test_a_cadre_records_a_member_masked_in_the_answer_with_its_event_and_audit(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    case = make_case(demo.MEIHUA, head_name="张三")
    res = add(client, auth("cadre1"), case, "李梅", "02", SPOUSE_ID.lower(), note=f"身份证 {SPOUSE_ID}")
    assert res.status_code == 201, res.text
    members = res.json()["members"]
    assert [(m["name"], m["relation"], m["is_head"]) for m in members] == [
        ("张三", "户主", True), ("李梅", "配偶", False)]
    assert members[1]["id_number_masked"] == SPOUSE_ID[:6] + "********" + SPOUSE_ID[-4:]
    assert SPOUSE_ID not in res.text
    seeded.expire_all()
    event = seeded.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                   CaseEvent.action == "member_added")).one()
    assert event.data["relation"] == "02" and SPOUSE_ID not in (event.note or "")  # masked before it is kept
    entry = seeded.scalars(select(AuditEntry).where(AuditEntry.action == "case.member_added")).one()
    assert entry.area_code == case.area_code
    member = seeded.scalars(select(Member).where(Member.name == "李梅")).one()
    assert member.id_number_enc and SPOUSE_ID not in member.id_number_enc  # encrypted at rest
    assert member.birth_date is not None and member.birth_date.year == 1965
    codes = client.get("/api/codes", headers=auth("cadre1")).json()["relations"]
    assert codes["02"] == "配偶" and codes["99"] == "其他" and len(codes) == 22


def test_one_person_one_household_and_bad_input_refused_with_reasons(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    case = make_case(demo.MEIHUA)
    other = make_case(demo.MEIHUA)  # another household, whose head's ID is on record
    other_head_id = make_id("43042119600101002")
    cadre = auth("cadre1")
    assert add(client, cadre, case, "李梅", "02", SPOUSE_ID).status_code == 201
    assert reason_of(add(client, cadre, case, "李梅", "02", SPOUSE_ID)) == (409, "member_exists")
    assert reason_of(add(client, cadre, other, "李梅", "21", SPOUSE_ID)) == (409, "member_in_other_household")
    elsewhere = (409, "member_in_other_household")
    assert reason_of(add(client, cadre, case, "王五", "11", other_head_id)) == elsewhere
    assert reason_of(add(client, cadre, case, "王五", "01", CHILD_ID)) == (409, "head_exists")
    assert reason_of(add(client, cadre, case, "王五", "55", CHILD_ID)) == (422, "unknown_relation")
    bad_id = CHILD_ID[:-1] + "0"
    assert reason_of(add(client, cadre, case, "王五", "03", bad_id)) == (422, "invalid_id_number")
    assert reason_of(add(client, auth("hotline"), case, "王五", "03", CHILD_ID)) == (409, "role_not_allowed")
    far = make_case(demo.ZHONGHU)
    # outside the cadre's area
    assert reason_of(add(client, cadre, far, "王五", "03", CHILD_ID)) == (404, "case_not_found")
    seeded.expire_all()
    names = seeded.scalars(select(Member.name).where(Member.household_id == case.household_id)).all()
    assert sorted(names) == sorted([case.household.head_name, "李梅"])  # nothing half-written


def test_where_every_adult_signs_an_added_adult_is_waited_for_and_a_child_is_not(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    seeded.execute(update(RegionSetting).values(signers="all_adults"))
    seeded.commit()
    case = make_case(demo.MEIHUA, head_name="张三")
    cadre = auth("cadre1")
    assert add(client, cadre, case, "李梅", "02", SPOUSE_ID).status_code == 201
    assert add(client, cadre, case, "张小明", "03", CHILD_ID).status_code == 201
    detail = client.get(f"/api/cases/{case.number}", headers=cadre).json()
    assert detail["pending_signatures"] == ["张三", "李梅"]
    for name in ("张三", "李梅"):
        res = client.post(f"/api/cases/{case.number}/signatures", headers=cadre,
                          json={"signer_name": name, "message_ref": "纸质附件1"})
        assert res.status_code == 201, res.text
    assert client.get(f"/api/cases/{case.number}", headers=cadre).json()["pending_signatures"] == []


def test_removing_a_member_needs_a_reason_and_keeps_the_head_and_signers(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    seeded.execute(update(RegionSetting).values(signers="all_adults"))
    seeded.commit()
    case = make_case(demo.MEIHUA, head_name="张三")
    cadre = auth("cadre1")
    spouse = add(client, cadre, case, "李梅", "02", SPOUSE_ID).json()["members"][1]["id"]
    child = add(client, cadre, case, "张小明", "03", CHILD_ID).json()["members"][2]["id"]
    head = next(m["id"] for m in client.get(f"/api/cases/{case.number}", headers=cadre).json()["household"]
                ["members"] if m["is_head"])
    client.post(f"/api/cases/{case.number}/signatures", headers=cadre,
                json={"signer_name": "李梅", "message_ref": "纸质附件1"})

    def remove(member_id: int, reason: str = "已分户") -> Any:
        return client.post(f"/api/cases/{case.number}/members/{member_id}/remove", headers=cadre,
                           json={"reason": reason})

    assert reason_of(remove(head)) == (409, "head_cannot_be_removed")
    assert reason_of(remove(spouse)) == (409, "member_signed")
    assert remove(child, "").status_code == 422
    assert reason_of(remove(999_999)) == (404, "member_not_found")
    gone = remove(child, f"录错了，身份证 {CHILD_ID}")
    assert gone.status_code == 200 and [m["name"] for m in gone.json()["members"]] == ["张三", "李梅"]
    seeded.expire_all()
    event = seeded.scalars(select(CaseEvent).where(CaseEvent.action == "member_removed")).one()
    assert event.data == {"member_id": child, "relation": "03"} and CHILD_ID not in (event.note or "")
    assert add(client, cadre, case, "张小明", "03", CHILD_ID).status_code == 201  # the ID is free again
