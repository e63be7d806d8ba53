"""Resident ID numbers (GB 11643-1999) and phone numbers: validation and normalisation.

An 18-character number is 6 region digits, an 8-digit birth date, 3 sequence digits and an ISO 7064
MOD 11-2 check character (0-9 or X). A legacy 15-digit number (GB 11643-1989: 6 region digits, a
6-digit birth date 19YYMMDD without the century, 3 sequence digits, no check digit) is converted
deliberately: the century "19" is inserted and the check digit computed, and the result is flagged
`legacy15` so a person can be asked to confirm their current card.

The region check is deliberately only "plausible": a known province code (including 81/82/83 used in
residence permits for Hong Kong, Macao and Taiwan residents). County codes are renamed and reused over
the years (see ../shared/data/id-cases.json), so a historic county table would wrongly refuse real
people; the check digit and birth date carry the weight.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from cases.clock import BEIJING

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
PROVINCE_CODES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
        71,
        81,
        82,
        83,
    }
)
EARLIEST_BIRTH_YEAR = 1850

_SEPARATORS = re.compile(r"[\s\-]")


@dataclass(frozen=True)
class IdCheck:
    """The outcome of `check_id`. `reason` is a code: empty, format, length, region, birth_date,
    future_birth_date, checksum."""

    valid: bool
    normalized: str | None
    reason: str | None
    birth_date: date | None = None
    legacy15: bool = False


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def _clean(raw: str) -> str:
    """Fold full-width characters (NFKC), drop spaces and hyphens, upper-case x."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()


def _birth(yyyymmdd: str) -> date | None:
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


def check_id(raw: str | None, *, today: date | None = None) -> IdCheck:
    """Validate a resident ID number; `today` bounds the birth date (default: today in Beijing)."""
    if raw is None or not raw.strip():
        return IdCheck(False, None, "empty")
    value = _clean(raw)
    today = today or datetime.now(BEIJING).date()
    legacy = False
    if len(value) == 15:
        if not value.isdigit():
            return IdCheck(False, None, "format")
        legacy = True
        body = value[:6] + "19" + value[6:]
        value = body + check_digit(body)
    elif len(value) != 18:
        return IdCheck(False, None, "length" if value.isalnum() else "format")
    if not (value[:17].isdigit() and (value[17].isdigit() or value[17] == "X")):
        return IdCheck(False, None, "format")
    if int(value[:2]) not in PROVINCE_CODES:
        return IdCheck(False, None, "region")
    born = _birth(value[6:14])
    if born is None or born.year < EARLIEST_BIRTH_YEAR:
        return IdCheck(False, None, "birth_date")
    if born > today:
        return IdCheck(False, None, "future_birth_date")
    if not legacy and check_digit(value[:17]) != value[17]:
        return IdCheck(False, None, "checksum")
    return IdCheck(True, value, None, born, legacy)


def normalize_phone(raw: str | None) -> str | None:
    """Digits only, without a +86/0086 country prefix; None when nothing plausible remains."""
    if raw is None:
        return None
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", raw))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11 and digits[len(prefix)] == "1":
            digits = digits[len(prefix) :]
    if len(digits) < 5 or len(digits) > 15:
        return None
    return digits


def written_name(name: str) -> str:
    """A person's name as a record keeps it: width folded (NFKC), without spaces."""
    return "".join(unicodedata.normalize("NFKC", name).split())


def age_on(birth: date, on: date) -> int:
    """Age in whole years on a day."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
