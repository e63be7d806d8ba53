"""Resident ID numbers (GB 11643-1999, ISO 7064 MOD 11-2) and mainland phone numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
# First two digits: provinces (GB/T 2260) and 81/82/83 for Hong Kong, Macao and Taiwan residence permits.
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83"
    .split())


@dataclass(frozen=True, slots=True)
class IdResult:
    valid: bool
    normalized: str
    reason: str | None = None  # format | region | date | checksum | legacy


def check_digit(first17: str) -> str:
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


def check_id(raw: str) -> IdResult:
    """Check an ID number: 18 characters, known province, real birth date (1800-2099), check digit."""
    s = re.sub(r"[\s-]", "", raw).upper()
    if len(s) == 15 and s.isdigit():
        ok = s[:2] in PROVINCES and _valid_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))
        return IdResult(False, s, "legacy" if ok else "date")
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        return IdResult(False, s, "format")
    if s[:2] not in PROVINCES:
        return IdResult(False, s, "region")
    y, m, d = int(s[6:10]), int(s[10:12]), int(s[12:14])
    if not (1800 <= y <= 2099 and _valid_date(y, m, d)):
        return IdResult(False, s, "date")
    if check_digit(s[:17]) != s[17]:
        return IdResult(False, s, "checksum")
    return IdResult(True, s)


_SEP = r"[ \-]?"
ID_RE = re.compile(
    rf"(?<![\dA-Za-z])(\d{{6}}{_SEP}\d{{4}}{_SEP}\d{{4}}{_SEP}\d{{3}}[\dXx]|\d{{15}})(?![\dA-Za-z])")
# A run of 16-20 ID-ish characters that is not 18 long: a mistyped ID number.
ID_LIKE_RE = re.compile(r"(?<![\dA-Za-z])([1-8]\d{15,18}[\dXx]?)(?![\dA-Za-z])")
MOBILE_RE = re.compile(r"(?<![\d])(?:\+?86[ \-]?)?(1[3-9]\d)[ \-]?(\d{4})[ \-]?(\d{4})(?!\d)")
LANDLINE_RE = re.compile(r"(?<![\d])[(（]?(0\d{2,3})[)）]?[ \-]?([2-9]\d{2,3})[ \-]?(\d{4})(?!\d)")


def _mask(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def extract(text: str) -> tuple[list[str], list[str], list[str], list[str], str]:
    """(valid IDs, invalid look-alikes, legacy 15-digit IDs, phones, text with those spans blanked)."""
    ids: list[str] = []
    bad: list[str] = []
    legacy: list[str] = []
    phones: list[str] = []
    if not any(c.isdigit() for c in text):
        return ids, bad, legacy, phones, text
    for m in ID_RE.finditer(text):
        r = check_id(m.group(1))
        if r.valid:
            ids.append(r.normalized)
        elif r.reason == "legacy":
            legacy.append(r.normalized)
        else:
            bad.append(r.normalized)
        text = _mask(text, m.start(), m.end())
    for m in ID_LIKE_RE.finditer(text):
        if len(m.group(1)) in (17, 19) or (len(m.group(1)) == 18 and not m.group(1)[:17].isdigit()):
            bad.append(m.group(1).upper())
            text = _mask(text, m.start(), m.end())
    for m in MOBILE_RE.finditer(text):
        phones.append("".join(m.groups()))
        text = _mask(text, m.start(), m.end())
    for m in LANDLINE_RE.finditer(text):
        phones.append("".join(m.groups()))
        text = _mask(text, m.start(), m.end())
    return ids, bad, legacy, phones, text
