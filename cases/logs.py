"""Log records without phone, ID or chat numbers: every long digit run in a record's message, exception
text and stack is masked when the record is made, whoever logs it and wherever it is written.

Logging a failure is where such numbers leak: a database error's message carries the failing row's
values (PostgreSQL's "Key (channel, external_id)=(sms, +86139...) already exists", which SQLAlchemy's
hidden parameters do not cover), and `log.exception` writes that message with its traceback. Masking
when the record is made covers every logger and handler (uvicorn's included, configured after start-up).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

LONG_NUMBER = re.compile(r"\d{6,}[\dXx]?")  # a phone (11 digits), an ID (17 and a digit or X), a chat id


def mask_digits(text: str) -> str:
    """Every run of 6 or more digits masked but its first 3 and last 2 (13912345678 -> 139******78)."""
    return LONG_NUMBER.sub(lambda m: m[0][:3] + "*" * (len(m[0]) - 5) + m[0][-2:], text)


def redact(record: logging.LogRecord) -> logging.LogRecord:
    """Mask the record's message (its arguments merged in), exception text and stack in place."""
    message = record.getMessage()
    masked = mask_digits(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:  # what a Formatter would print, formatted now
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_digits(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_digits(record.stack_info)
    return record


def install() -> Callable[[], None]:
    """Make every log record of this process a masked one (the record factory before it still makes the
    record); a second call changes nothing. Returns what puts the previous factory back (tests)."""
    make = logging.getLogRecordFactory()
    if getattr(make, "masks_digits", False):
        return lambda: None

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact(make(*args, **kwargs))

    masked_record.masks_digits = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masked_record)
    return lambda: logging.setLogRecordFactory(make)
