"""Instruction-count benchmark: the CPU instructions one SMS dialogue message costs, counted by valgrind's
callgrind, against a bare FastAPI form endpoint counted the same way.

Counted instructions do not drift with the machine's speed (timings here drift up to 2x within a day), so
this is the figure to compare before and after a change to the message path. One process runs under
callgrind, counting only around the measured parts: the app as `make run` builds it, on a temporary SQLite
database (`shenbao db upgrade`, `shenbao demo`); households taking full report dialogues through the SMS
webhook, the app called as ASGI in the same process (FastAPI's routing, Twilio's signature check, the
dialogue step, its SQL and commit, the TwiML answer; no sockets, no uvicorn); then the floor, the bare
endpoint of bench/bare_app.py answering as many form posts the same way. With `--database-url` (PostgreSQL,
its schema dropped and made afresh) the app runs in its lifespan, its database work on the event loop as
`shenbao serve` runs it; the count is this process's only (the driver's side of each round trip, not
PostgreSQL's). Both counts include the client's
side (building the request; signing it and reading the reply for SMS). Prints instructions a message for
each and their ratio. The ratio is not the webhook bench's ratio of messages a second: a served message
also costs uvicorn's HTTP work (the same for both), and the app's larger code runs slower per instruction
than the floor's (caches), so there the ratio comes out higher. Use it to compare changes.

    python bench/instructions_bench.py                 # needs valgrind (Debian: apt install valgrind)
    python bench/instructions_bench.py --households 20
    python bench/instructions_bench.py --database-url postgresql+psycopg://shenbao@127.0.0.1:5433/shenbao_bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's packages, whatever the environment has installed

from bench.webhook_bench import (  # noqa: E402
    FIRST_MESSAGE,
    PUBLIC,
    SMS_PATH,
    TW_TOKEN,
    answer,
    households,
    reset_schema,
    sms_form,
    twiml_texts,
)


def callgrind(*args: str) -> None:
    """Tell the callgrind running this process to do something (`-i on`, `-z`, `-d`)."""
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, stdout=subprocess.DEVNULL)


async def post(app: Any, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """One form POST to the ASGI app, in process: (status, body)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/x-www-form-urlencoded"),
                    (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }
    sent = False
    status, parts = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # the app only asks again to watch for a disconnect: there is none
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(parts)


async def sms_dialogues(app: Any, start: int, count: int) -> int:
    """`count` households file a report by SMS, taking turns one message each; messages sent."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TW_TOKEN)
    talking = {hh.n: (hh, FIRST_MESSAGE) for hh in households(start, count)}
    sent = {n: 0 for n in talking}
    messages = 0
    while talking:
        for n, (hh, text) in list(talking.items()):
            sent[n] += 1
            form, signature = sms_form(validator, hh, sent[n], text)
            signed = [(b"x-twilio-signature", signature.encode())]
            status, body = await post(app, SMS_PATH, form.encode(), signed)
            if status != 200:
                raise RuntimeError(f"SMS webhook answered {status}")
            messages += 1
            following = answer(twiml_texts(body.decode()), hh) if sent[n] < 30 else None
            if following is None:
                del talking[n]
            else:
                talking[n] = (hh, following)
    return messages


async def bare_posts(app: Any, count: int) -> None:
    for i in range(count):
        form = urlencode({"Body": f"消息{i}", "From": "13900000000"}).encode()
        status, _ = await post(app, "/bare", form, [])
        if status != 200:
            raise RuntimeError(f"bare endpoint answered {status}")


def child(args: argparse.Namespace) -> int:
    """Under callgrind: build both apps, warm them up, count each part between a zero and a dump."""
    from api.app import create_app
    from api.cli import settle_heap
    from api.settings import Settings
    from bench.bare_app import app as bare

    app = create_app(Settings())
    settle_heap()  # as `shenbao serve` does before serving

    async def dialogues(start: int, count: int, counted: bool) -> int:
        # PostgreSQL: in the lifespan that serves its event loop's engine (SQLite: as counted before)
        served = app.router.lifespan_context(app) if app.state.loop_engine is not None else nullcontext()
        async with served:
            if counted:
                callgrind("-i", "on")
                callgrind("-z")
            messages = await sms_dialogues(app, start, count)
            if counted:
                callgrind("-d", "sms")
            return messages

    asyncio.run(dialogues(0, 10, counted=False))  # warm-up: first-use loading (parser dictionaries, mappers)
    asyncio.run(bare_posts(bare, 100))
    messages = asyncio.run(dialogues(1000, args.households, counted=True))
    asyncio.run(bare_posts(bare, messages))
    callgrind("-d", "bare")
    callgrind("-i", "off")
    print(json.dumps({"messages": messages}))
    return 0


def counted(out: Path) -> dict[str, int]:
    """The instructions of each dump of the run, by the name it was dumped with."""
    found: dict[str, int] = {}
    for path in out.parent.glob(out.name + "*"):
        text = path.read_text(errors="replace")
        name = re.search(r"^desc: Trigger: dump (\S+)$", text, re.M)  # `callgrind_control -d NAME`
        total = re.search(r"^totals: (\d+)$", text, re.M)
        if name and total:
            found[name.group(1)] = int(total.group(1))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=40, help="households filing a report by SMS")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL to run on (its schema is dropped and made afresh: destroys its "
                             "data); default: a fresh SQLite file in a temp folder")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        print("valgrind is not installed (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="shenbao-instr-"))
    try:
        if args.database_url:
            reset_schema(args.database_url)
        env = {**os.environ, "SHENBAO_DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'bench.db'}",
               "SHENBAO_PUBLIC_URL": PUBLIC, "SHENBAO_TWILIO_AUTH_TOKEN": TW_TOKEN,
               "SHENBAO_SECRET_KEY": "bench-secret-key-0123456789abcdef", "PYTHONPATH": str(ROOT),
               "PYTHONHASHSEED": "0"}
        shenbao = [sys.executable, "-m", "api.cli"]
        for step in (["db", "upgrade"], ["demo"]):
            subprocess.run([*shenbao, *step], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        out = tmp / "callgrind.out"
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--child", "--households", str(args.households)],
            env=env, cwd=ROOT, capture_output=True, text=True,
        )
        if run.returncode != 0:
            print(run.stdout[-2000:], run.stderr[-4000:], file=sys.stderr)
            return run.returncode
        messages = json.loads(run.stdout.strip().splitlines()[-1])["messages"]
        found = counted(out)
        if set(found) != {"sms", "bare"}:
            print(f"callgrind dumps not found in {tmp}: {found}", file=sys.stderr)
            return 1
        sms, bare = found["sms"] / messages, found["bare"] / messages
        database = "PostgreSQL" if args.database_url else "SQLite"
        print(f"{args.households} households filed a report by SMS in {messages} messages (in process, "
              f"ASGI, {database}); instructions counted by callgrind, client side included")
        print(f"{'sms':8} {sms / 1e6:8.2f} M instructions a message")
        print(f"{'bare':8} {bare / 1e6:8.2f} M instructions a message (bench/bare_app.py)")
        print(f"ratio sms/bare {sms / bare:.1f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
