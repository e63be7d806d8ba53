"""The `shenbao` command line."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from api.settings import Settings
from cases import demo, logs, migrate
from cases.clock import system_clock
from cases.crypto import Vault
from cases.db import make_engine, make_session_factory
from cases.importers import ImportRefused, import_areas, import_staff


def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    before, after = migrate.upgrade(make_engine(settings.database_url))
    if before == after:
        print(f"database is up to date (revision {after})")
    elif before is None:
        print(f"database created (revision {after})")
    else:
        print(f"database migrated from revision {before} to {after}")
    return 0


def settle_heap() -> None:
    """Garbage collection for a long-running server: what start-up built (the parser's dictionaries, the
    gazetteer, mappers, routes) is frozen out of the collector's sight, and the young generation is
    collected every 10,000 allocations instead of 700, so request garbage dies young and full collections
    (~50 ms each, a pause every request in flight waits out) come a quarter as often. Webhook bench, SQLite,
    ~35,000 messages: 3.3-3.9 s of CPU in the collector before (2,200 young, 200 middle and 18-20 full
    collections), 1.2 s after (490, 42 and 5)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    migrate.upgrade(make_engine(settings.database_url))
    app = create_app(settings)
    if settings.run_dispatcher and hasattr(app.state, "channels"):
        from api.channels import jobs_for, run_jobs_on_loop
        from bot.dispatcher import start_in_thread

        jobs = jobs_for(app.state.channels)
        if app.state.loop_engine is not None:  # PostgreSQL: on the server's loop, beside the webhooks
            run_jobs_on_loop(app, jobs, interval=settings.dispatcher_interval_seconds)
        else:
            start_in_thread(jobs, interval=settings.dispatcher_interval_seconds)
    if hasattr(app.state, "channels"):
        from api.channels import warm_up

        warm_up(app.state.channels)
    settle_heap()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=settings.access_log)
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from api.channels import run_worker

    migrate.upgrade(make_engine(settings.database_url))
    if not args.once:
        settle_heap()
    return run_worker(settings, clock=system_clock, once=args.once)


def _chat(settings: Settings, _args: argparse.Namespace) -> int:
    from api.channels import standalone
    from bot.console import chat

    migrate.upgrade(make_engine(settings.database_url))
    with standalone(settings, clock=system_clock) as ctx:
        return chat(ctx)


def _telegram_polling(settings: Settings, _args: argparse.Namespace) -> int:
    import asyncio

    from api.channels import jobs_for, standalone
    from bot import telegram

    if not settings.telegram_bot_token:
        print("SHENBAO_TELEGRAM_BOT_TOKEN is not set", file=sys.stderr)
        return 2
    migrate.upgrade(make_engine(settings.database_url))

    async def both() -> None:
        with standalone(settings, clock=system_clock) as ctx:
            jobs = jobs_for(ctx)
            await asyncio.gather(
                telegram.poll(ctx), jobs.run_forever(interval=settings.dispatcher_interval_seconds)
            )

    try:
        asyncio.run(both())
    except KeyboardInterrupt:
        pass
    return 0


def _import_areas(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    started = time.perf_counter()
    try:
        with make_session_factory(engine)() as db, db.begin():
            result = import_areas(db=db, path=Path(args.file))
    except ImportRefused as refused:
        return _report_refused(refused)
    except OSError as exc:
        print(f"nothing imported: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    levels = ", ".join(f"{n} {level}" for level, n in result.by_level.items())
    print(
        f"areas: {result.inserted} added, {result.updated} updated, {result.unchanged} unchanged "
        f"({levels}) in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _import_staff(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db, db.begin():
            vault = Vault(settings.secret_key)
            result = import_staff(db=db, path=Path(args.file), vault=vault, now=system_clock())
    except ImportRefused as refused:
        return _report_refused(refused)
    except OSError as exc:
        print(f"nothing imported: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"staff: {result.inserted} added, {result.updated} updated")
    if result.generated_passwords:
        print("generated passwords (shown once; hand them over privately):")
        for username, password in result.generated_passwords:
            print(f"  {username}\t{password}")
    return 0


def _demo(settings: Settings, _args: argparse.Namespace) -> int:
    if settings.environment == "production":
        print(
            "shenbao demo refuses a production database (it creates accounts with a known password)",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(settings.database_url)  # migrated already (`shenbao db upgrade`)
    with make_session_factory(engine)() as db, db.begin():
        result = demo.seed(db=db, now=system_clock(), vault=Vault(settings.secret_key))
    print(
        f"demo county 衡阳县: {result.areas_added} areas, {result.staff_added} staff added"
        + (", Hunan 2021 income line set" if result.setting_added else "")
        + (f", {result.cases_added} demo cases" if result.cases_added else "")
    )
    print(f"demo logins (password '{demo.DEMO_PASSWORD}'):")
    for person in result.logins:
        print(f"  {person.username:<8} {person.role.value:<9} {person.name}")
    from nlu.gazetteer import spoken_name  # not at import: nlu brings jieba, which other commands need not

    print("demo villages (for the web simulator's village question):")
    for township, villages in demo.villages_by_township():
        print(f"  {township}: {' '.join(spoken_name(v) for v in villages)}")  # as a household names them
    return 0


def _report_refused(refused: ImportRefused) -> int:
    print(f"nothing imported: {len(refused.errors)} invalid row(s)", file=sys.stderr)
    for error in refused.errors[:200]:
        print(f"  {error}", file=sys.stderr)
    if len(refused.errors) > 200:
        print(f"  ... and {len(refused.errors) - 200} more", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shenbao", description="Shenbao 申报")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the app, webhooks, console and dispatcher")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=_serve)
    worker = sub.add_parser(
        "worker", help="reminders and the outbox dispatcher alone (several may run side by side)"
    )
    worker.add_argument("--once", action="store_true", help="run the reminders, send one batch and exit")
    worker.set_defaults(func=_worker)
    sub.add_parser("chat", help="talk to the household dialogue in this terminal").set_defaults(func=_chat)
    sub.add_parser("telegram-polling", help="Telegram by long polling (no public URL needed)").set_defaults(
        func=_telegram_polling
    )
    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="run migrations").set_defaults(func=_db_upgrade)
    sub.add_parser("demo", help="seed the demo county (idempotent)").set_defaults(func=_demo)
    imp = sub.add_parser("import", help="import a county's real lists from CSV")
    imp_sub = imp.add_subparsers(dest="import_command", required=True)
    areas = imp_sub.add_parser("areas", help="divisions: village-per-row CSV or code,name,level,parent_code")
    areas.add_argument("file")
    areas.set_defaults(func=_import_areas)
    staff = imp_sub.add_parser("staff", help="staff: username,name,role,area_code,phone,password")
    staff.add_argument("file")
    staff.set_defaults(func=_import_staff)
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    logs.install()  # whatever a command logs, no phone, ID or chat number reaches the log
    args = build_parser().parse_args(argv)
    result: int = args.func(settings or Settings(), args)
    return result


if __name__ == "__main__":
    sys.exit(main())
