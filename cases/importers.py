"""Import a county's real lists: divisions (areas) and staff accounts, from CSV files.

Every row is checked before anything is written; a file with any invalid row imports nothing and the
errors name their line numbers (the header is line 1). Re-importing the same file changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from cases.models import Area, AreaLevel, Role, Staff
from cases.passwords import generate_password, hash_password

LEVEL_DIGITS: dict[AreaLevel, int] = {
    AreaLevel.PROVINCE: 2,
    AreaLevel.CITY: 4,
    AreaLevel.COUNTY: 6,
    AreaLevel.TOWNSHIP: 9,
    AreaLevel.VILLAGE: 12,
}
LEVEL_ORDER = list(LEVEL_DIGITS)
VILLAGE_COLUMNS = {
    "village_code",
    "city_code",
    "city",
    "county_code",
    "county",
    "town_code",
    "town",
    "village",
}
SIMPLE_COLUMNS = {"code", "name", "level", "parent_code"}
STAFF_COLUMNS = {"username", "name", "role", "area_code"}
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
MIN_PASSWORD = 8
MAX_NAME = 100


class PhoneVault(Protocol):
    """What the staff importer needs of cases.crypto.Vault."""

    def encrypt(self, value: str) -> str: ...

    def lookup_hash(self, value: str) -> str: ...


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRefused(Exception):
    """The file has invalid rows; nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} invalid row(s), nothing imported: {shown}{more}")


@dataclass
class AreaImportResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    by_level: dict[str, int] = field(default_factory=dict)


@dataclass
class StaffImportResult:
    inserted: int = 0
    updated: int = 0
    generated_passwords: list[tuple[str, str]] = field(
        default_factory=list
    )  # (username, password), shown once


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    level: AreaLevel
    parent_code: str | None


def pad_code(code: str) -> str:
    """A statistical code padded with zeros to the 12 digits the store uses."""
    return code.strip().ljust(12, "0")


def level_prefix(code: str, level: AreaLevel) -> str:
    """The significant digits of an area's code: everything under it starts with them."""
    return code[: LEVEL_DIGITS[level]]


def normalize_mobile(raw: str) -> str | None:
    """A mainland mobile number without separators or +86, or None when it is not one."""
    digits = re.sub(r"[\s\-()]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits if MOBILE.match(digits) else None


def _text(path: Path) -> str:
    """The file's text: UTF-8 (with or without Excel's BOM), else GB18030, the superset of the GBK that
    Excel's plain "CSV" writes on Chinese Windows; anything else is refused with the line it fails on."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as not_utf8:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            line = data[: not_utf8.start].count(b"\n") + 1
            raise ImportRefused(
                [RowError(line, "the file is neither UTF-8 nor GBK/GB18030 text: save it as CSV UTF-8")]
            ) from None


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each non-empty data row; values stripped."""
    with io.StringIO(_text(path), newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            yield (
                reader.line_num,
                {k.strip(): (v or "").strip() for k, v in row.items() if isinstance(k, str)},
            )


def _header(path: Path) -> set[str]:
    with io.StringIO(_text(path), newline="") as handle:
        first = next(csv.reader(handle), [])
    return {c.strip() for c in first}


# --- areas -------------------------------------------------------------------------------------


class _AreaCollector:
    """Collects areas from rows, refusing a code seen twice with a different name, level or parent."""

    def __init__(self) -> None:
        self.areas: dict[str, AreaRow] = {}
        self.lines: dict[str, int] = {}
        self.errors: list[RowError] = []

    def add(self, line: int, area: AreaRow) -> None:
        seen = self.areas.get(area.code)
        if seen is None:
            self.areas[area.code] = area
            self.lines[area.code] = line
        elif seen != area:
            self.errors.append(
                RowError(
                    line,
                    f"{area.level} {area.code} '{area.name}' contradicts line "
                    f"{self.lines[area.code]} ('{seen.name}', {seen.level})",
                )
            )


def _digits(value: str, length: int) -> bool:
    return len(value) == length and value.isdigit()


def _village_rows(path: Path, collector: _AreaCollector) -> None:
    for line, row in _rows(path):
        errors_before = len(collector.errors)
        codes = {"city_code": 4, "county_code": 6, "town_code": 9, "village_code": 12}
        for column, length in codes.items():
            if not _digits(row.get(column, ""), length):
                collector.errors.append(
                    RowError(line, f"{column} must be {length} digits, got '{row.get(column, '')}'")
                )
        for column in ("province", "city", "county", "town", "village"):
            if not row.get(column):
                collector.errors.append(RowError(line, f"{column} is empty"))
            elif len(row[column]) > MAX_NAME:
                collector.errors.append(RowError(line, f"{column} is longer than {MAX_NAME} characters"))
        if len(collector.errors) > errors_before:
            continue
        chain = [row["city_code"], row["county_code"], row["town_code"], row["village_code"]]
        if not all(child.startswith(parent) for parent, child in zip(chain, chain[1:], strict=False)):
            collector.errors.append(RowError(line, "codes do not nest: " + " > ".join(chain)))
            continue
        province = pad_code(row["city_code"][:2])
        city, county, town, village = (pad_code(c) for c in chain)
        collector.add(line, AreaRow(province, row["province"], AreaLevel.PROVINCE, None))
        collector.add(line, AreaRow(city, row["city"], AreaLevel.CITY, province))
        collector.add(line, AreaRow(county, row["county"], AreaLevel.COUNTY, city))
        collector.add(line, AreaRow(town, row["town"], AreaLevel.TOWNSHIP, county))
        collector.add(line, AreaRow(village, row["village"], AreaLevel.VILLAGE, town))


def _simple_rows(path: Path, collector: _AreaCollector) -> None:
    for line, row in _rows(path):
        raw_code, name, raw_level, raw_parent = (
            row.get(c, "") for c in ("code", "name", "level", "parent_code")
        )
        problems = []
        if not raw_code.isdigit() or len(raw_code) > 12:
            problems.append(f"code must be up to 12 digits, got '{raw_code}'")
        if not name:
            problems.append("name is empty")
        elif len(name) > MAX_NAME:
            problems.append(f"name is longer than {MAX_NAME} characters")
        try:
            level = AreaLevel(raw_level.lower())
        except ValueError:
            problems.append(f"level must be one of {', '.join(LEVEL_ORDER)}, got '{raw_level}'")
            level = None
        if raw_parent and (not raw_parent.isdigit() or len(raw_parent) > 12):
            problems.append(f"parent_code must be up to 12 digits, got '{raw_parent}'")
        if level is not None and level != AreaLevel.PROVINCE and not raw_parent:
            problems.append(f"a {level} needs a parent_code")
        if problems or level is None:
            collector.errors.extend(RowError(line, p) for p in problems)
            continue
        code = pad_code(raw_code)
        if code[LEVEL_DIGITS[level] :].strip("0"):
            collector.errors.append(RowError(line, f"code {code} has digits below its level ({level})"))
            continue
        collector.add(line, AreaRow(code, name, level, pad_code(raw_parent) if raw_parent else None))


def _check_parents(collector: _AreaCollector, existing: dict[str, AreaRow]) -> None:
    for code, area in collector.areas.items():
        if area.parent_code is None:
            continue
        parent = collector.areas.get(area.parent_code) or existing.get(area.parent_code)
        line = collector.lines[code]
        if parent is None:
            collector.errors.append(
                RowError(
                    line, f"parent {area.parent_code} of {code} is neither in the file nor in the database"
                )
            )
        elif LEVEL_ORDER.index(parent.level) >= LEVEL_ORDER.index(area.level):
            collector.errors.append(
                RowError(line, f"parent {parent.code} is a {parent.level}, not above a {area.level}")
            )
        elif not code.startswith(level_prefix(parent.code, parent.level)):
            collector.errors.append(
                RowError(
                    line,
                    f"code {code} does not start with its parent's {level_prefix(parent.code, parent.level)}",
                )
            )


def read_areas(path: Path, existing: dict[str, AreaRow] | None = None) -> list[AreaRow]:
    """Parse and check an areas file (village-per-row or code,name,level,parent_code); raise ImportRefused."""
    header = _header(path)
    collector = _AreaCollector()
    if VILLAGE_COLUMNS <= header:
        _village_rows(path, collector)
    elif SIMPLE_COLUMNS <= header:
        _simple_rows(path, collector)
    else:
        raise ImportRefused(
            [
                RowError(
                    1,
                    "unknown header: expected code,name,level,parent_code or "
                    "village_code,province,city_code,city,county_code,county,town_code,"
                    "town,village",
                )
            ]
        )
    if not collector.errors:
        _check_parents(collector, existing or {})
    if collector.errors:
        raise ImportRefused(sorted(collector.errors, key=lambda e: e.line))
    if not collector.areas:
        raise ImportRefused([RowError(1, "the file has no rows")])
    return sorted(collector.areas.values(), key=lambda a: (LEVEL_ORDER.index(a.level), a.code))


def existing_areas(db: Session) -> dict[str, AreaRow]:
    rows = db.execute(select(Area.code, Area.name, Area.level, Area.parent_code))
    return {code: AreaRow(code, name, AreaLevel(level), parent) for code, name, level, parent in rows}


def import_areas(*, db: Session, path: Path) -> AreaImportResult:
    """Check the whole file, then insert new areas (parents first) and update renamed ones; caller commits."""
    existing = existing_areas(db)
    areas = read_areas(path, existing)
    result = AreaImportResult()
    new: list[dict[str, str | None]] = []
    changed: list[dict[str, str | None]] = []
    for area in areas:
        result.by_level[area.level.value] = result.by_level.get(area.level.value, 0) + 1
        values = {
            "code": area.code,
            "name": area.name,
            "level": area.level.value,
            "parent_code": area.parent_code,
        }
        old = existing.get(area.code)
        if old is None:
            new.append(values)
        elif old != area:
            changed.append(values)
        else:
            result.unchanged += 1
    for level in LEVEL_ORDER:  # parents before children for the foreign key
        batch = [row for row in new if row["level"] == level.value]
        if batch:
            db.execute(insert(Area), batch)
    if changed:
        db.execute(update(Area), changed)
    result.inserted, result.updated = len(new), len(changed)
    return result


def seed_areas(*, db: Session, rows: Iterable[AreaRow]) -> int:
    """Insert the given areas that are missing (parents first); returns how many were added."""
    existing = existing_areas(db)
    missing = [a for a in rows if a.code not in existing]
    missing.sort(key=lambda a: (LEVEL_ORDER.index(a.level), a.code))
    for area in missing:
        db.add(Area(code=area.code, name=area.name, level=area.level, parent_code=area.parent_code))
    db.flush()
    return len(missing)


# --- staff -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffRow:
    line: int
    username: str
    name: str
    role: Role
    area_code: str
    phone: str | None
    password: str | None


def read_staff(path: Path, area_codes: set[str]) -> list[StaffRow]:
    """Parse and check a staff file against the known areas; raise ImportRefused."""
    header = _header(path)
    if not STAFF_COLUMNS <= header:
        raise ImportRefused(
            [RowError(1, "header must have username,name,role,area_code (phone,password optional)")]
        )
    errors: list[RowError] = []
    staff: list[StaffRow] = []
    seen: dict[str, int] = {}
    for line, row in _rows(path):
        problems = []
        username = row.get("username", "")
        if not USERNAME.match(username):
            problems.append(f"username must be 2-64 letters, digits, '_', '.' or '-', got '{username}'")
        elif username.lower() in seen:
            problems.append(f"username '{username}' repeats line {seen[username.lower()]}")
        name = row.get("name", "")
        if not name or len(name) > 64:
            problems.append("name must be 1-64 characters")
        try:
            role = Role(row.get("role", "").lower())
        except ValueError:
            problems.append(
                f"role must be one of {', '.join(r.value for r in Role)}, got '{row.get('role')}'"
            )
        raw_area = row.get("area_code", "")
        area_code = pad_code(raw_area) if raw_area.isdigit() and len(raw_area) <= 12 else ""
        if not area_code:
            problems.append(f"area_code must be up to 12 digits, got '{raw_area}'")
        elif area_code not in area_codes:
            problems.append(f"area {area_code} is unknown: import areas first")
        phone = None
        if row.get("phone"):
            phone = normalize_mobile(row["phone"])
            if phone is None:
                problems.append("phone is not a mainland mobile number")
        password = row.get("password") or None
        if password is not None and len(password) < MIN_PASSWORD:
            problems.append(f"password must have at least {MIN_PASSWORD} characters")
        if problems:
            errors.extend(RowError(line, p) for p in problems)
            continue
        seen[username.lower()] = line
        staff.append(StaffRow(line, username, name, role, area_code, phone, password))
    if errors:
        raise ImportRefused(errors)
    if not staff:
        raise ImportRefused([RowError(1, "the file has no rows")])
    return staff


def import_staff(*, db: Session, path: Path, vault: PhoneVault, now: datetime) -> StaffImportResult:
    """Create or update staff; new accounts without a password get a generated one; caller commits."""
    area_codes = set(db.scalars(select(Area.code)))
    rows = read_staff(path, area_codes)
    existing = {s.username.lower(): s for s in db.scalars(select(Staff))}
    result = StaffImportResult()
    for row in rows:
        staff = existing.get(row.username.lower())
        if staff is None:
            password = row.password or generate_password()
            if row.password is None:
                result.generated_passwords.append((row.username, password))
            staff = Staff(
                username=row.username, created_at=now, active=True, password_hash=hash_password(password)
            )
            db.add(staff)
            result.inserted += 1
        else:
            if row.password is not None:
                staff.password_hash = hash_password(row.password)
            result.updated += 1
        staff.name, staff.role, staff.area_code = row.name, row.role, row.area_code
        staff.phone_enc = vault.encrypt(row.phone) if row.phone else None
        staff.phone_hash = vault.lookup_hash(row.phone) if row.phone else None
    db.flush()
    return result
