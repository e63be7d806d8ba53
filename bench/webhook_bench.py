"""Webhook benchmark: many simulated households file full reports over the SMS and Telegram webhooks.

Starts the server as `make run` does (`shenbao db upgrade`, `shenbao demo`, `shenbao serve`) on a temporary
SQLite database (or `--database-url`), on loopback, with a loopback Bot API stub for the dispatcher's
Telegram sends; then drives households through full report dialogues and prints messages/s, p50/p99
latency and the server's CPU time per message, per channel: at saturation, paced at `--rate` and at an
eighth of the floor (the issue's target scaled to this machine), and the highest paced rate that keeps p99
under `--slo-ms`; and the same load against a bare FastAPI form endpoint started the same way (the floor).
`--worker` moves the dispatcher out of the server into a `shenbao worker` process (its CPU printed too).

    python bench/webhook_bench.py --households 200 --concurrency 32
    python bench/webhook_bench.py --reset --database-url postgresql+psycopg://shenbao@127.0.0.1:5433/shenbao_bench
    python bench/webhook_bench.py --worker --reset --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import aiohttp
import httpx
from twilio.request_validator import RequestValidator

if TYPE_CHECKING:
    from sqlalchemy import Connection

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = "http://bench.shenbao.test"
TW_TOKEN = "bench-twilio-auth-token-0123456789"
TG_TOKEN = "123456:BENCH"
TG_SECRET = "bench-secret-token"
NAMES = ["张三", "李四", "王五", "赵六", "刘明", "陈红", "杨光", "黄河", "周平", "吴刚"]
CASE = re.compile(r"SB[0-9A-Z]{8}")
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
# the demo county's villages (cases.demo), each with its contact cadre: households come from all of them, as
# a county's do (in one village, its two cadres would hold thousands of open cases by the Telegram run)
VILLAGES = ["西渡镇梅花村", "三湖镇中湖村", "西渡镇赤水村", "三湖镇龟石村", "樟木乡里仁村", "樟木乡仁爱村",
            "西渡镇西渡村"]


def id_number(i: int) -> str:
    """A valid GB 11643 number for household i (430421 + a birth date + sequence + check digit)."""
    year = 1950 + i % 40
    body = f"430421{year}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
    return body + CHECK[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def answer(reply: str, hh: Household) -> str | None:
    """What a household types next, reading the last reply like a person would; None when done."""
    if CASE.search(reply) and ("已提交" in reply or "案件编号" in reply):
        return None
    rules = [
        ("全名", hh.name),
        ("同意", "同意"),
        ("请核对", "1"),
        ("手机", hh.phone_local),
        ("村民小组", "3"),
        ("吗", "1"),
        ("哪个村", hh.village),
        ("几口人", "4口人"),
        ("身份证", hh.id_number),
        ("姓名", hh.name),
        ("对吗", "1"),
    ]
    for key, text in rules:
        if key in reply:
            return text
    return "1"


@dataclass
class Household:
    n: int
    name: str
    id_number: str
    phone_local: str
    village: str
    latencies: list[float] = field(default_factory=list)
    done: bool = False
    failed: bool = False  # a request failed in transport (an overloaded server drops connections): stopped


async def post(
    client: aiohttp.ClientSession, hh: Household, url: str, data: str | bytes, headers: dict[str, str]
) -> tuple[int, str] | None:
    """POST and read the answer; None (the household marked failed) when the connection failed."""
    try:
        async with client.post(url, data=data, headers=headers) as res:
            return res.status, await res.text()
    except (TimeoutError, aiohttp.ClientError):
        hh.failed = True
        return None


# --- the loopback Bot API stub (the dispatcher's Telegram sends end here) --------------------------


class BotApiStub(BaseHTTPRequestHandler):
    # keep-alive, as api.telegram.org: with HTTP/1.0 every send was a new connection
    protocol_version = "HTTP/1.1"
    # the reply leaves in one write, as a real server's does: unbuffered, http.server wrote the headers and
    # the body apart, and the body waited on Nagle's algorithm for the client's delayed ACK (40 ms a send)
    wbufsize = 64 * 1024
    sent = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("content-length", "0"))
        self.rfile.read(length)
        BotApiStub.sent += 1
        body = json.dumps(
            {
                "ok": True,
                "result": {
                    "message_id": BotApiStub.sent,
                    "date": 0,
                    "chat": {"id": 1, "type": "private"},
                    "text": "",
                },
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


class QuietServer(ThreadingHTTPServer):
    """The stub; a server shut down mid-send (the run is over) is not an error worth a traceback."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


# --- drivers ----------------------------------------------------------------------------------------


FIRST_MESSAGE = "我老伴生病住院了，花了好多钱，房子也漏雨"  # every household's first message
SMS_PATH = "/webhooks/twilio/sms"


def sms_form(validator: RequestValidator, hh: Household, sent: int, text: str) -> tuple[str, str]:
    """The household's `sent`-th message as Twilio posts it: (form body, X-Twilio-Signature)."""
    params = {
        "MessageSid": f"SMb{hh.n:06d}{sent:04d}{'0' * 22}"[:34],
        "AccountSid": "AC" + "0" * 32,
        "From": "+86" + hh.phone_local,
        "To": "+15005550006",
        "Body": text,
        "NumMedia": "0",
    }
    return urlencode(params), validator.compute_signature(PUBLIC + SMS_PATH, params)


def twiml_texts(body: str) -> str:
    """The replies in a TwiML answer, one after another (what the household reads)."""
    return "\n".join(re.findall(r"<Message>(.*?)</Message>", body, re.S))


async def sms_household(
    client: aiohttp.ClientSession, base: str, hh: Household, pace: Pace, limit: int
) -> int:
    validator = RequestValidator(TW_TOKEN)
    text: str | None = FIRST_MESSAGE
    sent = 0
    while text is not None and sent < limit:
        sent += 1
        form, sig = sms_form(validator, hh, sent, text)
        started = await pace()
        got = await post(client, hh, base + SMS_PATH, form,
                         {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})
        if got is None:
            return sent
        status, body = got
        hh.latencies.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"SMS webhook answered {status}")
        text = answer(twiml_texts(body), hh)
    hh.done = text is None
    return sent


def telegram_script(hh: Household) -> list[str]:
    return [
        FIRST_MESSAGE,
        "1",
        hh.name,
        hh.id_number,
        "4口人",
        hh.village,
        "1",
        "3",
        hh.phone_local,
        "1",
        "同意",
        hh.name,
    ]


async def telegram_household(
    client: aiohttp.ClientSession, base: str, hh: Household, pace: Pace, limit: int
) -> int:
    chat = 700000 + hh.n
    sent = 0
    for text in telegram_script(hh)[:limit]:
        sent += 1
        update = {
            "update_id": 900000000 + hh.n * 100 + sent,
            "message": {
                "message_id": sent,
                "date": 1772416800,
                "text": text,
                "from": {"id": chat, "is_bot": False, "first_name": "户"},
                "chat": {"id": chat, "first_name": "户", "type": "private"},
            },
        }
        started = await pace()
        body = json.dumps(update, ensure_ascii=False).encode()
        got = await post(client, hh, base + "/webhooks/telegram", body,
                         {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
        if got is None:
            return sent
        hh.latencies.append(time.perf_counter() - started)
        if got[0] != 200:
            raise RuntimeError(f"Telegram webhook answered {got[0]}")
    return sent


async def bare_household(
    client: aiohttp.ClientSession, base: str, hh: Household, pace: Pace, count: int
) -> int:
    for i in range(count):
        started = await pace()
        got = await post(client, hh, base + "/bare", urlencode({"Body": f"消息{i}", "From": hh.phone_local}),
                         {"Content-Type": "application/x-www-form-urlencoded"})
        if got is None:
            return i
        hh.latencies.append(time.perf_counter() - started)
        if got[0] != 200:
            raise RuntimeError(f"bare endpoint answered {got[0]}")
    return count


Pace = Callable[[], Awaitable[float]]

DIALOGUE = 12  # messages of one household's report dialogue (the Telegram script; SMS takes about as many)
THINK = 0.25  # mean seconds a household takes to read a reply and type the next message (paced runs)
RAMP = DIALOGUE * THINK + 1.0  # seconds until a paced run is steady: the first arrivals are well under way
SPAN = 15.0  # seconds of steady load a paced run measures


def paced_count(rate: float, least: int = 50) -> int:
    """Households a paced run needs so that arrivals at `rate` messages a second last RAMP + SPAN seconds."""
    return max(least, math.ceil(rate / DIALOGUE * (RAMP + SPAN)))


def closed_pace() -> Pace:
    """Saturation: every message goes as soon as the one before was answered."""

    async def now() -> float:
        return time.perf_counter()

    return now


def household_pace(arrives: float, sent: list[float], rnd: random.Random) -> Pace:
    """A paced run's household: its first message is due when it arrives, each later one a random think
    time after the reply before; every due moment is recorded, and latency counts from it."""
    due: float | None = None

    async def scheduled() -> float:
        nonlocal due
        due = arrives if due is None else time.perf_counter() + rnd.expovariate(1 / THINK)
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        sent.append(due)
        return due

    return scheduled


async def drive(
    kind: str,
    base: str,
    households: list[Household],
    concurrency: int,
    per: int,
    rate: float | None = None,
) -> dict[str, float]:
    """Saturation (`rate` None): `concurrency` households talk back to back, as fast as they are answered.
    Paced: an open model. Households arrive at random (a Poisson process of rate/12 a second, so messages
    come at `rate` a second), each answers its replies after a random think time, and none waits for a
    free connection; the rate and latencies are taken over the steady part (from RAMP seconds after the
    first household arrived to the last household's arrival; `paced_count` gives a run enough households
    for a steady part of SPAN seconds). Households that all start at once would move in step and file
    their reports in the same second: a burst no real village sends."""
    rnd = random.Random(len(households) * 7919 + int(rate or 0))
    steady: tuple[float, float] | None = None
    sent: dict[int, list[float]] = {hh.n: [] for hh in households}
    if rate is None:
        gate = asyncio.Semaphore(concurrency)
        connector = aiohttp.TCPConnector(limit=concurrency)
    else:
        gate = asyncio.Semaphore(len(households))
        connector = aiohttp.TCPConnector(limit=0)
        t0 = time.perf_counter() + 0.2
        arrivals = []
        for _ in households:
            arrivals.append(t0)
            t0 += rnd.expovariate(rate / DIALOGUE)
        # steady once the first households are well into their dialogues (before that fewer talk at once
        # than the rate implies), until the last one arrives
        lo = arrivals[0] + RAMP
        steady = (lo if arrivals[-1] - lo >= 3.0 else arrivals[len(arrivals) // 5], arrivals[-1])
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:

        async def one(i: int, hh: Household) -> int:
            pace = closed_pace() if steady is None else household_pace(arrivals[i], sent[hh.n], rnd)
            async with gate:
                if kind == "sms":
                    return await sms_household(client, base, hh, pace, per)
                if kind == "telegram":
                    return await telegram_household(client, base, hh, pace, per)
                return await bare_household(client, base, hh, pace, per)

        started = time.perf_counter()
        counts = await asyncio.gather(*(one(i, hh) for i, hh in enumerate(households)))
        wall = time.perf_counter() - started
    total = sum(counts)
    if steady is None:
        lat = sorted(x for hh in households for x in hh.latencies)
        achieved = total / wall
    else:
        lo, hi = steady
        lat = sorted(x for hh in households for at, x in zip(sent[hh.n], hh.latencies, strict=False)
                     if lo <= at <= hi)
        achieved = len(lat) / (hi - lo)
    return {
        "messages": total,
        "seconds": wall,
        "rate": achieved,
        "p50": 1000 * statistics.median(lat),
        "p99": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "completed": sum(1 for hh in households if hh.done),
        "failed": sum(1 for hh in households if hh.failed),
    }


@dataclass
class Slo:
    """The highest paced rate found at which p99 stayed under the target and the server kept pace."""

    rate: float
    result: dict[str, float] | None
    tried: list[tuple[float, float, float]]  # (offered rate, achieved rate, p99 ms) of every probe


Run = Callable[[str, list[Household], int, float | None], dict[str, float]]


def highest_rate_within(
    run: Run, kind: str, fresh: Callable[[int], list[Household]], lo: float, hi: float,
    p99_ms: float = 100.0, steps: int = 6,
) -> Slo:
    """Bisect the paced rate in [lo, hi]: a probe passes when its p99 is under `p99_ms` and no household's
    connection failed. Each probe drives fresh households (full dialogues), enough for a steady part of SPAN
    seconds at its rate. A server that falls behind shows in p99, since latency counts from when a message
    was due: a backlog growing for SPAN seconds pushes it past the target. The achieved rate is no test:
    households arrive at random and each sends a dialogue's worth, so the messages due in the window vary
    by about sqrt(DIALOGUE / (rate * SPAN)) (12% at 58/s, 4% at 500/s; the bare endpoint's own paced runs
    read 478 of 500), and a 95% bar failed probes at 58/s with p99 50 ms."""
    best = Slo(rate=0.0, result=None, tried=[])
    for _step in range(steps):
        rate = (lo * hi) ** 0.5  # geometric midpoint: the range spans an order of magnitude
        r = run(kind, fresh(paced_count(rate)), DIALOGUE, rate)
        best.tried.append((rate, r["rate"], r["p99"]))
        if r["p99"] < p99_ms and not r["failed"]:
            best.rate, best.result, lo = rate, r, rate
        else:
            hi = rate
    return best


def households(start: int, n: int) -> list[Household]:
    return [
        Household(n=i, name=NAMES[i % len(NAMES)], id_number=id_number(i), phone_local=f"139{i:08d}",
                  village=VILLAGES[i % len(VILLAGES)])
        for i in range(start, start + n)
    ]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (Linux /proc; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds(db_url: str) -> float | None:
    """PostgreSQL on this machine: the CPU seconds its processes (all named `postgres`) have used so far;
    None for SQLite (its work is the server's own) or a server elsewhere."""
    if not db_url.startswith("postgresql"):
        return None
    total, seen = 0.0, False
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() != "postgres":
                    continue
        except OSError:
            continue
        used = cpu_seconds(int(entry))
        if used is not None:
            total, seen = total + used, True
    return total if seen else None


def settled(pid: int, busy: float = 0.3, limit: float = 180.0) -> float:
    """Wait until the process uses less than `busy` of a core over half a second (an overloaded run leaves
    requests queued in the server, which it answers after the clients gave up; the dispatcher's steady
    Telegram sends stay under that); returns the seconds waited."""
    started = time.perf_counter()
    last = cpu_seconds(pid)
    while last is not None and time.perf_counter() - started < limit:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now is None or now - last < busy * 0.5:
            break
        last = now
    return time.perf_counter() - started


def drained(db_url: str, limit: float = 300.0) -> float:
    """Wait until the dispatcher has sent every outbox row (the replies of a Telegram run leave at the Bot
    API's rate limits, long after the webhooks answered), so the next run does not share the process with
    that backlog; returns the seconds waited."""
    from sqlalchemy import create_engine

    engine = create_engine(db_url)
    started = time.perf_counter()
    seen: list[int] = []
    try:
        while time.perf_counter() - started < limit:
            with engine.connect() as conn:
                seen.append(pending(conn))
            # done when nothing is left, or what is left stopped moving for 2 s: rows held for later (staff
            # SMS in the quiet hours) are not a backlog
            if not seen[-1] or (len(seen) > 4 and len(set(seen[-5:])) == 1):
                break
            time.sleep(0.5)
    finally:
        engine.dispose()
    return time.perf_counter() - started


def pending(conn: Connection) -> int:
    """Outbox rows still waiting to be sent."""
    from sqlalchemy import text

    left = conn.execute(text("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')")).scalar()
    return int(left or 0)


def backlog(db_url: str) -> int:
    """Outbox rows still waiting to be sent, on a connection of its own."""
    from sqlalchemy import create_engine

    engine = create_engine(db_url)
    with engine.connect() as conn:
        left = pending(conn)
    engine.dispose()
    return left


def filed(db_url: str) -> dict[str, int]:
    """Reports (and so completed dialogues) per channel in the server's database after the run."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT channel, COUNT(*) FROM reports GROUP BY channel")).all()
    engine.dispose()
    return {str(channel): int(n) for channel, n in rows}


def reset_schema(url: str) -> None:
    """Drop and recreate a PostgreSQL database's public schema (its data gone), for a clean run."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=200, help="households per channel")
    parser.add_argument("--concurrency", type=int, default=32, help="households talking at the same time")
    parser.add_argument(
        "--rate", type=float, default=500, help="messages a second for the paced runs (0: saturation only)"
    )
    parser.add_argument(
        "--slo-ms", type=float, default=100.0,
        help="also search the highest paced rate with p99 under this many ms (0: skip the search)",
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temp folder")
    parser.add_argument(
        "--worker", action="store_true",
        help="run the dispatcher in a `shenbao worker` process beside `shenbao serve` (RUN_DISPATCHER=false),"
             " as a PostgreSQL deployment may, instead of in the server's own thread as `make run` does",
    )
    parser.add_argument(
        "--channels", type=lambda v: [c for c in ("sms", "telegram") if c in v.split(",")],
        default=["sms", "telegram"], help="comma-separated, of sms,telegram (default both; SMS runs first)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--reset",
        action="store_true",
        help="drop and recreate the schema of --database-url first (PostgreSQL; destroys its data)",
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="shenbao-bench-"))
    db_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    stub = QuietServer(("127.0.0.1", 0), BotApiStub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    port = free_port()
    env = {
        **os.environ,
        "SHENBAO_DATABASE_URL": db_url,
        "SHENBAO_PUBLIC_URL": PUBLIC,
        "SHENBAO_TWILIO_AUTH_TOKEN": TW_TOKEN,
        "SHENBAO_TELEGRAM_BOT_TOKEN": TG_TOKEN,
        "SHENBAO_TELEGRAM_SECRET_TOKEN": TG_SECRET,
        "SHENBAO_TELEGRAM_API_URL": f"http://127.0.0.1:{stub.server_address[1]}",
        "SHENBAO_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "PYTHONPATH": str(ROOT),
    }
    if args.reset and args.database_url:
        reset_schema(args.database_url)
    shenbao = [sys.executable, "-m", "api.cli"]
    for step in (["db", "upgrade"], ["demo"]):
        subprocess.run([*shenbao, *step], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen(
        [*shenbao, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**env, "SHENBAO_RUN_DISPATCHER": "false"} if args.worker else env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [*shenbao, "worker"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) if args.worker else None
    bare_port = free_port()
    bare = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base, bare_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
        wait_up(base + "/healthz", server)
        wait_up(bare_base + "/docs", bare)
        n = args.households
        print(
            f"database: {'SQLite (temp file)' if not args.database_url else 'given URL'}; "
            f"one server process{' and a `shenbao worker` (the dispatcher)' if worker else ''}; "
            f"saturation runs: {n} households per channel, {args.concurrency} at a time"
        )
        c = args.concurrency
        taken = 0
        db_is_local = database_cpu_seconds(db_url) is not None

        def fresh(count: int) -> list[Household]:
            """Households never seen by the server (new phone numbers, IDs and chats)."""
            nonlocal taken
            taken += count
            return households(taken - count, count)

        for line in (
            "saturation: households talk back to back, each message sent once the one before is answered.",
            "@R/s: households arrive at random, R messages a second in all, each answering after a random",
            f"think time (mean {THINK:g} s); latency counts from the moment a message was due; measured over",
            f"{SPAN:g} s of steady load. Telegram is answered once the update is stored and handled; its",
            "replies leave through the outbox at Telegram's 30 a second (the dispatcher works through that",
            "backlog, at that rate, during every Telegram run). cpu ms: the server process's CPU time (all",
            "its threads) during the run, per message" + ("; wkr ms: the worker's" if worker else "")
            + ("; db ms: PostgreSQL's processes' (on this machine)" if db_is_local else "")
            + "; gen ms: this load",
            "generator's own (the Bot API stub's thread included), on the same cores as the server.",
        ):
            print(line)
        print(f"{'':22} {'messages':>9} {'msg/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'done':>6} {'cpu ms':>7}"
              + (f" {'wkr ms':>7}" if worker else "") + (f" {'db ms':>7}" if db_is_local else "")
              + f" {'gen ms':>7}", flush=True)

        def run(kind: str, hh: list[Household], per: int, pace: float | None = None,
                label: str | None = None) -> dict[str, float]:
            """One run, once the server has answered what the run before left queued; an SMS run also
            waits for the outbox to empty (nothing should be left there)."""
            proc = bare if kind == "bare" else server
            waits.append(settled(proc.pid))
            if kind == "sms":
                waits.append(drained(db_url))
            before = cpu_seconds(proc.pid)
            worker_before = cpu_seconds(worker.pid) if worker is not None else None
            db_before = database_cpu_seconds(db_url) if kind != "bare" else None
            bench_before = time.process_time()
            r = asyncio.run(drive(kind, bare_base if kind == "bare" else base, hh, c, per, pace))
            r["gen_ms"] = 1000 * (time.process_time() - bench_before) / r["messages"]
            after = cpu_seconds(proc.pid)
            worker_after = cpu_seconds(worker.pid) if worker is not None else None
            db_after = database_cpu_seconds(db_url) if db_before is not None else None
            r["cpu_ms"] = 1000 * (after - before) / r["messages"] if before is not None and after else -1.0
            if label is not None:
                cpu = f"{r['cpu_ms']:7.2f}" if r["cpu_ms"] >= 0 else f"{'-':>7}"
                if worker_before is not None and worker_after is not None:
                    cpu += f" {1000 * (worker_after - worker_before) / r['messages']:7.2f}"
                if db_is_local:
                    db_ms = 1000 * (db_after - db_before) / r["messages"] if db_after and db_before else None
                    cpu += f" {db_ms:7.2f}" if db_ms is not None else f" {'-':>7}"
                cpu += f" {r['gen_ms']:7.2f}"
                dropped = f"  {r['failed']:.0f} households' connections failed" if r["failed"] else ""
                print(f"{label:22} {r['messages']:9.0f} {r['rate']:8.1f} {r['p50']:8.1f} {r['p99']:8.1f} "
                      f"{r['completed'] if kind == 'sms' else '-':>6} {cpu}{dropped}", flush=True)
            return r

        waits: list[float] = []
        # the floor first, while the server is idle (a Telegram backlog would share the cores with it)
        floor = run("bare", fresh(n), DIALOGUE, label="bare")
        eighth = floor["rate"] / 8  # the target, scaled to this machine: an eighth of bare
        rates = [(args.rate, f"@{args.rate:g}/s")] if args.rate > 0 else []
        rates.append((eighth, f"@{eighth:.0f}/s=bare/8"))
        for rate, label in rates:
            run("bare", fresh(paced_count(rate)), DIALOGUE, rate, label=f"bare {label}")
        found: dict[str, Slo] = {}
        saturation: dict[str, dict[str, float]] = {}
        for kind in args.channels:  # SMS first: Telegram leaves a backlog of replies behind
            saturation[kind] = run(kind, fresh(n), 30, label=kind)
            for rate, label in rates:
                run(kind, fresh(paced_count(rate)), 30, rate, label=f"{kind} {label}")
            if args.slo_ms > 0:
                top = max(20.0, min(floor["rate"] / 4, 2 * saturation[kind]["rate"]))
                found[kind] = highest_rate_within(run, kind, fresh, lo=5.0, hi=top, p99_ms=args.slo_ms)
        for kind, slo in found.items():
            probes = ", ".join(f"{o:.0f}->{a:.0f}/s p99 {p:.0f}" for o, a, p in slo.tried)
            if slo.result is None:
                print(f"{kind}: no probed rate kept p99 under {args.slo_ms:g} ms ({probes})")
            else:
                print(f"{kind}: highest paced rate with p99 under {args.slo_ms:g} ms: {slo.rate:.0f}/s "
                      f"(p50 {slo.result['p50']:.0f} ms, p99 {slo.result['p99']:.0f} ms) = bare/"
                      f"{floor['rate'] / slo.rate:.1f}; probes (offered->achieved, p99 ms): {probes}")
        print(f"reports filed: {filed(db_url)}; replies still queued at the end: {backlog(db_url)} "
              f"(sent to the Bot API stub meanwhile: {BotApiStub.sent}); waited {sum(waits):.0f} s in all "
              "for an idle server and, before SMS runs, an empty outbox")
        print("saturation ratio " + ", ".join(
            f"bare/{kind} {floor['rate'] / saturation[kind]['rate']:.1f}x" for kind in args.channels))
    finally:
        for proc in (server, bare, *([worker] if worker is not None else [])):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        stub.shutdown()
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    random.seed(7)
    sys.exit(main())
