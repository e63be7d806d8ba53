"""A33/A34/A37/A38, the income period and the suggested category against hand-computed examples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from cases.income import (
    IncomeFigures,
    below_elimination_floor,
    compute,
    income_period,
    money,
    suggest_category,
)

LINE = D("6500")


def test_example_illness_household_of_four() -> None:
    # 12000 + 8000 + 500 + 3600 - 3000 = 21100; /4 = 5275; 21100 + 2000 - 15000 = 8100; /4 = 2025
    r = compute(
        IncomeFigures(4, D("12000"), D("8000"), D("500"), D("3600"), D("3000"), D("2000"), D("15000"))
    )
    assert (r.a33_net_income, r.a34_per_capita) == (D("21100.00"), D("5275.00"))
    assert (r.a37_adjusted_income, r.a38_adjusted_per_capita) == (D("8100.00"), D("2025.00"))
    assert (
        suggest_category(
            a34=r.a34_per_capita, a38=r.a38_adjusted_per_capita, income_line=LINE, formerly_poor=False
        )
        == 2
    )
    assert (
        suggest_category(
            a34=r.a34_per_capita, a38=r.a38_adjusted_per_capita, income_line=LINE, formerly_poor=True
        )
        == 1
    )


def test_example_sudden_hardship_is_category_3() -> None:
    # 30000 + 1200 = 31200; /3 = 10400; 31200 + 5000 - 30000 = 6200; /3 = 2066.666.. -> 2066.67
    r = compute(
        IncomeFigures(
            3,
            a28_wages=D("30000"),
            a31_transfer_income=D("1200"),
            a35_insurance_payouts=D("5000"),
            a36_compliant_spending=D("30000"),
        )
    )
    assert r.a33_net_income == D("31200.00") and r.a34_per_capita == D("10400.00")
    assert r.a37_adjusted_income == D("6200.00") and r.a38_adjusted_per_capita == D("2066.67")
    assert (
        suggest_category(
            a34=r.a34_per_capita, a38=r.a38_adjusted_per_capita, income_line=LINE, formerly_poor=True
        )
        == 3
    )


def test_above_the_line_without_expenses_suggests_nothing() -> None:
    r = compute(IncomeFigures(3, a28_wages=D("31200")))
    assert r.a38_adjusted_per_capita == D("10400.00")
    assert (
        suggest_category(
            a34=r.a34_per_capita, a38=r.a38_adjusted_per_capita, income_line=LINE, formerly_poor=False
        )
        is None
    )
    assert (
        suggest_category(a34=D("100"), a38=D("100"), income_line=LINE, formerly_poor=False, has_risk=False)
        is None
    )


def test_rounding_and_the_line_itself() -> None:
    assert compute(IncomeFigures(3, a28_wages=D("10000"))).a34_per_capita == D("3333.33")
    assert compute(IncomeFigures(3, a28_wages=D("20000"))).a34_per_capita == D("6666.67")
    at_line = compute(IncomeFigures(2, a28_wages=D("13000"))).a34_per_capita
    assert at_line == D("6500.00")
    assert suggest_category(a34=at_line, a38=at_line, income_line=LINE, formerly_poor=False) == 2  # 以内
    # business losses can make net income negative
    assert compute(
        IncomeFigures(2, a29_business_income=D("1000"), a32_business_expenses=D("5000"))
    ).a34_per_capita == D("-2000.00")


def test_bad_input_refused() -> None:
    with pytest.raises(ValueError):
        compute(IncomeFigures(0, a28_wages=D("1")))
    with pytest.raises(ValueError):
        compute(IncomeFigures(1, a28_wages=D("-1")))
    with pytest.raises(TypeError):
        money(1.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("identified", "start", "end"),
    [
        (date(2021, 5, 17), date(2020, 5, 1), date(2021, 4, 30)),
        (date(2021, 1, 10), date(2020, 1, 1), date(2020, 12, 31)),
        (date(2024, 3, 1), date(2023, 3, 1), date(2024, 2, 29)),
    ],
)
def test_income_period(identified: date, start: date, end: date) -> None:
    assert income_period(identified) == (start, end)


def test_elimination_floor() -> None:
    assert below_elimination_floor(D("4999.99"), D("5000"))
    assert not below_elimination_floor(D("5000.00"), D("5000"))
