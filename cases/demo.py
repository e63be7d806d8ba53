"""The demo county: a handful of real townships and villages of 衡阳县 (Hengyang County, Hunan), the
Hunan 2021 region setting, one staff account per role, and (once the database has none) a few cases.

A county's real lists come in through `shenbao import areas|staff`; this is only for trying Shenbao.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases import annex1
from cases.clock import BEIJING
from cases.crypto import Vault
from cases.ids import check_digit
from cases.importers import AreaRow, seed_areas
from cases.intake import ReportDraft, current_assignment, sign_authorization, submit_report
from cases.models import AreaLevel, Case, Channel, RegionSetting, ReporterKind, Role, Staff
from cases.notify import NullNotifier
from cases.passwords import hash_password
from cases.visits import VisitInput, add_measure, record_home_visit
from cases.workflow import conclude_notice, county_approve, township_review, village_review

PROVINCE = "430000000000"
COUNTY = "430421000000"
XIDU = "430421100000"
SANHU = "430421112000"
MEIHUA = "430421100225"
ZHONGHU = "430421112201"
DEMO_PASSWORD = "shenbao-demo"  # noqa: S105 - printed on purpose; `shenbao demo` refuses production

P, C, X, T, V = AreaLevel.PROVINCE, AreaLevel.CITY, AreaLevel.COUNTY, AreaLevel.TOWNSHIP, AreaLevel.VILLAGE
AREAS: list[AreaRow] = [
    AreaRow(PROVINCE, "湖南省", P, None),
    AreaRow("430400000000", "衡阳市", C, PROVINCE),
    AreaRow(COUNTY, "衡阳县", X, "430400000000"),
    AreaRow(XIDU, "西渡镇", T, COUNTY),
    AreaRow(MEIHUA, "梅花村委会", V, XIDU),
    AreaRow("430421100203", "西渡村委会", V, XIDU),
    AreaRow("430421100210", "赤水村", V, XIDU),
    AreaRow(SANHU, "三湖镇", T, COUNTY),
    AreaRow("430421112200", "龟石村委会", V, SANHU),
    AreaRow(ZHONGHU, "中湖村委会", V, SANHU),
    AreaRow("430421200000", "樟木乡", T, COUNTY),
    AreaRow("430421200201", "里仁村委会", V, "430421200000"),
    AreaRow("430421200204", "仁爱村委会", V, "430421200000"),
]


def villages_by_township() -> list[tuple[str, list[str]]]:
    """The demo villages' registered names, under their townships."""
    names = {row.code: row.name for row in AREAS}
    grouped: dict[str, list[str]] = {}
    for row in AREAS:
        if row.level == AreaLevel.VILLAGE and row.parent_code is not None:
            grouped.setdefault(names[row.parent_code], []).append(row.name)
    return list(grouped.items())


@dataclass(frozen=True)
class DemoStaff:
    username: str
    name: str
    role: Role
    area_code: str
    phone: str | None = None  # a fictional mobile number (DEMO_PHONE_PREFIX), stored as real ones are


# 154 is a mainland mobile prefix that no operator has been given: the demo staff's numbers look like
# mobile numbers (a household's status reply shows its cadre's as 154****0006) and reach nobody
DEMO_PHONE_PREFIX = "1540734"


def _phone(n: int) -> str:
    return f"{DEMO_PHONE_PREFIX}{n:04d}"


STAFF: list[DemoStaff] = [  # names as households and colleagues read them; the role is its own field
    DemoStaff("admin", "系统管理员", Role.ADMIN, PROVINCE),
    DemoStaff("county", "刘建华", Role.COUNTY, COUNTY, _phone(2)),
    DemoStaff("hotline", "周敏", Role.HOTLINE, COUNTY),
    DemoStaff("xidu", "李卫东", Role.TOWNSHIP, XIDU, _phone(4)),
    DemoStaff("meihua", "王桂兰", Role.VILLAGE, MEIHUA, _phone(5)),
    DemoStaff("cadre1", "赵强", Role.CADRE, MEIHUA, _phone(6)),
    DemoStaff("cadre2", "陈芳", Role.CADRE, MEIHUA, _phone(7)),
    DemoStaff("sanhu", "孙立新", Role.TOWNSHIP, SANHU, _phone(8)),
    DemoStaff("zhonghu", "吴秀英", Role.VILLAGE, ZHONGHU, _phone(9)),
    DemoStaff("cadre3", "郑伟", Role.CADRE, ZHONGHU, _phone(10)),
    # every other village has its contact cadre too, as a real county's does (a report from any demo
    # village is assigned, not left waiting for a cadre)
    DemoStaff("cadre4", "黄建国", Role.CADRE, "430421100203", _phone(11)),
    DemoStaff("cadre5", "何丽", Role.CADRE, "430421100210", _phone(12)),
    DemoStaff("cadre6", "罗志勇", Role.CADRE, "430421112200", _phone(13)),
    DemoStaff("cadre7", "谢春梅", Role.CADRE, "430421200201", _phone(14)),
    DemoStaff("cadre8", "唐军", Role.CADRE, "430421200204", _phone(15)),
]


@dataclass
class DemoResult:
    areas_added: int
    staff_added: int
    setting_added: bool
    logins: list[DemoStaff]
    cases_added: int = 0


def seed_region_setting(db: Session) -> bool:
    """Hunan 2021: line 6,500, elimination floor 5,000 yuan per person per year; the applicant signs."""
    query = select(RegionSetting).where(RegionSetting.area_code == PROVINCE, RegionSetting.year == 2021)
    found = db.scalar(query)
    if found is not None:
        return False
    db.add(
        RegionSetting(
            area_code=PROVINCE,
            year=2021,
            income_line=Decimal("6500"),
            elimination_floor=Decimal("5000"),
            signers="applicant",
            ack_days=1,
            assign_days=1,
            verify_days=7,
            notice_days=7,
            township_days=5,
            county_days=10,
            evaluation_days=90,
            escalation_margin_days=2,
        )
    )
    db.flush()
    return True


@lru_cache(maxsize=1)
def _demo_hash() -> str:
    """One argon2 hash of the demo password, shared by the demo accounts (they share the password anyway)."""
    return hash_password(DEMO_PASSWORD)


def seed_staff(db: Session, now: datetime, vault: Vault | None = None) -> int:
    """One account per role (password DEMO_PASSWORD); existing usernames are left alone, except that one
    without a phone gets its demo number. Phones (with a `vault`) are stored as `import staff` stores them:
    encrypted, with a keyed hash for look-ups."""
    demo_staff = select(Staff).where(Staff.username.in_([p.username for p in STAFF]))
    have = {s.username: s for s in db.scalars(demo_staff)}
    added = 0
    for person in STAFF:
        staff = have.get(person.username)
        if staff is None:
            staff = Staff(
                username=person.username,
                name=person.name,
                role=person.role,
                area_code=person.area_code,
                password_hash=_demo_hash(),
                active=True,
                created_at=now,
            )
            db.add(staff)
            added += 1
        if vault is not None and person.phone is not None and staff.phone_enc is None:
            staff.phone_enc, staff.phone_hash = vault.encrypt(person.phone), vault.lookup_hash(person.phone)
    db.flush()
    return added


def _demo_id(first17: str) -> str:
    return first17 + check_digit(first17)


def _staff(db: Session, username: str) -> Staff:
    return db.scalars(select(Staff).where(Staff.username == username)).one()


def _report(db: Session, vault: Vault, now: datetime, **fields: Any) -> Case:
    draft = ReportDraft(**fields)
    return submit_report(db=db, vault=vault, draft=draft, now=now, notifier=NullNotifier()).case


def _sign_and_visit(
    db: Session,
    vault: Vault,
    case: Case,
    name: str,
    verifiers: tuple[str, str],
    when: datetime,
    **figures: Any,
) -> None:
    first = _staff(db, verifiers[0])
    assignment = current_assignment(db, case)
    if assignment is not None and assignment.acknowledged_at is None:
        assignment.acknowledged_at = when  # the village took the case up: no "acknowledge" left open
    sign_authorization(
        db=db,
        vault=vault,
        case=case,
        signer_name=name,
        signer_id_number=None,
        channel=Channel.CONSOLE,
        message_ref="demo",
        contact_id=None,
        now=when,
        text_version=annex1.CURRENT_VERSION,
        witnessed_by_staff_id=first.id,
    )
    visit = VisitInput(visited_on=when.astimezone(BEIJING).date(), **figures)
    record_home_visit(
        db=db,
        case=case,
        actor=first,
        now=when,
        note="入户核实",
        notifier=NullNotifier(),
        visit=visit,
        verifier_ids=[first.id, _staff(db, verifiers[1]).id],
    )


def seed_cases(*, db: Session, vault: Vault, now: datetime) -> int:
    """A few cases at different steps, walked through the real workflow (only when there are no cases)."""
    if db.scalar(select(func.count()).select_from(Case)):
        return 0
    quiet = NullNotifier()
    day = timedelta(days=1)
    # 1. Reported by SMS last Friday; annex 1 not yet signed, the cadre has not acknowledged it yet.
    _report(
        db,
        vault,
        now - 3 * day,
        channel=Channel.SMS,
        reporter_kind=ReporterKind.SELF,
        raw_text="我是梅花村的，老伴中风住院，医药费花了三万多，家里没钱了",
        risks=["01"],
        urgent=False,
        head_name="张德明",
        id_number=_demo_id("43042119580312401"),
        phone="13907341001",
        household_size=2,
        village_code=MEIHUA,
        group_name="第三村民小组",
    )
    # 2. Reported by a relative, signed and verified: waiting for the village review.
    verified = _report(
        db,
        vault,
        now - 9 * day,
        channel=Channel.WECHAT,
        reporter_kind=ReporterKind.PROXY,
        raw_text="帮我叔叔报一下，他腿摔断了，干不了活",
        risks=["05"],
        proxy_relation="侄子",
        proxy_name="李小军",
        head_name="李春生",
        id_number=_demo_id("43042119650720301"),
        phone="13907341002",
        household_size=3,
        village_code=MEIHUA,
        group_name="第五村民小组",
    )
    _sign_and_visit(
        db,
        vault,
        verified,
        "李春生",
        ("cadre1", "cadre2"),
        now - 6 * day,
        household_size=3,
        a27_risks=["05"],
        a28_wages=Decimal("9000"),
        a31_transfer_income=Decimal("3000"),
        a36_compliant_spending=Decimal("4000"),
        has_labour_capacity=True,
    )
    # 3. Flood in 中湖村: verified, reviewed, public notice running.
    flood = _report(
        db,
        vault,
        now - 6 * day,
        channel=Channel.TELEGRAM,
        reporter_kind=ReporterKind.SELF,
        raw_text="昨晚发大水，房子塌了半边，猪也冲走了",
        risks=["04"],
        disasters=["01"],
        guarantees=["A23"],
        urgent=True,
        head_name="刘桂英",
        id_number=_demo_id("43042119700105402"),
        phone="13907341003",
        household_size=4,
        village_code=ZHONGHU,
    )
    _sign_and_visit(
        db,
        vault,
        flood,
        "刘桂英",
        ("cadre3", "zhonghu"),
        now - 5 * day,
        household_size=4,
        a23_housing_unsafe=True,
        a27_risks=["04"],
        a27a_disasters=["01"],
        a29_business_income=Decimal("6000"),
        a31_transfer_income=Decimal("2000"),
        has_labour_capacity=True,
    )
    village_review(
        db=db,
        case=flood,
        actor=_staff(db, "zhonghu"),
        now=now - 2 * day,
        note="村民代表会议评议通过",
        notifier=quiet,
    )
    # 4. Through every step: monitored, with a measure.
    monitored = _report(
        db,
        vault,
        now - 40 * day,
        channel=Channel.HOTLINE,
        reporter_kind=ReporterKind.HOTLINE,
        raw_text="12317来电：儿子车祸去世，家里只剩老两口",
        risks=["05", "08"],
        head_name="赵永福",
        id_number=_demo_id("43042119520909101"),
        phone="13907341004",
        household_size=2,
        village_code=MEIHUA,
        group_name="第一村民小组",
    )
    _sign_and_visit(
        db,
        vault,
        monitored,
        "赵永福",
        ("cadre2", "meihua"),
        now - 38 * day,
        household_size=2,
        a27_risks=["05", "08"],
        a31_transfer_income=Decimal("7000"),
        has_labour_capacity=False,
    )
    village_review(
        db=db, case=monitored, actor=_staff(db, "meihua"), now=now - 35 * day, note=None, notifier=quiet
    )
    conclude_notice(
        db=db,
        case=monitored,
        actor=_staff(db, "meihua"),
        now=now - 27 * day,
        note="公示无异议",
        notifier=quiet,
    )
    township_review(
        db=db, case=monitored, actor=_staff(db, "xidu"), now=now - 25 * day, note=None, notifier=quiet
    )
    county_approve(
        db=db,
        case=monitored,
        actor=_staff(db, "county"),
        now=now - 20 * day,
        note=None,
        notifier=quiet,
        category=2,
    )
    add_measure(
        db=db,
        case=monitored,
        actor=_staff(db, "cadre2"),
        now=now - 19 * day,
        code="A48",
        sub_code="01",
        description="纳入低保",
    )
    db.flush()
    return 4


def seed(*, db: Session, now: datetime, vault: Vault | None = None) -> DemoResult:
    """Seed the demo county (idempotent; demo cases need a vault and no cases yet); caller commits."""
    areas = seed_areas(db=db, rows=AREAS)
    setting = seed_region_setting(db)
    staff = seed_staff(db, now, vault)
    cases = seed_cases(db=db, vault=vault, now=now) if vault is not None else 0
    return DemoResult(
        areas_added=areas, staff_added=staff, setting_added=setting, logins=STAFF, cases_added=cases
    )
