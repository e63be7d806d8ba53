"""cases.logs: no phone, ID or chat number in a log record, whoever logs it."""

from __future__ import annotations

import logging

import pytest

from api import cli
from cases.logs import install, mask_digits

PHONE, ID_NUMBER, CHAT = "13912345678", "43042119620715456X", "5550001234"


def test_long_digit_runs_are_masked_short_ones_kept() -> None:
    assert mask_digits(f"+86{PHONE}") == "+861********78"  # the country code joins the run
    assert mask_digits(PHONE) == "139******78"
    assert mask_digits(ID_NUMBER) == "430*************6X"
    assert mask_digits(f"chat {CHAT}, case 2026 step 5, 12345") == "chat 555*****34, case 2026 step 5, 12345"


def test_a_records_message_exception_and_stack_are_masked(caplog: pytest.LogCaptureFixture,
                                                          masked_logs: None) -> None:
    log = logging.getLogger("shenbao.test")
    with caplog.at_level(logging.INFO):
        log.info("reply to %s (chat %d)", PHONE, int(CHAT))
        try:
            raise ValueError(f"Key (channel, external_id)=(sms, +86{PHONE}) already exists; id {ID_NUMBER}")
        except ValueError:
            log.exception("storing failed")
        log.warning("where", stack_info=True, extra={"unused": PHONE})
    assert "reply to 139******78 (chat 555*****34)" in caplog.text
    assert "(sms, +861********78)" in caplog.text and "430*************6X" in caplog.text
    for number in (PHONE, CHAT, ID_NUMBER):
        assert number not in caplog.text
    assert caplog.records[1].exc_text is not None and "ValueError" in caplog.records[1].exc_text


def test_installed_once_and_taken_back() -> None:
    before = logging.getLogRecordFactory()
    restore = install()
    try:
        assert install()() is None  # a second install changes nothing; its undo neither
        assert logging.makeLogRecord({"msg": PHONE}).getMessage() == PHONE  # not made by the factory
        made = logging.getLogRecordFactory()("x", logging.INFO, __file__, 1, "to %s", (PHONE,), None)
        assert made.getMessage() == "to 139******78"
    finally:
        restore()
    assert logging.getLogRecordFactory() is before


def test_every_shenbao_command_logs_masked() -> None:
    before = logging.getLogRecordFactory()
    try:
        with pytest.raises(SystemExit):
            cli.main(["--help"])
        made = logging.getLogRecordFactory()("x", logging.INFO, __file__, 1, PHONE, None, None)
        assert made.getMessage() == "139******78"
    finally:
        logging.setLogRecordFactory(before)
