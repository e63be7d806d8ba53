"""Run Alembic migrations programmatically (the app and `shenbao db upgrade` both call this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the database behind `engine` to `revision`; its revision before and after (None: empty)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        return before, MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The revision `upgrade` brings a database to (read from the scripts; the URL is not used)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new revision against the database behind `engine` (a developer tool)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)


def regenerate_initial(engine: Engine) -> None:
    """Rewrite the single pre-release revision from the models (only while nothing is deployed)."""
    for old in (MIGRATIONS / "versions").glob("*.py"):
        old.unlink()
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")


if __name__ == "__main__":  # python -m cases.migrate regenerate
    import sys
    import tempfile

    from cases.db import make_engine

    if sys.argv[1:] != ["regenerate"]:
        raise SystemExit("usage: python -m cases.migrate regenerate")
    with tempfile.TemporaryDirectory() as tmp:
        regenerate_initial(make_engine(f"sqlite:///{tmp}/empty.db"))
