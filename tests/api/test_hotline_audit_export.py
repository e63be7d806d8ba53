"""Hotline calls, the audit log and the monitored-household export over REST."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases import demo
from cases.clock import FrozenClock
from cases.export import HEADER, MEMBER_HEADER, header_index
from cases.models import AuditEntry, Case, CaseStatus, HomeVisit, Measure, Member, Report, VisitVerifier
from tests.api.conftest import make_id

Headers = dict[str, str]
Auth = Callable[[str], Headers]
CALL = {
    "caller_phone": "139 0734 9999",
    "summary": "梅花村张大爷来电：老伴住院，花了四万多",
    "duration_seconds": 240,
}


def log(client: TestClient, headers: Headers, **extra: object) -> dict[str, object]:
    response = client.post("/api/hotline/calls", headers=headers, json=CALL | extra)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_log_and_list_calls(client: TestClient, auth: Auth) -> None:
    call = log(client, auth("hotline"))
    assert call["caller_phone_masked"] == "139****9999" and call["case_number"] is None
    listed = client.get("/api/hotline/calls", headers=auth("hotline")).json()
    assert [c["id"] for c in listed["items"]] == [call["id"]]
    assert "13907349999" not in str(listed)
    assert client.get("/api/hotline/calls", headers=auth("cadre1")).status_code == 403


def test_call_becomes_a_report_and_a_second_call_joins_the_case(
    client: TestClient, auth: Auth, seeded: Session
) -> None:
    headers = auth("hotline")
    report = {
        "head_name": "张大山",
        "id_number": make_id("43042119500101123"),
        "village_code": demo.MEIHUA,
        "household_size": 2,
        "risks": ["01"],
        "urgent": True,
    }
    first = log(client, headers)
    made = client.post(f"/api/hotline/calls/{first['id']}/report", headers=headers, json=report)
    assert made.status_code == 201, made.text
    assert made.json()["joined_existing"] is False
    number = made.json()["case_number"]
    case = seeded.scalars(select(Case).where(Case.number == number)).one()
    assert case.discovery == "hotline" and case.urgent
    again = client.post(f"/api/hotline/calls/{first['id']}/report", headers=headers, json=report)
    assert (again.status_code, again.json()["reason"]) == (409, "call_already_reported")
    second = log(client, headers, summary="张大山儿子来电补充：还有一个孩子辍学")
    joined = client.post(
        f"/api/hotline/calls/{second['id']}/report",
        headers=headers,
        json=report | {"proxy_relation": "儿子", "risks": ["02"]},
    )
    assert joined.json() == {
        "case_number": number,
        "joined_existing": True,
        "report_id": joined.json()["report_id"],
    }
    detail = client.get(f"/api/cases/{number}", headers=auth("cadre1")).json()
    assert [r["reporter_kind"] for r in detail["reports"]] == ["hotline", "hotline"]
    assert detail["risks"] == ["01", "02"]
    assert client.get(f"/api/hotline/calls/{first['id']}", headers=headers).json()["case_number"] == number


def test_attach_call_to_an_existing_case(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    case = make_case(demo.MEIHUA)
    call = log(client, auth("hotline"))
    attached = client.post(
        f"/api/hotline/calls/{call['id']}/attach",
        headers=auth("hotline"),
        json={"case_number": case.number.lower()},
    )
    assert attached.status_code == 200 and attached.json()["case_number"] == case.number
    report = seeded.get(Report, attached.json()["report_id"])
    assert report is not None and report.case_id == case.id and report.reporter_kind == "hotline"
    timeline = client.get(f"/api/cases/{case.number}", headers=auth("meihua")).json()["timeline"]
    assert timeline[-1]["action"] == "report_joined"


def test_hotline_refusals(client: TestClient, auth: Auth, make_case: Callable[..., Case]) -> None:
    other = make_case(demo.ZHONGHU)
    xidu = auth("xidu")  # a township may log calls too, but only about its own area
    call = log(client, xidu)
    hidden = client.post(
        f"/api/hotline/calls/{call['id']}/attach", headers=xidu, json={"case_number": other.number}
    )
    assert (hidden.status_code, hidden.json()["reason"]) == (404, "case_not_found")
    foreign = client.post(
        f"/api/hotline/calls/{call['id']}/report",
        headers=xidu,
        json={"head_name": "李四", "village_code": demo.ZHONGHU},
    )
    assert (foreign.status_code, foreign.json()["reason"]) == (422, "unknown_village")
    assert client.get(f"/api/hotline/calls/{call['id']}", headers=auth("sanhu")).status_code == 404
    bad_phone = client.post("/api/hotline/calls", headers=xidu, json=CALL | {"caller_phone": "12"})
    assert (bad_phone.status_code, bad_phone.json()["reason"]) == (422, "invalid_phone")
    bad_id = client.post(
        f"/api/hotline/calls/{call['id']}/report",
        headers=xidu,
        json={"head_name": "李四", "village_code": demo.MEIHUA, "id_number": "430421195001011230"},
    )
    assert bad_id.status_code == 422 and bad_id.json()["reason"] == "invalid_id_number"


def test_callback_done(client: TestClient, auth: Auth, clock: FrozenClock) -> None:
    call = log(client, auth("hotline"), callback_at="2026-03-03T09:00:00+08:00")
    done = client.post(f"/api/hotline/calls/{call['id']}/callback-done", headers=auth("hotline")).json()
    assert done["callback_done_at"] is not None


def test_audit_log_for_county_and_admin_only(
    client: TestClient, auth: Auth, make_case: Callable[..., Case]
) -> None:
    meihua, zhonghu = make_case(demo.MEIHUA), make_case(demo.ZHONGHU)
    client.post(
        f"/api/cases/{meihua.number}/reveal",
        headers=auth("cadre1"),
        json={"field": "phone", "reason": "联系"},
    )
    page = client.get("/api/audit", headers=auth("county"), params={"action": "reveal."}).json()
    assert [(e["action"], e["entity"]) for e in page["items"]] == [("reveal.phone", "household")]
    opened = client.get("/api/audit", headers=auth("admin"), params={"action": "case.open"}).json()
    assert opened["total"] == 2 and {e["area_code"] for e in opened["items"]} == {demo.MEIHUA, demo.ZHONGHU}
    for username in ("cadre1", "meihua", "xidu", "hotline"):
        response = client.get("/api/audit", headers=auth(username))
        assert (response.status_code, response.json()["reason"]) == (403, "role_not_allowed")
    assert zhonghu.number


def monitored_case(make_case: Callable[..., Case], seeded: Session, clock: FrozenClock) -> Case:
    case = make_case(demo.MEIHUA, status=CaseStatus.MONITORED, head_name="王五")
    case.category = 2
    case.monitored_at = clock()
    visit = HomeVisit(
        case_id=case.id,
        visited_on=clock().date(),
        recorded_at=clock(),
        household_size=4,
        a23_housing_unsafe=True,
        a27_risks=["01"],
        a28_wages=20000,
        a29_business_income=3000,
        a30_property_income=0,
        a31_transfer_income=1000,
        a32_business_expenses=2000,
        a33_net_income=22000,
        a34_per_capita=5500,
        a35_insurance_payouts=0,
        a36_compliant_spending=4000,
        a37_adjusted_income=18000,
        a38_adjusted_per_capita=4500,
    )
    seeded.add(visit)
    seeded.flush()
    seeded.add_all([VisitVerifier(visit_id=visit.id, staff_id=s) for s in (6, 7)])
    seeded.add(Measure(case_id=case.id, code="A45", sub_code="03", created_at=clock()))
    seeded.commit()
    return case


def test_export_csv_and_xlsx(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session, clock: FrozenClock
) -> None:
    case = monitored_case(make_case, seeded, clock)
    make_case(demo.MEIHUA)  # applied, not monitored: not exported
    response = client.get("/api/exports/monitored.csv", headers=auth("xidu"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == list(HEADER) and len(rows) == 2
    row = rows[1]
    assert row[0] == case.number and row[1:4] == ["衡阳县", "西渡镇", "梅花村委会"]
    assert row[header_index("A3 监测对象类型")] == "边缘易致贫户"
    assert row[header_index("A23 住房安全问题")] == "是" and row[header_index("A27 风险类型")] == "01"
    assert row[header_index("A38 纳入监测对象的人均收入参考范围")] == "4500.00"
    assert row[header_index("A45 健康帮扶")] == "03"
    assert "*" in row[header_index("身份证号码")] and row[header_index("联系电话")].startswith("139****")
    xlsx = client.get("/api/exports/monitored.xlsx", headers=auth("county"), params={"unmasked": "true"})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][0] == "编号" and len(values) == 2
    id_cell = values[1][header_index("身份证号码")]
    assert isinstance(id_cell, str) and len(id_cell) == 18 and "*" not in id_cell
    xlsx_row = values[1]
    assert [str(c) for c in values[0]] == list(HEADER)
    assert xlsx_row[header_index("A3 监测对象类型")] == "边缘易致贫户"
    assert xlsx_row[header_index("A23 住房安全问题")] == "是"
    assert xlsx_row[header_index("A27 风险类型")] == "01"
    assert float(xlsx_row[header_index("A38 纳入监测对象的人均收入参考范围")]) == 4500.0
    assert xlsx_row[header_index("A45 健康帮扶")] == "03"
    exports = seeded.scalars(select(AuditEntry).where(AuditEntry.action == "export.monitored")).all()
    assert [(e.detail["format"], e.detail["unmasked"], e.detail["rows"]) for e in exports] == [
        ("csv", False, 1),
        ("xlsx", True, 1),
    ]


@pytest.mark.parametrize(
    ("username", "params", "status"),
    [
        ("cadre1", {}, 403),
        ("hotline", {}, 403),
        ("xidu", {"unmasked": "true"}, 403),
        ("sanhu", {}, 200),
    ],
)
def test_export_refusals_and_scope(
    client: TestClient,
    auth: Auth,
    make_case: Callable[..., Case],
    seeded: Session,
    clock: FrozenClock,
    username: str,
    params: dict[str, str],
    status: int,
) -> None:
    monitored_case(make_case, seeded, clock)
    response = client.get("/api/exports/monitored.csv", headers=auth(username), params=params)
    assert response.status_code == status
    if status == 200:  # another township's export does not contain this household
        assert len(list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))) == 1


SPOUSE_ID = make_id("43042119650315002")


def test_export_members_in_annex_2_shape_head_first_masked_unless_the_audited_unmasked_one(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session, clock: FrozenClock
) -> None:
    """家庭成员信息: a second sheet in the XLSX, `monitored-members.csv` beside `monitored.csv`; A8-A17 in the
    words the form writes, the birth date for a member without an ID number only."""
    case = monitored_case(make_case, seeded, clock)
    case.status = CaseStatus.APPLIED  # members are recorded on an open case, then it is monitored again
    seeded.commit()
    cadre = auth("cadre1")
    added = client.post(f"/api/cases/{case.number}/members", headers=cadre, json={
        "name": "李梅", "relation_code": "02", "id_number": SPOUSE_ID, "a9_ethnicity": "15",
        "a13_health": "02", "a15_work_area": "outside", "a15_work_place": "广东省东莞市",
        "a16_work_months": "3.5", "a17_medical_insurance": "02"})
    assert added.status_code == 201, added.text
    child = client.post(f"/api/cases/{case.number}/members", headers=cadre, json={
        "name": "王小明", "relation_code": "03", "birth_date": "2015-06-01", "a12_schooling": "03"})
    assert child.status_code == 201, child.text
    head = next(m for m in child.json()["members"] if m["is_head"])
    client.post(f"/api/cases/{case.number}/members/{head['id']}", headers=cadre,
                json={"a10_political_status": "01", "a16_work_months": 0})
    case.status = CaseStatus.MONITORED
    other = make_case(demo.MEIHUA, status=CaseStatus.MONITORED, head_name="赵六")  # its head alone
    seeded.commit()

    response = client.get("/api/exports/monitored-members.csv", headers=auth("xidu"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "monitored-members-" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == list(MEMBER_HEADER)
    column = {name: i for i, name in enumerate(MEMBER_HEADER)}
    body = sorted(rows[1:], key=lambda r: (r[0] != case.number, int(r[column["序号"]])))
    assert [(r[0], r[column["序号"]], r[column["A5 姓名"]], r[column["A8 与户主关系"]]) for r in body] == [
        (case.number, "1", "王五", "本人或户主"),
        (case.number, "2", "李梅", "配偶"),
        (case.number, "3", "王小明", "之子"),
        (other.number, "1", "赵六", "本人或户主"),
    ]
    head_row, spouse, kid = body[:3]
    assert head_row[column["户主姓名"]] == spouse[column["户主姓名"]] == "王五"
    assert head_row[column["A10 政治面貌"]] == "中共党员" and head_row[column["A16 务工时间（月）"]] == "0.0"
    assert head_row[column["A9 民族"]] == ""  # not recorded yet: left for the clerk to ask
    assert spouse[column["A7 身份证号码"]] == SPOUSE_ID[:6] + "********" + SPOUSE_ID[-4:]
    assert (spouse[column["A9 民族"]], spouse[column["A13 健康状况"]]) == ("土家族", "长期慢性病")
    assert spouse[column["A15 务工区域"]] == "省外"
    assert spouse[column["A15 务工所在地（省、市、县、乡）"]] == "广东省东莞市"
    assert spouse[column["A16 务工时间（月）"]] == "3.5"
    assert spouse[column["A17 是否参加城乡居民（职工）基本医疗保险"]] == "否"
    assert spouse[column["出生日期（无身份证号码者）"]] == ""  # the ID number says it
    assert (kid[column["A7 身份证号码"]], kid[column["出生日期（无身份证号码者）"]]) == ("", "2015-06-01")
    assert kid[column["A12 在校生情况"]] == "小学"
    assert SPOUSE_ID not in response.text

    assert client.get("/api/exports/monitored-members.csv", headers=auth("xidu"),
                      params={"unmasked": "true"}).status_code == 403
    assert client.get("/api/exports/monitored-members.csv", headers=auth("cadre1")).status_code == 403
    xlsx = client.get("/api/exports/monitored.xlsx", headers=auth("county"), params={"unmasked": "true"})
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["监测对象", "家庭成员"]
    sheet = [[c.value for c in r] for r in book["家庭成员"].iter_rows()]
    assert [str(c) for c in sheet[0]] == list(MEMBER_HEADER) and len(sheet) == 5
    spouse_cell = next(r for r in sheet if r[column["A5 姓名"]] == "李梅")
    assert spouse_cell[column["A7 身份证号码"]] == SPOUSE_ID  # the audited unmasked export
    assert float(spouse_cell[column["A16 务工时间（月）"]]) == 3.5
    assert book["家庭成员"]["E2"].number_format == "@"  # ID numbers as text
    unmasked_csv = client.get("/api/exports/monitored-members.csv", headers=auth("county"),
                              params={"unmasked": "true"})
    assert SPOUSE_ID in unmasked_csv.content.decode("utf-8-sig")
    exports = seeded.scalars(select(AuditEntry).where(AuditEntry.action.startswith("export."))
                             .order_by(AuditEntry.id)).all()
    assert [(e.action, e.detail) for e in exports] == [
        ("export.monitored_members", {"format": "csv", "rows": 2, "members": 4, "unmasked": False}),
        ("export.monitored", {"format": "xlsx", "rows": 2, "members": 4, "unmasked": True}),
        ("export.monitored_members", {"format": "csv", "rows": 2, "members": 4, "unmasked": True}),
    ]


def test_a26_is_the_latest_visits_else_the_members(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session, clock: FrozenClock
) -> None:
    """A household row's A26 is the home visit's when there is one (its 否 stands even against the members');
    without a visit it is what the members' A17 generate (是 once one is 否; empty while not known)."""
    visited = monitored_case(make_case, seeded, clock)  # the visit ticked no A26
    unvisited = make_case(demo.MEIHUA, head_name="赵六")
    unknown = make_case(demo.MEIHUA, head_name="孙七", status=CaseStatus.MONITORED)
    cadre = auth("cadre1")
    for case in (visited, unvisited):
        case.status = CaseStatus.APPLIED
        seeded.commit()
        res = client.post(f"/api/cases/{case.number}/members", headers=cadre, json={
            "name": "小明", "relation_code": "03", "birth_date": "2015-06-01", "a17_medical_insurance": "02"})
        assert res.status_code == 201, res.text
        case.status = CaseStatus.MONITORED
        seeded.commit()
    rows = list(csv.reader(io.StringIO(client.get("/api/exports/monitored.csv", headers=auth("xidu"))
                                       .content.decode("utf-8-sig"))))
    a26 = {row[0]: row[header_index("A26 未参加基本医疗保险")] for row in rows[1:]}
    assert a26 == {visited.number: "否", unvisited.number: "是", unknown.number: ""}


def test_a_household_recorded_without_a_head_row_exports_its_head_from_the_record(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session, clock: FrozenClock
) -> None:
    """Households imported or seeded before members were kept have no head row: the export writes the head
    from the household record (not stored), so the head is never missing from 家庭成员信息."""
    case = monitored_case(make_case, seeded, clock)
    seeded.execute(delete(Member).where(Member.household_id == case.household_id))
    seeded.commit()
    response = client.get("/api/exports/monitored-members.csv", headers=auth("county"),
                          params={"unmasked": "true"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    column = {name: i for i, name in enumerate(MEMBER_HEADER)}
    assert [(r[0], r[column["A5 姓名"]], r[column["A8 与户主关系"]]) for r in rows[1:]] == [
        (case.number, "王五", "本人或户主")]
    assert len(rows[1][column["A7 身份证号码"]]) == 18  # the household's ID number
    assert seeded.scalars(select(Member).where(Member.household_id == case.household_id)).all() == []


def test_a_hotline_report_naming_another_head_than_the_record_s_is_409_until_confirmed(
    client: TestClient, auth: Auth, seeded: Session
) -> None:
    headers = auth("hotline")
    report = {"head_name": "张大山", "id_number": make_id("43042119500101123"), "village_code": demo.MEIHUA,
              "risks": ["01"]}
    first = log(client, headers)
    made = client.post(f"/api/hotline/calls/{first['id']}/report", headers=headers, json=report)
    assert made.status_code == 201
    second = log(client, headers, summary="张大善来电")
    asked = client.post(f"/api/hotline/calls/{second['id']}/report", headers=headers,
                        json=report | {"head_name": "张大善"})
    assert (asked.status_code, asked.json()["reason"]) == (409, "head_name_differs")
    assert "张**" in asked.json()["message"] and "张大山" not in asked.json()["message"]
    assert len(seeded.scalars(select(Report)).all()) == 1
    filed = client.post(f"/api/hotline/calls/{second['id']}/report", headers=headers,
                        json=report | {"head_name": "张大善", "name_confirmed": True})
    assert filed.status_code == 201 and filed.json()["joined_existing"] is True
    detail = seeded.scalars(select(AuditEntry.detail).where(AuditEntry.action == "hotline.report")
                            .order_by(AuditEntry.id.desc())).first()
    assert detail is not None and detail["name_differs"] is True


def test_text_a_spreadsheet_would_take_for_a_formula_is_exported_as_text(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session, clock: FrozenClock
) -> None:
    """A place of work typed as =1+2 (or =HYPERLINK(...), a link to anywhere) went into the XLSX as a
    formula openpyxl writes and Excel runs, and into the CSV as one Excel reads: text it stays."""
    case = monitored_case(make_case, seeded, clock)
    case.status = CaseStatus.APPLIED
    seeded.commit()
    added = client.post(f"/api/cases/{case.number}/members", headers=auth("cadre1"), json={
        "name": "李梅", "relation_code": "02", "id_number": SPOUSE_ID, "a15_work_area": "outside",
        "a15_work_place": "=1+2", "a13_health": "02"})
    assert added.status_code == 201, added.text
    case.status = CaseStatus.MONITORED
    seeded.commit()
    column = MEMBER_HEADER.index("A15 务工所在地（省、市、县、乡）")
    rows = list(csv.reader(io.StringIO(client.get("/api/exports/monitored-members.csv", headers=auth("xidu"))
                                       .content.decode("utf-8-sig"))))
    assert [r[column] for r in rows[1:] if r[column]] == ["'=1+2"]
    book = load_workbook(io.BytesIO(client.get("/api/exports/monitored.xlsx", headers=auth("xidu")).content))
    cells = [r[column] for r in book["家庭成员"].iter_rows(min_row=2) if r[column].value]
    assert [(c.value, c.data_type) for c in cells] == [("=1+2", "s")]
