"""The staff console in Chromium: a hotline call becomes a report, the village's contact cadre records the
home visit, and each role takes the case through village review, the public notice, the township and
the county to monitored; a cadre of another village gets the 404 page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cases import demo
from cases.models import Case, CaseStatus, HomeVisit, HotlineCall
from tests.browser import live
from tests.browser.conftest import OpenAs

pytestmark = pytest.mark.browser

VALID_ID = "430421197303153457"
PHONE = "13912345678"
SUMMARY = f"西渡镇梅花村张建国来电，身份证{VALID_ID}，老伴住院花了3万元，家里4口人，电话{PHONE}"
USERNAME_OF = {person.name: person.username for person in demo.STAFF}


def hotline_logs_the_call(page: Page, server: live.Live) -> str:
    """The operator logs the call, checks the parser's pre-fill, files the report; returns the case number."""
    assert page.url.endswith("/console/hotline")  # the operator's home page
    page.fill("input[name=caller_phone]", PHONE)
    page.fill("input[name=duration]", "4:05")
    page.fill("textarea[name=summary]", SUMMARY)
    page.click("#log-call button[type=submit]")
    form = page.locator("#report-form")
    expect(form).to_be_visible()
    # the parser pre-filled the report from what the caller said
    expect(form.locator("input[name=id_number]")).to_have_value(VALID_ID)
    expect(form.locator("input[name=phone]")).to_have_value(PHONE)
    expect(form.locator("input[name=household_size]")).to_have_value("4")
    expect(form.locator("select[name=village_code]")).to_have_value(demo.MEIHUA)
    expect(form.locator("input[name='risks[]'][value='01']")).to_be_checked()
    expect(form.locator("input[name='risks[]'][value='05']")).not_to_be_checked()
    expect(form).to_contain_text("30,000")  # the amount mentioned
    expect(page.locator("blockquote")).to_contain_text("430421********3457")  # the summary is kept masked
    expect(page.locator("blockquote")).not_to_contain_text(VALID_ID)
    form.locator("input[name=head_name]").fill("张建国")
    form.locator("button[type=submit]").click()
    expect(page.locator("#call-case")).to_be_visible()
    expect(page.locator("#signature-pending")).to_contain_text("待签字")
    number = page.locator("#call-case a").inner_text().strip()
    page.goto(f"{server.url}/console/hotline")
    expect(page.locator("#calls")).to_contain_text(number)
    return number


def cadre_of(page: Page, server: live.Live, number: str) -> str:
    """The contact cadre's username, as the case page names them (assignment: fewest open cases)."""
    page.goto(f"{server.url}/console/cases/{number}")
    name = page.locator("#case-cadre").inner_text().strip()
    assert name in USERNAME_OF, f"the case has no demo cadre: {name!r}"
    return USERNAME_OF[name]


def cadre_visits(page: Page, server: live.Live, number: str, other_verifier: str) -> None:
    """The cadre sees the task, acknowledges it, witnesses annex 1 and records the home visit."""
    mine = page.locator("#my-tasks")
    task = mine.locator("li.task", has_text=number).filter(has_text="入户核实")
    expect(task).to_have_count(1)
    ack = mine.locator("li.task", has_text=number).filter(has_text="确认接收新案件")
    expect(ack).to_have_count(1)
    task.locator("a").click()
    page.wait_for_url(f"**/console/cases/{number}")
    expect(page.locator("#signature-pending")).to_be_visible()
    expect(page.locator("#action-record_home_visit")).to_have_count(0)  # annex 1 first
    # acknowledge the assignment from the case page
    row = page.locator("li.task", has_text="确认接收新案件")
    row.locator("input[name=note]").fill("已收到，明天入户")
    row.locator("button[type=submit]").click()
    expect(page.locator("li.task.done", has_text="确认接收新案件")).to_have_count(1)
    # the household signs annex 1 at the visit
    expect(page.locator("#action-sign_at_visit")).to_have_attribute("open", "")
    page.fill("#action-sign_at_visit input[name=signer_name]", "张建国")
    page.fill("#action-sign_at_visit input[name=signer_id]", VALID_ID)
    live.submit_action(page, "sign_at_visit")
    expect(page.locator("#signature-pending")).to_have_count(0)
    expect(page.locator("body")).to_contain_text("hunan-2021-v1")  # the evidence: text version and hash
    # the home visit with the annex 2 income figures, first by one verifier alone: refused
    live.open_action(page, "record_home_visit")
    visit = page.locator("#action-record_home_visit")
    expect(visit.locator("input[name=household_size]")).to_have_value("4")
    for field, value in (("a28", "12000"), ("a31", "2000"), ("a36", "6000")):
        visit.locator(f"input[name={field}]").fill(value)
    visit.locator("select[name=has_labour_capacity]").select_option("yes")
    live.submit_action(page, "record_home_visit")
    expect(page.locator("p.error[role=alert]")).to_contain_text("未办理：入户核实至少需要两名不同的工作人员")
    expect(page.locator("#case-status")).to_have_text("已申请")
    live.open_action(page, "record_home_visit")
    visit = page.locator("#action-record_home_visit")
    second = visit.locator("label", has_text=other_verifier).locator("input[type=checkbox]")
    second.check()
    for field, value in (("a28", "12000"), ("a31", "2000"), ("a36", "6000")):
        visit.locator(f"input[name={field}]").fill(value)
    visit.locator("select[name=has_labour_capacity]").select_option("yes")
    live.submit_action(page, "record_home_visit")
    expect(page.locator("#case-status")).to_have_text("已入户核实")
    visits = page.locator("#visits")
    expect(visits).to_contain_text("14,000")  # A33 net income: wages + transfers
    expect(visits).to_contain_text("3,500")  # A34 per capita, 4 people
    expect(visits).to_contain_text("2,000")  # A38: (14,000 - 6,000 compliant spending) / 4
    expect(visits).to_contain_text(other_verifier)


def act(page: Page, action: str, expect_status: str, **fields: str) -> None:
    live.open_action(page, action)
    for name, value in fields.items():
        page.locator(f"#action-{action} [name={name}]").fill(value)
    live.submit_action(page, action)
    expect(page.locator("p.error[role=alert]")).to_have_count(0)
    expect(page.locator("#case-status")).to_have_text(expect_status)


def test_a_hotline_call_goes_all_the_way_to_monitored(open_as: OpenAs, server: live.Live) -> None:
    hotline = open_as("hotline")
    number = hotline_logs_the_call(hotline, server)
    cadre = cadre_of(hotline, server, number)
    other = "陈芳" if cadre == "cadre1" else "赵强"  # the village's other contact cadre verifies too

    cadre_page = open_as(cadre)
    assert cadre_page.url.endswith("/console/tasks")
    cadre_visits(cadre_page, server, number, other)

    village = open_as("meihua")
    expect(village.locator("#my-tasks li.task", has_text=number)).to_contain_text("村评议")
    village.goto(f"{server.url}/console/cases/{number}")
    act(village, "village_review", "公示中", note="村民代表会议评议通过")
    notice = village.locator("dl.facts")
    expect(notice).to_contain_text("2026-03-02 – 2026-03-08")
    # the 7-day notice is still running: concluding it is not offered, and refused if forced
    expect(village.locator("#action-conclude_notice")).to_have_count(0)

    server.clock.advance(days=7)  # Monday 2026-03-09, a working day after the notice's last day
    village.reload()
    assert village.url.endswith("/console/login")  # the 10-hour session ended meanwhile
    live.login(village, server, "meihua")
    village.goto(f"{server.url}/console/cases/{number}")
    act(village, "conclude_notice", "乡镇审核", note="公示无异议")

    township = open_as("xidu")
    assert township.url.endswith("/console/dashboard")
    township.goto(f"{server.url}/console/tasks")
    task = township.locator("#my-tasks li.task", has_text=number)
    expect(task).to_contain_text("2026-03-16")  # due in 5 working days
    task.locator("a").click()
    act(township, "township_review", "县级审定")

    county = open_as("county")
    expect(county.locator("#by-step")).to_contain_text("县级审定")
    county.goto(f"{server.url}/console/cases/{number}")
    live.open_action(county, "county_approve")
    county.locator("#action-county_approve select[name=category]").select_option("2")
    live.submit_action(county, "county_approve")
    expect(county.locator("#case-status")).to_have_text("已纳入监测")
    timeline = county.locator("#timeline li")
    expect(timeline.filter(has_text="已纳入监测")).to_have_count(1)
    expect(timeline.filter(has_text="公示中")).to_have_count(1)
    expect(timeline.filter(has_text="村民代表会议评议通过")).to_have_count(1)
    expect(timeline.filter(has_text="案件受理")).to_contain_text("12317 热线（电话）")
    expect(timeline.filter(has_text="登记入户核实")).to_contain_text("（帮扶联系人）")
    assert "_" not in county.locator("#timeline").inner_text()  # no raw event codes shown to people

    with server.app.state.sessions() as db:
        case = db.scalars(select(Case).where(Case.number == number)).one()
        assert case.status == CaseStatus.MONITORED and case.category == 2
        visit = db.scalars(select(HomeVisit).where(HomeVisit.case_id == case.id)).one()
        assert len(visit.verifiers) == 2 and visit.a33_net_income == 14000
        call = db.scalars(select(HotlineCall).where(HotlineCall.case_id == case.id)).one()
        assert VALID_ID not in call.summary


def test_a_cadre_of_another_village_gets_the_404_page(open_as: OpenAs, server: live.Live) -> None:
    hotline = open_as("hotline")
    number = hotline_logs_the_call(hotline, server)
    outsider = open_as("cadre3")  # 中湖村, another township
    response = outsider.goto(f"{server.url}/console/cases/{number}")
    assert response is not None and response.status == 404
    expect(outsider.locator("h1")).to_have_text("未找到")
    expect(outsider.locator("body")).not_to_contain_text(number)
    outsider.goto(f"{server.url}/console/tasks")
    expect(outsider.locator("#cases")).not_to_contain_text(number)
    # its own village's contact cadre opens the same page
    insider = open_as(cadre_of(hotline, server, number))
    response = insider.goto(f"{server.url}/console/cases/{number}")
    assert response is not None and response.status == 200
    expect(insider.locator("#case-number")).to_have_text(number)


def test_pages_fit_a_phone_screen(open_as: OpenAs, server: live.Live) -> None:
    """390x844: no page scrolls sideways (login, hotline desk and call, tasks, case, dashboard)."""
    seen: dict[str, int] = {}
    anonymous = open_as(None, live.PHONE)
    anonymous.goto(f"{server.url}/console/login")
    seen["login"] = live.horizontal_overflow(anonymous)
    hotline = open_as("hotline", live.PHONE)
    seen["hotline"] = live.horizontal_overflow(hotline)
    hotline.fill("textarea[name=summary]", SUMMARY)
    hotline.click("#log-call button[type=submit]")
    expect(hotline.locator("#report-form")).to_be_visible()
    seen["call"] = live.horizontal_overflow(hotline)
    cadre = open_as("cadre1", live.PHONE)
    seen["tasks"] = live.horizontal_overflow(cadre)
    for link in cadre.locator("#cases a").all()[:1]:
        link.click()
    for details in cadre.locator("details.action").all():
        if details.get_attribute("open") is None:
            details.locator("summary").click()
    seen["case"] = live.horizontal_overflow(cadre)
    county = open_as("county", live.PHONE)
    seen["dashboard"] = live.horizontal_overflow(county)
    monitored = county.locator("#by-step")
    expect(monitored).to_be_visible()
    with server.app.state.sessions() as db:
        long_case = db.scalars(select(Case).where(Case.status == CaseStatus.MONITORED)).first()
        assert long_case is not None
    county.goto(f"{server.url}/console/cases/{long_case.number}")
    seen["case, monitored"] = live.horizontal_overflow(county)
    assert {page: px for page, px in seen.items() if px > 0} == {}
