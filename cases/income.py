"""Annex 2 income items A33, A34, A37, A38, the income period, and the suggested category.

Annex 2 note: "A33=A28+A29+A30+A31-A32  A37=A33+A35-A36 ... A38 是确定监测对象的参考，A34 是区分前两类还是
第三类对象的参考". Hunan opinions 二（一）1: "农户家庭年人均纯收入按照其履行程序前12个月内家庭成员纯收入的总和
除以家庭人数计算". Categories, 二（一）2: ① 脱贫不稳定户 "建档立卡脱贫户中，年人均纯收入在当地防止返贫监测范围
以内，且存在返贫风险"; ② 边缘易致贫户 "一般农户中，年人均纯收入在当地防止返贫监测范围以内，且存在致贫风险";
③ 突发严重困难户 "年人均纯收入超过当地防止返贫监测范围，但因病因灾因意外事故等刚性支出较大或收入大幅缩减，
导致基本生活出现严重困难". "以内" (within) is read as inclusive:
per-capita income equal to the line is within.
Money is Decimal, rounded half-up to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
ZERO = Decimal(0)


def money(value: Decimal | int | str) -> Decimal:
    """A yuan amount as Decimal rounded half-up to the fen (floats refused: they are not exact)."""
    if isinstance(value, float):
        raise TypeError("pass money as Decimal, int or str, not float")
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class IncomeFigures:
    """The visit's annex 2 figures for the 12-month period (yuan)."""

    household_size: int
    a28_wages: Decimal = ZERO
    a29_business_income: Decimal = ZERO
    a30_property_income: Decimal = ZERO
    a31_transfer_income: Decimal = ZERO
    a32_business_expenses: Decimal = ZERO
    a35_insurance_payouts: Decimal = ZERO
    a36_compliant_spending: Decimal = ZERO


@dataclass(frozen=True)
class IncomeResult:
    a33_net_income: Decimal
    a34_per_capita: Decimal
    a37_adjusted_income: Decimal
    a38_adjusted_per_capita: Decimal


def compute(figures: IncomeFigures) -> IncomeResult:
    """A33 = A28+A29+A30+A31-A32; A34 = A33/size; A37 = A33+A35-A36; A38 = A37/size."""
    if figures.household_size < 1:
        raise ValueError("household size must be at least 1")
    amounts = (
        figures.a28_wages,
        figures.a29_business_income,
        figures.a30_property_income,
        figures.a31_transfer_income,
        figures.a32_business_expenses,
        figures.a35_insurance_payouts,
        figures.a36_compliant_spending,
    )
    if any(money(a) < 0 for a in amounts):
        raise ValueError("annex 2 amounts are not negative (expenses go in A32 and A36)")
    a33 = money(
        money(figures.a28_wages)
        + money(figures.a29_business_income)
        + money(figures.a30_property_income)
        + money(figures.a31_transfer_income)
        - money(figures.a32_business_expenses)
    )
    a37 = money(a33 + money(figures.a35_insurance_payouts) - money(figures.a36_compliant_spending))
    size = Decimal(figures.household_size)
    return IncomeResult(a33, money(a33 / size), a37, money(a37 / size))


def income_period(identified_on: date) -> tuple[date, date]:
    """The 12 months before the month of identification: May 2021 -> 2020-05-01 .. 2021-04-30."""
    first_of_month = identified_on.replace(day=1)
    return first_of_month.replace(year=first_of_month.year - 1), first_of_month - timedelta(days=1)


def suggest_category(
    *, a34: Decimal, a38: Decimal, income_line: Decimal, formerly_poor: bool, has_risk: bool = True
) -> int | None:
    """1/2 when A34 is within the line (formerly poor or not); 3 when A34 is above it but A38 is within
    (rigid expenses cause serious hardship); None when both exceed the line or there is no risk."""
    if not has_risk:
        return None
    if a34 <= income_line:
        return 1 if formerly_poor else 2
    if a38 <= income_line:
        return 3
    return None


def below_elimination_floor(a34: Decimal, floor: Decimal) -> bool:
    """Below the floor (A34, per-capita net income): no elimination.

    Hunan 二（三）1: "对年人均纯收入低于 5000 元的监测对象，不得标注‘风险消除’".
    """
    return a34 < floor
