"""The staff console through HTTP: sessions, CSRF, scoping, hotline call -> report, workflow forms."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import demo
from cases.clock import FrozenClock
from cases.models import (
    AuditEntry,
    BindingCode,
    Case,
    CaseStatus,
    ConsoleSession,
    HomeVisit,
    HotlineCall,
    Household,
    Report,
    ReporterKind,
    Staff,
    Task,
)

VALID_ID = "430421197303153457"


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the form"
    return match.group(1)


def login(web: TestClient, username: str, password: str = demo.DEMO_PASSWORD) -> str:
    """Sign in; returns the CSRF token of the session's forms."""
    form = web.get("/console/login")
    assert form.status_code == 200
    response = web.post(
        "/console/login", data={"username": username, "password": password, "csrf": csrf_of(form.text)}
    )
    assert response.status_code == 303, response.text
    home = web.get("/console/binding")
    assert home.status_code == 200
    return csrf_of(home.text)


def test_login_sets_a_secure_http_only_session_cookie(web: TestClient, seeded: Session) -> None:
    form = web.get("/console/login")
    assert "登录" in form.text
    response = web.post(
        "/console/login",
        data={"username": "cadre1", "password": demo.DEMO_PASSWORD, "csrf": csrf_of(form.text)},
    )
    assert response.status_code == 303 and response.headers["location"] == "/console/"
    cookie = response.headers["set-cookie"]
    assert (
        "sb_console=" in cookie and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    )
    token = re.search(r"sb_console=([^;]+)", cookie)
    assert token is not None
    row = seeded.scalar(select(ConsoleSession))
    assert row is not None and token.group(1) not in (row.token_hash, row.csrf_token)
    assert web.get("/console/").headers["location"] == "/console/tasks"


def test_wrong_password_and_missing_csrf_are_refused(web: TestClient, seeded: Session) -> None:
    form = web.get("/console/login")
    bad = web.post(
        "/console/login", data={"username": "cadre1", "password": "nope", "csrf": csrf_of(form.text)}
    )
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    no_csrf = web.post("/console/login", data={"username": "cadre1", "password": demo.DEMO_PASSWORD})
    assert no_csrf.status_code == 403
    assert web.get("/console/tasks").headers["location"] == "/console/login"


def test_forms_without_the_session_csrf_token_change_nothing(web: TestClient, seeded: Session) -> None:
    login(web, "cadre1")
    assert web.post("/console/binding", data={"csrf": "forged"}).status_code == 403
    assert seeded.scalar(select(BindingCode)) is None


def test_logout_ends_the_session(web: TestClient, seeded: Session) -> None:
    csrf = login(web, "cadre1")
    assert web.post("/console/logout", data={"csrf": csrf}).status_code == 303
    assert web.get("/console/tasks").status_code == 303


def test_binding_code_is_shown_once_and_stored_hashed(web: TestClient, seeded: Session) -> None:
    csrf = login(web, "cadre1")
    page = web.post("/console/binding", data={"csrf": csrf})
    code = re.search(r'id="binding-code">(\d{8})<', page.text)
    assert code is not None and f"绑定 {code.group(1)}" in page.text
    row = seeded.scalar(select(BindingCode))
    assert row is not None and code.group(1) not in row.code_hash


def log_call(web: TestClient, csrf: str, summary: str, phone: str = "13912345678") -> str:
    response = web.post(
        "/console/hotline/calls",
        data={
            "csrf": csrf,
            "caller_phone": phone,
            "started_at": "2026-03-02T09:30",
            "duration": "4:05",
            "summary": summary,
        },
    )
    assert response.status_code == 200, response.text
    return response.text


def test_hotline_call_becomes_a_report_with_signature_pending(
    web: TestClient, seeded: Session, clock: FrozenClock
) -> None:
    csrf = login(web, "hotline")
    summary = f"西渡镇梅花村张建国来电，身份证{VALID_ID}，老伴住院花了3万元，家里4口人，电话13912345678"
    page = log_call(web, csrf, summary)
    call = seeded.scalar(select(HotlineCall))
    assert call is not None
    # stored masked; the form is pre-filled from the parse
    assert VALID_ID not in call.summary and "430421********3457" in call.summary
    assert VALID_ID not in str(call.parsed) and "13912345678" not in str(call.parsed)
    assert f'value="{VALID_ID}"' in page and 'value="13912345678"' in page
    assert re.search(r'value="01" checked', page)  # illness
    assert re.search(r'value="4"', page)
    assert f'value="{demo.MEIHUA}" selected' in page
    response = web.post(
        f"/console/hotline/calls/{call.id}/report",
        data={
            "csrf": csrf,
            "head_name": "张建国",
            "id_number": VALID_ID,
            "phone": "13912345678",
            "household_size": "4",
            "village_code": demo.MEIHUA,
            "risks[]": ["01"],
        },
    )
    assert response.status_code == 303
    seeded.expire_all()
    case = seeded.scalar(select(Case))
    assert case is not None and case.status == CaseStatus.APPLIED and case.discovery == ReporterKind.HOTLINE
    report = seeded.scalar(select(Report))
    assert report is not None and report.reporter_kind == ReporterKind.HOTLINE
    shown = web.get(response.headers["location"]).text
    assert case.number in shown and 'id="signature-pending"' in shown and "待签字" in shown
    # the calls list shows it, and the search finds the household masked
    listing = web.get("/console/hotline").text
    assert case.number in listing
    log_call(web, csrf, "张建国又打来电话，问进展", phone="13800001111")
    call2 = seeded.scalars(select(HotlineCall).order_by(HotlineCall.id.desc())).first()
    assert call2 is not None and call2.id != call.id
    search = f"/console/hotline/calls/{call2.id}/search"
    found = web.post(search, data={"q": "13912345678", "csrf": csrf}).text
    results = found.split('id="results"')[1]
    assert "张**" in results and "139****5678" in results and "430421********3457" in results
    assert "13912345678" not in results and VALID_ID not in results and case.number in results
    # the number typed went in the form body, never into a URL (G6); without the CSRF token: refused
    plain = web.get(f"/console/hotline/calls/{call2.id}", params={"q": "13912345678"}).text
    assert 'id="results"' not in plain
    refused = web.post(search, data={"q": "13912345678"})
    assert refused.status_code in (400, 403) and 'id="results"' not in refused.text


def test_another_village_cannot_open_the_case(web: TestClient, seeded: Session, clock: FrozenClock) -> None:
    csrf = login(web, "hotline")
    log_call(web, csrf, "梅花村李四来电，摔断了腿")
    call = seeded.scalar(select(HotlineCall))
    assert call is not None
    web.post(
        f"/console/hotline/calls/{call.id}/report",
        data={
            "csrf": csrf,
            "head_name": "李四",
            "household_size": "3",
            "village_code": demo.MEIHUA,
            "risks[]": ["05"],
        },
    )
    case = seeded.scalar(select(Case))
    assert case is not None
    web.cookies.clear()
    login(web, "cadre3")
    assert web.get(f"/console/cases/{case.number}").status_code == 404
    assert web.get("/console/cases/SBNOSUCH0").status_code == 404
    web.cookies.clear()
    login(web, "cadre1")
    assert web.get(f"/console/cases/{case.number}").status_code in (200,)


def test_cadre_sees_the_task_and_takes_the_case_to_monitored(
    web: TestClient, seeded: Session, clock: FrozenClock
) -> None:
    csrf = login(web, "hotline")
    log_call(web, csrf, f"梅花村张建国，身份证{VALID_ID}，生病住院")
    call = seeded.scalar(select(HotlineCall))
    assert call is not None
    web.post(
        f"/console/hotline/calls/{call.id}/report",
        data={
            "csrf": csrf,
            "head_name": "张建国",
            "id_number": VALID_ID,
            "household_size": "4",
            "village_code": demo.MEIHUA,
            "risks[]": ["01"],
        },
    )
    case = seeded.scalar(select(Case))
    assert case is not None
    web.cookies.clear()
    csrf = login(web, "cadre1")
    tasks = web.get("/console/tasks").text
    assert "入户核实" in tasks and case.number in tasks
    page = web.get(f"/console/cases/{case.number}").text
    assert 'id="signature-pending"' in page and 'id="action-sign_at_visit"' in page
    assert 'id="action-record_home_visit"' not in page  # annex 1 first
    signed = web.post(
        f"/console/cases/{case.number}/act",
        data={"csrf": csrf, "action": "sign_at_visit", "signer_name": "张建国", "signer_id": VALID_ID},
    )
    assert signed.status_code == 303, signed.text
    page = web.get(f"/console/cases/{case.number}").text
    assert 'id="signature-pending"' not in page and 'id="action-record_home_visit"' in page
    assert "hunan-2021-v1" in page  # the evidence: text version and hash
    cadre1, cadre2 = (
        seeded.scalars(select(Staff).where(Staff.username == u)).one() for u in ("cadre1", "cadre2")
    )
    visit = {
        "csrf": csrf,
        "action": "record_home_visit",
        "verifiers[]": [str(cadre1.id), str(cadre2.id)],
        "visited_on": "2026-03-02",
        "household_size": "4",
        "risks[]": ["01"],
        "a28": "12000",
        "a31": "2000",
        "a36": "6000",
        "has_labour_capacity": "yes",
    }
    one = dict(visit, **{"verifiers[]": [str(cadre1.id)]})
    refused = web.post(f"/console/cases/{case.number}/act", data=one)
    assert refused.status_code == 409 and "未办理" in refused.text
    done = web.post(f"/console/cases/{case.number}/act", data=visit)
    assert done.status_code == 303, done.text
    seeded.expire_all()
    assert seeded.scalar(select(HomeVisit)) is not None
    assert status(seeded, case) == CaseStatus.VERIFIED
    verify = seeded.scalar(select(Task).where(Task.kind == "verify"))
    assert verify is not None and verify.status == "done"
    act(web, csrf, case, "village_review")
    assert status(seeded, case) == CaseStatus.PUBLIC_NOTICE
    early = web.post(f"/console/cases/{case.number}/act", data={"csrf": csrf, "action": "conclude_notice"})
    assert early.status_code == 409  # the 7-day notice is still running
    clock.advance(days=7)
    assert web.get("/console/tasks").headers["location"] == "/console/login"  # the session expired meanwhile
    csrf = login(web, "cadre1")
    act(web, csrf, case, "conclude_notice")
    assert status(seeded, case) == CaseStatus.TOWNSHIP_REVIEW
    web.cookies.clear()
    csrf = login(web, "xidu")
    act(web, csrf, case, "township_review")
    web.cookies.clear()
    csrf = login(web, "county")
    assert "县级审定" in web.get("/console/dashboard").text
    act(web, csrf, case, "county_approve", category="2")
    assert status(seeded, case) == CaseStatus.MONITORED
    timeline = web.get(f"/console/cases/{case.number}").text
    assert "已纳入监测" in timeline


def status(db: Session, case: Case) -> str:
    db.expire_all()
    fresh = db.get(Case, case.id)
    assert fresh is not None
    return str(fresh.status)


def test_hotline_form_prefills_the_callers_name_from_the_summary(
    web: TestClient, seeded: Session, clock: FrozenClock
) -> None:
    csrf = login(web, "hotline")
    page = log_call(web, csrf, "梅花村来电人王五反映房屋漏雨，家里3口人")
    assert 'name="head_name" value="王五"' in page
    call = seeded.scalars(select(HotlineCall).order_by(HotlineCall.id.desc())).first()
    assert call is not None
    assert 'name="head_name" value="王五"' in web.get(f"/console/hotline/calls/{call.id}").text
    # a family name with an honorific is no full name: the operator asks and types it
    page = log_call(web, csrf, "张大爷打电话说房子漏雨", phone="13800001111")
    assert 'name="head_name" value=""' in page
    # a form sent back for a missing village keeps the name the operator typed
    again = web.post(
        f"/console/hotline/calls/{call.id}/report",
        data={"csrf": csrf, "head_name": "王五一", "village_code": "", "risks[]": ["01"]},
    )
    assert again.status_code == 422 and 'name="head_name" value="王五一"' in again.text


def act(web: TestClient, csrf: str, case: Case, action: str, **fields: str) -> None:
    response = web.post(f"/console/cases/{case.number}/act", data={"csrf": csrf, "action": action, **fields})
    assert response.status_code == 303, response.text[-2000:]
    assert response.headers["location"] == f"/console/cases/{case.number}"


def test_console_catalog_is_complete() -> None:
    from api.console.render import METHOD_MAP
    from conversations.i18n import missing_translations

    assert missing_translations("api", "zh_CN", method_map=METHOD_MAP) == []


def test_dashboard_chart_counts_reports_per_week(web: TestClient, seeded: Session) -> None:
    csrf = login(web, "hotline")
    for name in ("李一", "李二"):
        log_call(web, csrf, f"梅花村{name}来电，生病住院")
        call = seeded.scalars(select(HotlineCall).order_by(HotlineCall.id.desc())).first()
        assert call is not None
        web.post(
            f"/console/hotline/calls/{call.id}/report",
            data={
                "csrf": csrf,
                "head_name": name,
                "household_size": "2",
                "village_code": demo.MEIHUA,
                "risks[]": ["01"],
            },
        )
    web.cookies.clear()
    login(web, "xidu")
    page = web.get("/console/dashboard").text
    assert "<svg" in page and "03-02: 2" in page  # this week's bar
    assert "梅花村委会" in page and "已申请" in page


def test_the_case_page_masks_numbers_in_report_text_and_notes_even_in_rows_stored_before_masking(
    web: TestClient, seeded: Session, make_case: Callable[..., Case], clock: FrozenClock
) -> None:
    from cases.events import add_event

    case = make_case(demo.MEIHUA)
    report = seeded.scalar(select(Report).where(Report.case_id == case.id))
    assert report is not None
    report.raw_text = f"老人住院了，身份证{VALID_ID}，电话13712345678"  # as rows stored before this day
    add_event(seeded, case, action="supplement", now=clock(), actor_label="household via sms",
              note="儿子卡号6222021234567890123")
    seeded.commit()
    login(web, "cadre1")
    page = web.get(f"/console/cases/{case.number}").text
    for secret in (VALID_ID, "13712345678", "6222021234567890123"):
        assert secret not in page, secret
    assert "137****5678" in page and "儿子卡号622" in page


def test_the_case_page_names_the_guarantee_risks(web: TestClient, seeded: Session) -> None:
    """Round 5 of exploratory testing: a household reported 房子漏雨 (② 住房安全, A23) besides an illness; the
    case page's 风险 listed 因病 alone, so the cadre going to the home did not learn of the house."""
    csrf = login(web, "hotline")
    log_call(web, csrf, "梅花村张建国生病住院，房子也漏雨")
    call = seeded.scalar(select(HotlineCall))
    assert call is not None
    web.post(
        f"/console/hotline/calls/{call.id}/report",
        data={"csrf": csrf, "head_name": "张建国", "household_size": "4", "village_code": demo.MEIHUA,
              "risks[]": ["01"]},
    )
    case = seeded.scalar(select(Case))
    assert case is not None
    case.guarantees = ["A23"]
    seeded.commit()
    web.cookies.clear()
    login(web, "cadre1")
    page = web.get(f"/console/cases/{case.number}").text
    risks = re.search(r'id="case-risks">([^<]*)<', page)
    assert risks is not None and risks.group(1) == "住房安全保障风险、因病"


def test_a_hotline_report_under_another_name_than_the_record_s_is_asked_about_first(
    web: TestClient, seeded: Session, clock: FrozenClock
) -> None:
    """A caller's ID number of a household on record headed by someone else (张建军 said for 张建国's
    number): the report was filed into that household without a word. The form now says whose number it is
    (masked) and files it only with 姓名没错 ticked; the record is not changed."""
    csrf = login(web, "hotline")
    log_call(web, csrf, "梅花村张建国来电，老伴住院")
    form = {"csrf": csrf, "head_name": "张建国", "id_number": VALID_ID, "household_size": "4",
            "village_code": demo.MEIHUA, "risks[]": ["01"]}
    call = seeded.scalar(select(HotlineCall))
    assert call is not None
    assert web.post(f"/console/hotline/calls/{call.id}/report", data=form).status_code == 303
    log_call(web, csrf, "张建军来电，说房子漏雨")
    second = seeded.scalars(select(HotlineCall).order_by(HotlineCall.id.desc())).first()
    assert second is not None and second.id != call.id
    asked = web.post(f"/console/hotline/calls/{second.id}/report", data=form | {"head_name": "张建军"})
    assert asked.status_code == 409
    assert "登记的户主是张**，不是张建军" in asked.text and 'name="name_confirmed"' in asked.text
    assert VALID_ID not in asked.text.split('id="report-form"')[0]  # the message masks the number
    assert len(seeded.scalars(select(Report)).all()) == 1  # nothing filed
    filed = web.post(f"/console/hotline/calls/{second.id}/report",
                     data=form | {"head_name": "张建军", "name_confirmed": "on"})
    assert filed.status_code == 303
    seeded.expire_all()
    assert len(seeded.scalars(select(Report)).all()) == 2
    assert seeded.scalars(select(Household.head_name)).all() == ["张建国"]
    entries = seeded.scalars(select(AuditEntry.detail).where(AuditEntry.action == "hotline.report")
                             .order_by(AuditEntry.id)).all()
    assert [e.get("name_differs") for e in entries] == [None, True]
