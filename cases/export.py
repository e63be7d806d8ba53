"""Export monitored households with the annex 2 codes, to CSV or XLSX, for entry into the national system.

Columns follow annex 2 (Hunan opinions 附件2 and the 指标解释 of 附件6): A3 category, A23-A26 (是/否),
A27/A27a codes, A28-A38 income figures of the latest home visit, A39-A52 measures as sub-codes. A26 is the
latest home visit's; a household without one has the A26 its members' A17 generate (附件6 22).
Beside the households, annex 2's 家庭成员信息: one row per member of each household exported, the head first,
with A5 name, A7 ID number, A8 relation and A9-A17 in the words the form writes (填写汉字); the birth date
only for a member without an ID number. An item not recorded yet is left empty (附件6 says none may be: the
clerk sees what is still to ask).
ID and phone numbers are masked unless the caller asks for them unmasked (and audits that).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from cases.clock import BEIJING
from cases.codes import MEASURES, MEMBER_CODED_FIELDS, MEMBER_RELATIONS, RELATION_HEAD, YES_NO
from cases.crypto import Vault, mask_id, mask_phone
from cases.members import a26_from_members
from cases.models import MONITORED_STATUSES, Area, Case, HomeVisit, Household, Measure, Member

EXPORT_STATUSES = MONITORED_STATUSES
CATEGORY_NAMES = {1: "脱贫不稳定户", 2: "边缘易致贫户", 3: "突发严重困难户"}
INCOME_FIELDS = (
    ("A28 工资性收入", "a28_wages"),
    ("A29 生产经营性收入", "a29_business_income"),
    ("A30 财产性收入", "a30_property_income"),
    ("A31 转移性收入", "a31_transfer_income"),
    ("A32 生产经营性支出", "a32_business_expenses"),
    ("A33 家庭纯收入", "a33_net_income"),
    ("A34 家庭人均纯收入", "a34_per_capita"),
    ("A35 理赔收入", "a35_insurance_payouts"),
    ("A36 合规自付支出", "a36_compliant_spending"),
    ("A37 纳入监测对象的收入参考范围", "a37_adjusted_income"),
    ("A38 纳入监测对象的人均收入参考范围", "a38_adjusted_per_capita"),
)
GUARANTEE_FIELDS = (
    ("A23 住房安全问题", "a23_housing_unsafe"),
    ("A24 适龄儿童少年失学辍学", "a24_child_out_of_school"),
    ("A25 饮水安全问题", "a25_water_unsafe"),
    ("A26 未参加基本医疗保险", "a26_no_medical_insurance"),
)
HEADER: tuple[str, ...] = (
    "编号",
    "县",
    "乡镇",
    "村",
    "村民小组",
    "户主姓名",
    "身份证号码",
    "联系电话",
    "家庭人口数",
    "A3 监测对象类型",
    "A4 脱贫户",
    "纳入监测时间",
    "状态",
    *(name for name, _ in GUARANTEE_FIELDS),
    "A27 风险类型",
    "A27 其他（文字备注）",
    "A27a 因自然灾害",
    *(name for name, _ in INCOME_FIELDS),
    *(f"{code} {m.name}" for code, m in sorted(MEASURES.items())),
)
ID_COLUMN = "身份证号码"
A26_COLUMN = "A26 未参加基本医疗保险"
CODED = {f.column: f for f in MEMBER_CODED_FIELDS}
# annex 2's 家庭成员信息, in the form's order: (column title, Member attribute); A9-A17 titled by their
# official names (cases.codes.MEMBER_CODED_FIELDS), A15's place beside its area
MEMBER_FIELDS: tuple[tuple[str, str], ...] = (
    *((f"{f.number} {f.name}", f.column) for f in MEMBER_CODED_FIELDS[:7]),
    ("A15 务工所在地（省、市、县、乡）", "a15_work_place"),
    ("A16 务工时间（月）", "a16_work_months"),
    *((f"{f.number} {f.name}", f.column) for f in MEMBER_CODED_FIELDS[7:]),
)
MEMBER_ID_COLUMN = "A7 身份证号码"
MEMBER_HEADER: tuple[str, ...] = (
    "编号",
    "户主姓名",
    "序号",
    "A5 姓名",
    MEMBER_ID_COLUMN,
    "出生日期（无身份证号码者）",
    "A8 与户主关系",
    *(name for name, _ in MEMBER_FIELDS),
)
Cell = str | int | Decimal | None


@dataclass(frozen=True)
class Sheet:
    header: tuple[str, ...]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class ExportResult(Sheet):
    """The households (header, rows: one row each) and their members (annex 2's 家庭成员信息)."""

    members: Sheet


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def monitored_rows(
    *, db: Session, vault: Vault, where: ColumnElement[bool] | None = None, unmasked: bool = False
) -> ExportResult:
    """One row per monitored household (cases in EXPORT_STATUSES), filtered by `where` on Case, and one per
    member of those households (head first)."""
    query = select(Case).where(Case.status.in_([str(s) for s in EXPORT_STATUSES]))
    if where is not None:
        query = query.where(where)
    cases = list(db.scalars(query.order_by(Case.area_code, Case.id)))
    ids = [c.id for c in cases]
    households = {
        h.id: h
        for h in db.scalars(select(Household).where(Household.id.in_({c.household_id for c in cases})))
    }
    visits: dict[int, HomeVisit] = {}
    for found in db.scalars(select(HomeVisit).where(HomeVisit.case_id.in_(ids)).order_by(HomeVisit.id)):
        visits[found.case_id] = found  # the latest visit wins
    measures: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for m in db.scalars(select(Measure).where(Measure.case_id.in_(ids)).order_by(Measure.id)):
        measures[m.case_id][m.code].append(m.sub_code or "01")
    names = _ancestor_names(db, {c.area_code for c in cases})
    people = _members(db, households.values())
    rows: list[list[Cell]] = []
    member_rows: list[list[Cell]] = []
    for case in cases:
        household = households[case.household_id]
        visit = visits.get(case.id)
        members = people[household.id]
        county, town, village = names.get(case.area_code, ("", "", ""))
        id_number = vault.decrypt(household.id_number_enc) if household.id_number_enc else None
        phone = vault.decrypt(household.phone_enc) if household.phone_enc else None
        row: list[str | int | Decimal | None] = [
            case.number,
            county,
            town,
            village,
            household.group_name or "",
            household.head_name,
            (id_number or "") if unmasked else mask_id(id_number),
            (phone or "") if unmasked else mask_phone(phone),
            visit.household_size if visit else household.size,
            CATEGORY_NAMES.get(case.category or 0, ""),
            _yes_no(household.formerly_poor),
            case.monitored_at.astimezone(BEIJING).date().isoformat() if case.monitored_at else "",
            str(case.status),
        ]
        row += [_yes_no(getattr(visit, attr)) if visit else "" for _, attr in GUARANTEE_FIELDS]
        if visit is None:  # no home visit yet: A26 as the members' A17 generate it
            row[HEADER.index(A26_COLUMN)] = YES_NO.get(a26_from_members(members) or "", "")
        row += [
            ",".join(visit.a27_risks if visit else case.risks),
            (visit.a27_other or "") if visit else "",
            ",".join(visit.a27a_disasters) if visit else "",
        ]
        row += [getattr(visit, attr) if visit else None for _, attr in INCOME_FIELDS]
        row += [",".join(sorted(set(measures[case.id].get(code, [])))) for code in sorted(MEASURES)]
        rows.append(row)
        member_rows += [
            _member_row(vault, case, household, n, member, unmasked) for n, member in enumerate(members, 1)
        ]
    return ExportResult(HEADER, rows, Sheet(MEMBER_HEADER, member_rows))


def _members(db: Session, households: Collection[Household]) -> dict[int, list[Member]]:
    """Each household's members, head first; a household recorded without a head row (imported, or seeded)
    gets one written from the household record, not stored."""
    found: dict[int, list[Member]] = {h.id: [] for h in households}
    query = select(Member).where(Member.household_id.in_(set(found))).order_by(Member.household_id, Member.id)
    for member in db.scalars(query):
        found[member.household_id].append(member)
    for household in households:
        members = found[household.id]
        if not any(m.is_head for m in members):
            head = Member(name=household.head_name, is_head=True, id_number_enc=household.id_number_enc)
            members.insert(0, head)
        members.sort(key=lambda m: not m.is_head)  # stable: the others as recorded
    return found


def _member_row(
    vault: Vault, case: Case, household: Household, n: int, member: Member, unmasked: bool
) -> list[Cell]:
    """A member as annex 2's 家庭成员信息 writes one: the codes in words, A16 in months."""
    id_number = vault.decrypt(member.id_number_enc) if member.id_number_enc else None
    born = member.birth_date.isoformat() if member.birth_date and id_number is None else ""
    relation = MEMBER_RELATIONS[RELATION_HEAD] if member.is_head else (member.relation or "")
    row: list[Cell] = [
        case.number,
        household.head_name,
        n,
        member.name,
        (id_number or "") if unmasked else mask_id(id_number),
        born,
        relation,
    ]
    for _, column in MEMBER_FIELDS:
        value = getattr(member, column)
        field = CODED.get(column)
        row.append(field.codes.get(value, value) if field is not None and value is not None else value)
    return row


def _ancestor_names(db: Session, village_codes: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """(county, township, village) names for each village code."""
    villages = list(db.scalars(select(Area).where(Area.code.in_(set(village_codes)))))
    parents = {
        a.code: a
        for a in db.scalars(
            select(Area).where(Area.code.in_({v.parent_code for v in villages if v.parent_code}))
        )
    }
    grand = {
        a.code: a
        for a in db.scalars(
            select(Area).where(Area.code.in_({t.parent_code for t in parents.values() if t.parent_code}))
        )
    }
    out: dict[str, tuple[str, str, str]] = {}
    for v in villages:
        town = parents.get(v.parent_code or "")
        county = grand.get(town.parent_code or "") if town else None
        out[v.code] = (county.name if county else "", town.name if town else "", v.name)
    return out


# a text a spreadsheet would read as a formula (=HYPERLINK(...), +1+1, -2+3, @SUM): typed by a household or
# staff into a name or a place of work, it must come out as the text it is (OWASP "CSV injection")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Cell) -> str:
    """A CSV cell: text that would start a formula is kept text by a leading apostrophe."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_START) else text


def to_csv(sheet: Sheet) -> bytes:
    """One sheet (the households, or `result.members`), UTF-8 with BOM so that spreadsheet programs open the
    Chinese header correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(sheet.header)
    writer.writerows([_cell(v) for v in row] for row in sheet.rows)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(result: ExportResult) -> bytes:
    """Two sheets, the households and their members; ID and phone numbers as text (never as numbers that
    lose digits)."""
    book = Workbook()
    households = book.active
    assert households is not None
    households.title = "监测对象"
    _fill(households, result, text_columns=(ID_COLUMN, "联系电话"))
    _fill(book.create_sheet("家庭成员"), result.members, text_columns=(MEMBER_ID_COLUMN,))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fill(sheet: Worksheet, table: Sheet, text_columns: Sequence[str]) -> None:
    sheet.append(list(table.header))
    for row in table.rows:
        sheet.append(
            [v if isinstance(v, (int, Decimal)) and not isinstance(v, bool) else "" if v is None else str(v)
             for v in row]
        )
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # openpyxl takes a text starting with = for a formula: text it is
                cell.data_type = "s"
    for name in text_columns:
        for cell in sheet[get_column_letter(table.header.index(name) + 1)]:
            cell.number_format = "@"
    sheet.freeze_panes = "A2"


def header_index(name: str, header: Sequence[str] = HEADER) -> int:
    return list(header).index(name)
