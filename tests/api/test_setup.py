"""What `make run` does on a fresh machine, minus the venv and the server loop: `shenbao db upgrade` and
`shenbao demo` on an empty SQLite file (WAL, foreign keys on), then the app serves the demo county."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text

from api.app import create_app
from api.channels import reminder_policy
from api.cli import main
from api.settings import Settings
from cases import demo, migrate
from cases.db import make_engine


def test_upgrade_demo_and_serve_on_a_fresh_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'shenbao.db'}"
    settings = Settings(environment="test", database_url=url, secret_key="s" * 40, run_dispatcher=False)
    assert main(["db", "upgrade"], settings) == 0
    head = migrate.head_revision()
    assert capsys.readouterr().out == f"database created (revision {head})\n"
    assert main(["db", "upgrade"], settings) == 0  # idempotent
    assert capsys.readouterr().out == f"database is up to date (revision {head})\n"
    assert main(["demo"], settings) == 0
    out = capsys.readouterr().out
    assert "xidu" in out and demo.DEMO_PASSWORD in out
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM staff")).scalar() == len(demo.STAFF)
    engine.dispose()
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            assert client.get("/docs").status_code == 200
            login = client.post("/api/auth/token", data={"username": "xidu", "password": demo.DEMO_PASSWORD})
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            cases = client.get("/api/cases", headers={"Authorization": f"Bearer {token}"})
            assert cases.status_code == 200 and cases.json()["total"] >= 1
    finally:
        app.state.engine.dispose()


def test_serve_warms_the_parser_and_freezes_the_startup_heap(tmp_path: Path) -> None:
    import dataclasses
    import gc

    from api.channels import warm_up

    url = f"sqlite:///{tmp_path / 'shenbao.db'}"
    settings = Settings(environment="test", database_url=url, secret_key="s" * 40, run_dispatcher=False)
    assert main(["db", "upgrade"], settings) == 0
    app = create_app(settings)
    ctx = app.state.channels
    parsed: list[str] = []
    real = ctx.service_ctx.parser

    def recording(text_: str, gazetteer: object) -> object:
        parsed.append(text_)
        return real(text_, gazetteer)

    ctx.service_ctx = dataclasses.replace(ctx.service_ctx, parser=recording)
    gc.unfreeze()
    try:
        warm_up(ctx)
        assert len(parsed) == 1  # the parser (jieba's dictionary) is loaded before the first message
        assert gc.get_freeze_count() > 10_000  # the app, the parser, the catalogs: out of the collector's way
    finally:
        gc.unfreeze()
        app.state.engine.dispose()


@pytest.mark.parametrize("telemetry", [False, True])
def test_requests_look_for_opentelemetry_providers_only_when_telemetry_is_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, telemetry: bool
) -> None:
    from opentelemetry import trace

    asked: list[str] = []
    real = trace.get_tracer_provider

    def looked_up() -> trace.TracerProvider:
        asked.append("tracer")
        return real()

    monkeypatch.setattr(trace, "get_tracer_provider", looked_up)
    url = f"sqlite:///{tmp_path / 'shenbao.db'}"
    settings = Settings(environment="test", database_url=url, secret_key="s" * 40, run_dispatcher=False,
                        telemetry=telemetry)
    assert main(["db", "upgrade"], settings) == 0
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
    assert bool(asked) is telemetry


def test_quiet_hours_and_the_digest_hour_are_read_as_times_and_a_wrong_one_stops_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHENBAO_SMS_QUIET_START", "22:30")
    monkeypatch.setenv("SHENBAO_DIGEST_AT", "07:15")
    settings = Settings()
    assert (settings.sms_quiet_start, settings.sms_quiet_end, settings.digest_at) == (
        time(22, 30), time(8, 0), time(7, 15))
    policy = reminder_policy(settings)
    assert (policy.quiet_start, policy.quiet_end, policy.digest_at) == (time(22, 30), time(8), time(7, 15))
    monkeypatch.setenv("SHENBAO_SMS_QUIET_END", "25:00")
    with pytest.raises(ValidationError, match="sms_quiet_end"):
        Settings()
