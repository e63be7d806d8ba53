"""Screenshots of the staff console's main pages for the README: `python -m tests.browser.screenshots [OUT]`
(default docs/screenshots; `make screenshots`). The demo county on a throwaway SQLite database, the clock
pinned, the same live server and Chromium as the browser tests. Tests write into a temporary folder only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select

from cases import migrate
from cases.clock import FrozenClock
from cases.db import make_engine
from cases.models import (
    Case,
    CaseStatus,
    Channel,
    Contact,
    Household,
    InboundMessage,
    InboundStatus,
    Outbox,
    OutboxStatus,
    Staff,
)
from tests.browser import live

DOCS = live.repo_root() / "docs" / "screenshots"
CALL = "西渡镇梅花村张建国来电，身份证430421197303153457，老伴中风住院花了3万元，家里4口人，电话13912345678"


@dataclass(frozen=True)
class Shot:
    name: str
    username: str | None
    path: str
    phone: bool
    full_page: bool = False
    log_call: bool = False  # save a call first: the shot shows the report form the parser filled in


HOTLINE = "/console/hotline"
SHOTS: list[Shot] = [
    Shot("login-phone.png", None, "/console/login", phone=True),
    Shot("hotline-call-desktop.png", "hotline", HOTLINE, phone=False, full_page=True, log_call=True),
    Shot("hotline-call-phone.png", "hotline", HOTLINE, phone=True, log_call=True),
    Shot("tasks-phone.png", "meihua", "/console/tasks", phone=True),
    Shot("tasks-desktop.png", "meihua", "/console/tasks", phone=False),
    Shot("case-desktop.png", "meihua", "/console/cases/{monitored}", phone=False, full_page=True),
    Shot("case-phone.png", "meihua", "/console/cases/{monitored}", phone=True),
    Shot("dashboard-desktop.png", "county", "/console/dashboard", phone=False, full_page=True),
    Shot("dashboard-phone.png", "county", "/console/dashboard", phone=True, full_page=True),
    Shot("deliveries-desktop.png", "hotline", "/console/deliveries", phone=False),
    Shot("deliveries-phone.png", "hotline", "/console/deliveries", phone=True, full_page=True),
]


def _log_call(page: Page) -> None:
    """The hotline desk after saving a call: the report form pre-filled by the parser."""
    page.fill("input[name=caller_phone]", "13912345678")
    page.fill("input[name=duration]", "4:05")
    page.fill("textarea[name=summary]", CALL)
    page.click("#log-call button[type=submit]")
    page.wait_for_selector("#report-form")


def _monitored_case(server: live.Live) -> str:
    with server.app.state.sessions() as db:
        number: str = db.scalars(select(Case.number).where(Case.status == CaseStatus.MONITORED)).one()
        return number


def _failed_deliveries(server: live.Live) -> None:
    """What the 未送达 page is for: a cadre's Telegram reminder that died (told by SMS instead), a WeChat
    answer past the 48-hour window, a text the operator filtered, and a message whose handling failed
    (demo rows stored as the adapters store them; masked on the page)."""
    now = server.clock()
    with server.app.state.sessions() as db, db.begin():
        cadre = db.scalars(select(Staff).where(Staff.username == "cadre1")).one()
        household = db.scalars(select(Household).order_by(Household.id)).first()
        assert household is not None
        tg = Contact(channel=Channel.TELEGRAM, external_id="7005551234", staff_id=cadre.id, created_at=now)
        wx = Contact(channel=Channel.WECHAT, external_id="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
                     household_id=household.id, created_at=now)
        sms = Contact(channel=Channel.SMS, external_id="+8613907340002", household_id=household.id,
                      created_at=now)
        db.add_all([tg, wx, sms])
        db.flush()

        def row(contact: Contact, status: OutboxStatus, minutes: int, **kw: Any) -> Outbox:
            at = now - timedelta(minutes=minutes)
            item = Outbox(channel=contact.channel, to=contact.external_id, contact_id=contact.id,
                          status=status, next_attempt_at=now, created_at=at, **kw)
            db.add(item)
            db.flush()
            return item

        dead = row(tg, OutboxStatus.DEAD, 95, kind="reminder", body="提醒：入户核实", attempts=8,
                   extra={"event": "task_verify"}, last_error="telegram network: Bad Gateway",
                   error_code="telegram:network")
        db.add(Outbox(channel=Channel.SMS, to="+8613907340001", kind="reminder", body="提醒：入户核实",
                      dedupe_key=f"fallback:{dead.id}", status=OutboxStatus.SENT, next_attempt_at=now,
                      created_at=now - timedelta(minutes=90), sent_at=now - timedelta(minutes=90)))
        row(wx, OutboxStatus.FAILED, 40, kind="reply", body="您的案件有新进展", attempts=1,
            last_error="wechat 45015", error_code="wechat:45015")
        row(sms, OutboxStatus.SENT, 30, kind="notification", body="您的案件有新进展", attempts=1,
            extra={"event": "case_status_changed"}, provider_status="undelivered",
            provider_id="SM" + "3" * 32, sent_at=now - timedelta(minutes=30),
            last_error="twilio undelivered 30007", error_code="twilio:30007")
        db.add(InboundMessage(channel=Channel.WECHAT, user_key=wx.external_id, external_id="24567890123",
                              received_at=now - timedelta(minutes=20), text=None, status=InboundStatus.DEAD,
                              error="OperationalError", handled_at=now - timedelta(minutes=20)))


def take(out: Path, browser: Browser) -> list[Path]:
    """Serve the demo, visit each page as its user, and write the PNGs into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="shenbao-shots-") as tmp:
        settings = live.live_settings(f"sqlite:///{Path(tmp) / 'demo.db'}")
        engine = make_engine(settings.database_url)
        migrate.upgrade(engine)
        engine.dispose()
        clock = FrozenClock(live.PINNED)
        live.seed_demo(settings, clock())
        with live.serve(settings, clock) as server:
            monitored = _monitored_case(server)
            _failed_deliveries(server)
            signed_in: dict[str, Any] = {}  # username -> cookies of a session (one sign-in per person)
            for shot in SHOTS:
                viewport = live.PHONE if shot.phone else live.DESKTOP
                state = signed_in.get(shot.username or "")
                context, guard = live.new_context(
                    browser, server, viewport, scale=2 if shot.phone else 1, storage_state=state
                )
                page = context.new_page()
                if shot.username and state is None:
                    live.login(page, server, shot.username)
                    signed_in[shot.username] = context.storage_state()
                page.goto(server.url + shot.path.format(monitored=monitored))
                if shot.log_call:
                    _log_call(page)
                target = out / shot.name
                page.screenshot(path=str(target), full_page=shot.full_page, animations="disabled")
                context.close()
                if guard.refused:
                    raise RuntimeError(f"the console asked for something off the server: {guard.refused}")
                written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.browser.screenshots", description=__doc__)
    parser.add_argument("out", nargs="?", type=Path, default=DOCS, help=f"folder for the PNGs ({DOCS})")
    args = parser.parse_args(argv)
    if live.chromium_path() is None:
        print(f"no Chromium at {live.chromium_wanted()} (set $SHENBAO_TEST_CHROMIUM)", file=sys.stderr)
        return 2
    with sync_playwright() as playwright:
        browser = live.launch(playwright)
        try:
            for path in take(args.out, browser):
                print(path)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
