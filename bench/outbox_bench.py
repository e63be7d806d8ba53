"""Outbox benchmark: the dispatcher working through a Telegram backlog that its rate limit holds back.

Fills a temporary SQLite outbox (or `--database-url`'s PostgreSQL) with pending Telegram replies (2,000 to
200 chats by default, as the webhook bench leaves behind, written a millisecond apart), runs the real
dispatcher (`bot.runtime.dispatcher`, the real clock, `run_forever` as `shenbao serve`'s thread does) for
`--seconds`, after `--warm` sends left out of the figures (first-use work: PTB's first calls, lazy
imports), with PTB's request object replaced by a fake Bot API that answers ok after `--latency` seconds;
prints messages sent a second (Telegram allows about 30), CPU per message sent (time.process_time), and
statements, commits and rollbacks per message sent (SQLAlchemy events). The floor, measured in the same
run: the CPU of PTB's send_message alone on the same fake (no database), per message; the ratio says what
the outbox costs on top of the send itself.

`--reminders` makes every row a cadre's task reminder instead of a reply (its subject an open task of an
open case), so each claim also checks that the rows' tasks and cases still hold (cases.subjects: one more
statement a batch).

    python bench/outbox_bench.py
    python bench/outbox_bench.py --rows 2000 --chats 20 --seconds 20
    python bench/outbox_bench.py --reminders
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's packages, whatever the environment has installed

from sqlalchemy import event, func, select  # noqa: E402
from telegram import Bot  # noqa: E402
from telegram.request import BaseRequest, RequestData  # noqa: E402

from api.settings import Settings  # noqa: E402
from bench.webhook_bench import reset_schema  # noqa: E402
from bot import outbox, runtime  # noqa: E402
from bot.context import BotContext  # noqa: E402
from bot.telegram import OVERALL  # noqa: E402
from cases.clock import system_clock  # noqa: E402
from cases.db import make_engine, make_session_factory  # noqa: E402
from cases.models import (  # noqa: E402
    Area,
    AreaLevel,
    Base,
    Case,
    CaseStatus,
    Household,
    Outbox,
    ReporterKind,
    Role,
    Staff,
    Task,
    TaskStatus,
)

TOKEN = "123456:BENCH-token"


class FakeBotApi(BaseRequest):
    """Answers every sendMessage like the Bot API after `latency` seconds; notes when each chat got one."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.next_id = 0
        self.sends: list[tuple[float, int]] = []

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        params = dict(request_data.parameters) if request_data else {}
        if self.latency:
            await asyncio.sleep(self.latency)
        self.next_id += 1
        chat = int(params["chat_id"])
        self.sends.append((time.monotonic(), chat))
        message = {"message_id": self.next_id, "date": 1_700_000_000, "chat": {"id": chat, "type": "private"},
                   "text": params.get("text", "")}
        return 200, json.dumps({"ok": True, "result": message}).encode()


def floor_cpu_per_send(n: int, latency: float, concurrency: int = 8) -> float:
    """CPU seconds of one PTB send_message on the same fake Bot API (same latency, `concurrency` at a time,
    no database): what every send costs anyway."""
    bot = Bot(TOKEN, base_url="http://telegram.test/bot", request=FakeBotApi(latency))

    async def sends() -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                await bot.send_message(chat_id=10_000 + i % 200, text=f"回复 {i}")

        await asyncio.gather(*(one(i) for i in range(n)))

    asyncio.run(sends())  # warm: imports, PTB's first-call work
    start = time.process_time()
    asyncio.run(sends())
    return (time.process_time() - start) / n


def open_tasks(db: Any, now: Any, n: int) -> list[dict[str, Any]]:
    """`n` open tasks of a cadre, one case each: their reminders' subjects (as bot.notify writes them)."""
    village = "430421100201"
    db.add(Area(code=village, name="梅花村", level=AreaLevel.VILLAGE))
    db.flush()
    cadre = Staff(username="bench-cadre", name="李桂英", role=Role.CADRE, area_code=village, created_at=now)
    household = Household(head_name="张三", village_code=village, created_at=now)
    db.add_all([cadre, household])
    db.flush()
    due = now + timedelta(hours=6)
    cases = [Case(number=f"SB{i:08d}", household_id=household.id, area_code=village,
                  status=CaseStatus.APPLIED, discovery=ReporterKind.SELF, opened_at=now, updated_at=now)
             for i in range(n)]
    db.add_all(cases)
    db.flush()
    tasks = [Task(case_id=case.id, kind="verify", cycle="", assignee_staff_id=cadre.id, area_code=village,
                  due_at=due, status=TaskStatus.OPEN, created_at=now) for case in cases]
    db.add_all(tasks)
    db.flush()
    return [{"task": t.id, "due_at": due.isoformat(), "staff": cadre.id} for t in reversed(tasks)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--chats", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.02, help="the fake Bot API's answer delay, seconds")
    ap.add_argument("--warm", type=int, default=10, help="sends before the measured run (first-use work)")
    ap.add_argument("--reminders", action="store_true",
                    help="task reminders to cadres (checked against their tasks at each claim), not replies")
    ap.add_argument("--database-url", default=None,
                    help="PostgreSQL to run on (its schema is dropped and made afresh: destroys its data); "
                         "default: a temporary SQLite file")
    args = ap.parse_args()

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='outbox-bench-')}/bench.db"
    if args.database_url:
        reset_schema(url)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    sessions = make_session_factory(engine)
    now = system_clock()
    with sessions() as db:  # replies in the order dialogues write them: each chat's next after everyone's
        per = args.rows // args.chats
        subjects = open_tasks(db, now, args.rows) if args.reminders else []
        for k in range(per):
            for c in range(args.chats):  # written a millisecond apart, as replies are, all due by now
                at = now - timedelta(milliseconds=(per - k) * args.chats - c)
                if subjects:
                    outbox.add(db, channel="telegram", to=str(10_000 + c), body=f"提醒 {k}", now=at,
                               kind="reminder", extra={"event": "task_due", "subject": subjects.pop()})
                else:
                    outbox.add(db, channel="telegram", to=str(10_000 + c), body=f"回复 {k}", now=at)
        db.commit()

    settings = Settings(
        environment="test",
        database_url=url,
        secret_key="bench-secret-key-0123456789abcdef",
        run_dispatcher=False,
        telegram_bot_token=TOKEN,
        telegram_secret_token="bench-secret-0123456789",
        telegram_api_url="http://telegram.test",
        web_simulator=False,
    )
    api = FakeBotApi(args.latency)
    ctx = BotContext(
        settings=settings, sessions=sessions, clock=system_clock, extras={"telegram_request": api}
    )
    dispatcher = runtime.dispatcher(ctx)

    counts: Counter[str] = Counter()
    event.listen(engine, "before_cursor_execute", lambda *a: counts.update(["statements"]))
    event.listen(engine, "commit", lambda conn: counts.update(["commits"]))
    event.listen(engine, "rollback", lambda conn: counts.update(["rollbacks"]))

    if args.warm:  # the first sends' one-time work (PTB's first calls, lazy imports) is not measured
        warmed = threading.Event()

        def watch() -> None:
            while len(api.sends) < args.warm:
                time.sleep(0.01)
            warmed.set()

        threading.Thread(target=watch, daemon=True).start()
        asyncio.run(dispatcher.run_forever(interval=1.0, stop=warmed))
        api.sends.clear()
        counts.clear()
    stop = threading.Event()
    timer = threading.Timer(args.seconds, stop.set)
    cpu, wall = time.process_time(), time.monotonic()
    timer.start()
    asyncio.run(dispatcher.run_forever(interval=1.0, stop=stop))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall

    floor = floor_cpu_per_send(400, args.latency)
    with sessions() as db:
        pending = db.scalar(select(func.count()).select_from(Outbox).where(Outbox.sent_at.is_(None)))
    engine.dispose()
    sent = max(1, len(api.sends))
    last: dict[int, float] = {}
    closest = float("inf")
    for at, chat in api.sends:
        closest = min(closest, at - last.get(chat, float("-inf")))
        last[chat] = at
    per_send = cpu / sent
    what = "task reminders" if args.reminders else "replies"
    print(f"backlog: {args.rows} Telegram {what} to {args.chats} chats; fake Bot API answers in "
          f"{args.latency * 1000:.0f} ms; {wall:.1f} s on the real clock")
    print(f"sent {len(api.sends)} = {len(api.sends) / wall:.1f} a second (Telegram's overall limit: "
          f"{1 / OVERALL.total_seconds():.0f}); {pending} still pending; closest two sends to one chat "
          f"{closest:.2f} s")
    print(f"dispatcher CPU {cpu:.2f} s = {per_send * 1000:.2f} ms a message sent "
          f"({cpu / wall:.0%} of a core)")
    print(f"per message sent: {counts['statements'] / sent:.2f} statements, {counts['commits'] / sent:.2f} "
          f"commits, {counts['rollbacks'] / sent:.2f} rollbacks")
    print(f"floor: PTB send_message alone on the same fake, 8 at a time, {floor * 1000:.2f} ms CPU a "
          f"message; ratio {per_send / floor:.1f}x")


if __name__ == "__main__":
    main()
