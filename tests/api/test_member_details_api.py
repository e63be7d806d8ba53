"""A member's details over REST (annex 2 A9-A17, and A26 generated from A17): recorded when the member is
added or later by field staff of the case's area, codes from the official tables, audited by the items' names
only; a member without an ID number by the birth date."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases import demo
from cases.models import AuditEntry, Case, CaseEvent, CaseStatus, Member, RegionSetting
from tests.api.conftest import make_id
from tests.api.member_calls import add, edit, member, reason_of

Headers = dict[str, str]
Auth = Callable[[str], Headers]
SPOUSE_ID = make_id("43042119650315002")
CHILD_ID = make_id("43042120150601003")
PLACE = "广东省东莞市长安镇"
DETAILS = {
    "a9_ethnicity": "07", "a10_political_status": "06", "a11_education": "03", "a12_schooling": None,
    "a13_health": "02", "a14_labour_skill": "01", "a15_work_area": "outside", "a15_work_place": PLACE,
    "a16_work_months": "3.5", "a17_medical_insurance": "02",
}


def test_a_member_added_with_details_shows_them_and_the_record_names_the_items_not_their_values(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = make_case(demo.MEIHUA, head_name="张三")
    with caplog.at_level(logging.DEBUG):
        res = add(client, auth("cadre1"), case, "李梅", "02", id_number=SPOUSE_ID, **DETAILS)
    assert res.status_code == 201, res.text
    shown = member(res, "李梅")
    assert {k: shown[k] for k in DETAILS} == DETAILS | {"a16_work_months": "3.5"}
    assert shown["birth_year"] == 1965 and shown["id_number_masked"].startswith("430421********")
    head = member(res, "张三")
    assert all(head[k] is None for k in DETAILS)  # unknown until a cadre records them
    seeded.expire_all()
    event = seeded.scalars(select(CaseEvent).where(CaseEvent.action == "member_added")).one()
    assert event.data["fields"] == [k for k, v in DETAILS.items() if v is not None]
    entry = seeded.scalars(select(AuditEntry).where(AuditEntry.action == "case.member_added")).one()
    assert entry.detail["fields"] == event.data["fields"]
    for value in (PLACE, "outside", "3.5"):
        assert value not in str(entry.detail) and value not in str(event.data) and value not in caplog.text
    tables = client.get("/api/codes", headers=auth("cadre1")).json()
    assert tables["ethnicities"]["07"] == "苗族" and tables["ethnicities"]["15"] == "土家族"
    assert tables["ethnicities"]["32"] == "仫佬族" and len(tables["ethnicities"]) == 57  # 01-56, 99
    assert tables["political_statuses"] == {"01": "中共党员", "02": "中共预备党员", "03": "共青团员",
                                            "04": "民主党派人士", "05": "无党派民主人士", "06": "群众"}
    assert tables["education"]["01"] == "文盲或半文盲" and tables["education"]["06"] == "本科及以上"
    assert "16" not in tables["schooling"] and tables["schooling"]["26"] == "硕士研究生及以上"
    assert tables["schooling"]["24"] == "本科四年级" and len(tables["schooling"]) == 25
    assert tables["health"] == {"01": "健康", "02": "长期慢性病", "03": "大病", "04": "残疾"}
    assert tables["labour_skills"]["05"] == "弱劳动力或半劳动力" and len(tables["labour_skills"]) == 5
    assert set(tables["work_areas"].values()) == {"县内", "省内县外", "省外", "其他"}
    assert tables["yes_no"] == {"01": "是", "02": "否"}


def test_field_staff_edit_only_the_items_sent_and_each_change_is_on_the_timeline_and_audited(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    case = make_case(demo.MEIHUA, head_name="张三")
    cadre = auth("cadre1")
    spouse = member(add(client, cadre, case, "李梅", "02", id_number=SPOUSE_ID, a9_ethnicity="01",
                        a16_work_months=6), "李梅")["id"]
    res = edit(client, cadre, case, spouse, a13_health="03", a16_work_months=None, note="入户时问到")
    assert res.status_code == 200, res.text
    shown = member(res, "李梅")
    assert (shown["a9_ethnicity"], shown["a13_health"], shown["a16_work_months"]) == ("01", "03", None)
    head = member(res, "张三")["id"]
    assert member(edit(client, auth("meihua"), case, head, a17_medical_insurance="01"), "张三")[
        "a17_medical_insurance"] == "01"  # the village's staff, and the head like any member
    assert member(edit(client, auth("xidu"), case, head, a11_education="02"), "张三")["a11_education"] == "02"
    unchanged = edit(client, cadre, case, spouse, a13_health="03")
    assert unchanged.status_code == 200  # no change: nothing recorded
    seeded.expire_all()
    events = seeded.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                    CaseEvent.action == "member_updated")
                            .order_by(CaseEvent.id)).all()
    assert [e.data for e in events] == [
        {"member_id": spouse, "fields": ["a13_health", "a16_work_months"]},
        {"member_id": head, "fields": ["a17_medical_insurance"]},
        {"member_id": head, "fields": ["a11_education"]},
    ]
    assert events[0].note == "入户时问到"
    entries = seeded.scalars(select(AuditEntry).where(AuditEntry.action == "case.member_updated")
                             .order_by(AuditEntry.id)).all()
    assert [(e.entity_id, e.area_code, e.detail["fields"]) for e in entries] == [
        (str(case.id), case.area_code, e.data["fields"]) for e in events]
    assert len({e.actor_staff_id for e in entries}) == 3
    stored = seeded.get(Member, spouse)
    assert stored is not None and stored.a13_health == "03" and stored.a9_ethnicity == "01"


def test_bad_codes_and_staff_who_may_not_are_refused_and_nothing_changes(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    case = make_case(demo.MEIHUA)
    cadre = auth("cadre1")
    spouse = member(add(client, cadre, case, "李梅", "02", id_number=SPOUSE_ID), "李梅")["id"]
    refusals = {
        "unknown_ethnicity": {"a9_ethnicity": "57"},
        "unknown_political_status": {"a10_political_status": "07"},
        "unknown_education": {"a11_education": "群众"},
        "unknown_schooling": {"a12_schooling": "16"},
        "unknown_health": {"a13_health": "05"},
        "unknown_labour_skill": {"a14_labour_skill": "06"},
        "unknown_work_area": {"a15_work_area": "县内"},  # the key, not the words
        "unknown_medical_insurance": {"a17_medical_insurance": "03"},
    }
    for reason, body in refusals.items():
        assert reason_of(edit(client, cadre, case, spouse, **body)) == (422, reason), body
        added = add(client, cadre, case, "王五", "11", birth_date="1940-01-01", **body)
        assert reason_of(added) == (422, reason), body
    for months in (12.5, -1, "3.25", "三个月"):
        assert reason_of(edit(client, cadre, case, spouse, a16_work_months=months))[0] == 422
    assert reason_of(edit(client, cadre, case, spouse, a16_work_months=12.5)) == (422, "bad_work_months")
    assert reason_of(edit(client, cadre, case, spouse, a16_work_months="3.25")) == (422, "bad_work_months")
    assert edit(client, cadre, case, spouse, a15_work_place="深" * 65).status_code == 422
    hotline = auth("hotline")
    assert reason_of(edit(client, hotline, case, spouse, a13_health="01")) == (409, "role_not_allowed")
    assert reason_of(edit(client, auth("sanhu"), case, spouse, a13_health="01")) == (404, "case_not_found")
    assert reason_of(edit(client, auth("cadre4"), case, spouse, a13_health="01")) == (404, "case_not_found")
    assert reason_of(edit(client, cadre, case, 999_999, a13_health="01")) == (404, "member_not_found")
    other = make_case(demo.MEIHUA)
    assert reason_of(edit(client, cadre, other, spouse, a13_health="01")) == (404, "member_not_found")
    closed = make_case(demo.MEIHUA, status=CaseStatus.REFUSED)
    closed_head = next(m.id for m in closed.household.members if m.is_head)
    assert reason_of(edit(client, cadre, closed, closed_head, a13_health="01")) == (409, "illegal_step")
    seeded.expire_all()
    stored = seeded.get(Member, spouse)
    assert stored is not None and all(getattr(stored, k) is None for k in DETAILS)
    assert seeded.scalars(select(CaseEvent).where(CaseEvent.action == "member_updated")).all() == []
    names = seeded.scalars(select(Member.name).where(Member.household_id == case.household_id)).all()
    assert "王五" not in names


def test_a_member_without_an_id_number_is_recorded_by_the_birth_date(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    seeded.execute(update(RegionSetting).values(signers="all_adults"))
    seeded.commit()
    case = make_case(demo.MEIHUA, head_name="张三")
    cadre = auth("cadre1")
    res = add(client, cadre, case, "张小明", "03", birth_date="2015-06-01", a12_schooling="03")
    assert res.status_code == 201, res.text
    child = member(res, "张小明")
    assert (child["birth_year"], child["id_number_masked"], child["a12_schooling"]) == (2015, "", "03")
    detail = client.get(f"/api/cases/{case.number}", headers=cadre).json()
    assert detail["pending_signatures"] == ["张三"]  # a child: not waited for
    twice = add(client, cadre, case, "张小明", "03", birth_date="2015-06-01")
    assert reason_of(twice) == (409, "member_exists")
    spaced = add(client, cadre, case, "张 小明", "03", birth_date="2015-06-01")  # kept as 张小明
    assert reason_of(spaced) == (409, "member_exists")
    assert reason_of(add(client, cadre, case, "张小红", "04")) == (422, "id_or_birth_date_required")
    assert reason_of(add(client, cadre, case, "张小红", "04", birth_date="2099-01-01")) == (
        422, "birth_date_in_future")
    mismatch = add(client, cadre, case, "李梅", "02", id_number=SPOUSE_ID, birth_date="1966-03-15")
    assert reason_of(mismatch) == (422, "birth_date_mismatch")
    fixed = edit(client, cadre, case, child["id"], birth_date="2014-06-01")
    assert member(fixed, "张小明")["birth_year"] == 2014
    none = edit(client, cadre, case, child["id"], birth_date=None)
    assert reason_of(none) == (422, "id_or_birth_date_required")
    same = add(client, cadre, case, "李梅", "02", id_number=SPOUSE_ID, birth_date="1965-03-15")
    spouse = member(same, "李梅")
    assert spouse["birth_year"] == 1965
    assert reason_of(edit(client, cadre, case, spouse["id"], birth_date="1966-01-01")) == (
        422, "birth_date_from_id")
    assert client.post(f"/api/cases/{case.number}/members", headers=cadre, json={
        "name": "张小红", "relation_code": "04", "id_number": CHILD_ID}).status_code == 201  # as before
    seeded.expire_all()
    event = seeded.scalars(select(CaseEvent).where(CaseEvent.action == "member_updated")).one()
    assert event.data == {"member_id": child["id"], "fields": ["birth_date"]}


def test_a26_is_generated_from_the_members_a17(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    """附件6 22: A26 is 是 as soon as one member has not joined basic medical insurance, 否 only when every
    member has; while one is not known (and none is 否) it is not known either."""
    case = make_case(demo.MEIHUA, head_name="张三")
    cadre = auth("cadre1")

    def a26() -> Any:
        detail = client.get(f"/api/cases/{case.number}", headers=cadre).json()
        return detail["household"]["a26_derived"]

    assert a26() is None
    res = add(client, cadre, case, "李梅", "02", id_number=SPOUSE_ID, a17_medical_insurance="01")
    assert res.json()["a26_derived"] is None  # the head's A17 is not known yet
    head = member(res, "张三")["id"]
    assert edit(client, cadre, case, head, a17_medical_insurance="01").json()["a26_derived"] == "02"
    assert a26() == "02"
    child = member(add(client, cadre, case, "张小明", "03", birth_date="2015-06-01"), "张小明")["id"]
    assert a26() is None
    assert edit(client, cadre, case, child, a17_medical_insurance="02").json()["a26_derived"] == "01"
    assert edit(client, cadre, case, head, a17_medical_insurance=None).json()["a26_derived"] == "01"
    gone = client.post(f"/api/cases/{case.number}/members/{child}/remove", headers=cadre,
                       json={"reason": "录入错误"})
    assert gone.json()["a26_derived"] is None


def test_a_phone_or_id_number_typed_into_the_place_of_work_is_kept_masked_as_free_text_is(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    """A15's place is free text: a number typed into it (the employer's phone, an ID number) is masked before
    it is stored, as a report's words are, so no read of the household (REST, console, export) shows it in
    full."""
    case = make_case(demo.MEIHUA, head_name="张三")
    place = "广东省东莞市长安镇，老板电话13912345678"
    res = add(client, auth("cadre1"), case, "李梅", "02", id_number=SPOUSE_ID, a15_work_place=place)
    assert res.status_code == 201, res.text
    assert member(res, "李梅")["a15_work_place"] == "广东省东莞市长安镇，老板电话139****5678"
    head = member(res, "张三")
    fixed = edit(client, auth("cadre1"), case, head["id"], a15_work_place=f"长沙市，身份证{SPOUSE_ID}")
    assert fixed.status_code == 200, fixed.text
    assert member(fixed, "张三")["a15_work_place"] == f"长沙市，身份证{SPOUSE_ID[:6]}********{SPOUSE_ID[-4:]}"
    seeded.expire_all()
    stored = [m.a15_work_place or "" for m in seeded.scalars(select(Member))]
    assert not any("13912345678" in p or SPOUSE_ID in p for p in stored)


def test_a_member_recorded_by_the_birth_date_is_not_added_again_with_the_id_number(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    """The child recorded at the door by name and birth date, its 户口本 page found later: adding it again
    with the ID number of that birth date is the same person twice (two rows in 家庭成员信息, and a second
    signature waited for where every adult signs). It is refused; the number goes on the member on record."""
    case = make_case(demo.MEIHUA, head_name="张三")
    cadre = auth("cadre1")
    child = member(add(client, cadre, case, "张小明", "03", birth_date="2015-06-01"), "张小明")
    again = add(client, cadre, case, "张 小明", "03", id_number=CHILD_ID)  # CHILD_ID: born 2015-06-01
    assert reason_of(again) == (409, "member_exists")
    seeded.expire_all()
    assert len(seeded.scalars(select(Member).where(Member.household_id == case.household_id)).all()) == 2
    given = edit(client, cadre, case, child["id"], id_number=CHILD_ID)
    assert given.status_code == 200, given.text
    assert member(given, "张小明")["id_number_masked"].endswith(CHILD_ID[-4:])
    other = add(client, cadre, case, "张小红", "04", id_number=make_id("43042120150601004"))
    assert other.status_code == 201, other.text  # another name, the same birth date: a twin
