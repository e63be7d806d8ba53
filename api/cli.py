"""The `shenbao` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from api.settings import Settings
from cases import migrate
from cases.db import make_engine


def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    migrate.upgrade(make_engine(settings.database_url))
    print("database is up to date")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    migrate.upgrade(make_engine(settings.database_url))
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shenbao", description="Shenbao 申报")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the app, webhooks, console and dispatcher")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=_serve)
    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="run migrations").set_defaults(func=_db_upgrade)
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(settings or Settings(), args)
    return result


if __name__ == "__main__":
    sys.exit(main())
