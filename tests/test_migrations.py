"""Migrations build the whole schema on an empty database and match the models exactly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from cases import migrate
from cases.db import make_engine
from cases.models import Base


def _empty_postgres() -> str:
    url = os.environ.get("SHENBAO_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("SHENBAO_TEST_POSTGRES_URL not set")
    return url + "_migrations"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_on_empty_database_match_models(backend: str, tmp_path: Path) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = _empty_postgres()
        admin = make_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = url.rsplit("/", 1)[1]
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    engine = make_engine(url)
    migrate.upgrade(engine)
    migrate.upgrade(engine)  # idempotent
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == [], "models and migrations differ: run `python -m cases.migrate regenerate`"
    engine.dispose()


def test_upgrade_says_which_revision_the_database_was_at_and_is_at_now(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'steps.db'}")
    head = migrate.head_revision()
    assert head is not None and head > "0003"
    assert migrate.upgrade(engine, "0003") == (None, "0003")
    assert migrate.upgrade(engine) == ("0003", head)
    assert migrate.upgrade(engine) == (head, head)
    engine.dispose()


def test_0006_gives_a_reports_attachments_its_channel_and_leaves_a_later_file_without(tmp_path: Path) -> None:
    """Attachments kept no channel of their own; a report's take the report's, a file added to a case later
    stays without (nullable): nothing recorded how it came."""
    engine = make_engine(f"sqlite:///{tmp_path / 'attachments.db'}")
    migrate.upgrade(engine, "0005")
    at = "2026-03-02 02:00:00.000000"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO reports (id, channel, reporter_kind, raw_text, parsed, risks, disasters, "
            "guarantees, urgent, created_at) VALUES (7, 'wechat', 'self', 'ill', '{}', '[]', '[]', '[]', 0, "
            ":at)"),
            {"at": at})
        for row_id, report_id in ((1, 7), (2, None)):
            conn.execute(text(
                "INSERT INTO attachments (id, report_id, kind, content_type, size, sha256, needs_listening, "
                "created_at) VALUES (:id, :report_id, 'photo', 'image/jpeg', 3, '', 0, :at)"),
                {"id": row_id, "report_id": report_id, "at": at})
    migrate.upgrade(engine, "0006")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, channel, sent_by_staff_id FROM attachments ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, "wechat", None), (2, None, None)]
    engine.dispose()


def test_0007_gives_members_their_details_unknown_and_keeps_the_rows(tmp_path: Path) -> None:
    """A9-A17 arrive as NULL (unknown until a cadre visits) on every member on record, the head's row as the
    others'; the name, relation and birth date stay; the downgrade takes the columns away again."""
    from alembic import command

    engine = make_engine(f"sqlite:///{tmp_path / 'members.db'}")
    migrate.upgrade(engine, "0006")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO households (id, head_name, formerly_poor, created_at) "
            "VALUES (1, '张三', 0, '2026-03-02 02:00:00.000000')"))
        conn.execute(text(
            "INSERT INTO members (id, household_id, name, relation, birth_date, is_head) VALUES "
            "(1, 1, '张三', '户主', '1960-01-01', 1), (2, 1, '李梅', '配偶', NULL, 0)"))
    migrate.upgrade(engine, "0007")
    details = ("a9_ethnicity, a10_political_status, a11_education, a12_schooling, a13_health, "
               "a14_labour_skill, a15_work_area, a15_work_place, a16_work_months, a17_medical_insurance")
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, name, relation, birth_date, {details} FROM members ORDER BY 1"))
        assert [tuple(r) for r in rows] == [
            (1, "张三", "户主", "1960-01-01", *[None] * 10), (2, "李梅", "配偶", None, *[None] * 10)]
    config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
    columns = {c["name"] for c in inspect(engine).get_columns("members")}
    assert "a17_medical_insurance" not in columns and {"name", "birth_date", "is_head"} <= columns
    engine.dispose()
