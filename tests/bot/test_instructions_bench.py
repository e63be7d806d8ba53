"""bench/instructions_bench.py's driver (run here without valgrind): it takes households through whole SMS
report dialogues against the app in process, and the floor's endpoint answers; the dump reader finds each
part's count. Counts are printed by the bench, never asserted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.app import create_app
from api.settings import Settings
from bench import instructions_bench as bench
from bench.bare_app import app as bare
from cases.db import make_engine, make_session_factory
from cases.models import Assignment, Case, Channel, Report, Staff
from tests.browser.live import seed_demo


@pytest.fixture
def sms_settings(settings: Settings) -> Settings:
    """The test settings with the bench's Twilio token and public URL (what its requests are signed for)."""
    return settings.model_copy(update={"twilio_auth_token": bench.TW_TOKEN, "public_url": bench.PUBLIC})


def test_every_household_files_its_report_and_the_floor_answers(sms_settings: Settings) -> None:
    seed_demo(sms_settings, datetime.now(UTC))
    engine = make_engine(sms_settings.database_url)
    sessions = make_session_factory(engine)
    app = create_app(sms_settings)
    sms_reports = select(func.count()).select_from(Report).where(Report.channel == Channel.SMS)
    try:
        with sessions() as db:
            before = db.scalar(sms_reports)
            last_case = db.scalar(select(func.max(Case.id))) or 0  # the demo's own cases come before
        messages = asyncio.run(bench.sms_dialogues(app, 0, 3))
        with sessions() as db:
            assert db.scalar(sms_reports) == (before or 0) + 3
            # from three villages of the demo county, each case assigned to its village's cadre
            filed = db.execute(
                select(Case.area_code, Staff.area_code)
                .join(Report, Report.case_id == Case.id)
                .join(Assignment, Assignment.case_id == Case.id)
                .join(Staff, Staff.id == Assignment.staff_id)
                .where(Report.channel == Channel.SMS, Case.id > last_case)
            ).all()
            assert len(filed) == 3 and len({village for village, _ in filed}) == 3
            assert all(village == cadre_village for village, cadre_village in filed)
        assert 3 * 5 <= messages < 3 * 30  # whole dialogues, none cut off at the driver's limit
        asyncio.run(bench.bare_posts(bare, 5))
    finally:
        engine.dispose()


def test_the_dump_reader_finds_each_part_by_its_name(tmp_path: Path) -> None:
    out = tmp_path / "callgrind.out"

    def dump(path: Path, trigger: str, total: int) -> None:  # the header callgrind 3.19 writes
        path.write_text(f"version: 1\ncreator: callgrind-3.19.0\npid: 7\npart: 1\ndesc: I1 cache: \n"
                        f"desc: Timerange: Basic block 0 - 21151853\ndesc: Trigger: {trigger}\nevents: Ir\n"
                        f"summary: {total}\ntotals: {total}\nfl=(1) x.c\nfn=(1) f\n3 {total}\n")

    dump(Path(f"{out}.1"), "dump sms", 6_000_000)
    dump(Path(f"{out}.2"), "dump bare", 700_000)
    dump(out, "Program termination", 12)
    assert bench.counted(out) == {"sms": 6_000_000, "bare": 700_000}
