"""Misses found by exploratory testing of the parser (amounts with grouped digits, ranges and approximate
amounts, Hunan dialect hardship, 俩/仨), each with the counterparts that must keep their old reading."""

from __future__ import annotations

import pytest

import nlu


@pytest.mark.parametrize("text, expected", [
    # Chinese grouping by ten-thousands, and Western grouping by thousands, with a space
    ("借了2 0000元", [20000]),
    ("看病花了12 5000块", [125000]),
    ("欠了1 2000块钱", [12000]),
    ("花了20 000元", [20000]),
    ("损失1 200 000元", [1200000]),
    ("花了2 0000 元", [20000]),
    ("花了2\u00a00000元", [20000]),  # a no-break space
    ("花了２　００００元", [20000]),  # full-width digits and the ideographic space
    # the same with a comma
    ("花了2,0000元", [20000]),
    ("花了20,000元", [20000]),
])
def test_amount_with_grouped_digits(text: str, expected: list[float]) -> None:
    assert nlu.parse(text).amounts == pytest.approx(expected)


@pytest.mark.parametrize("text, expected, phones, ids", [
    # a phone or ID number typed in groups stays a phone or an ID number, never an amount
    ("我电话138 0734 5678", [], ["13807345678"], []),
    ("电话138 0734 5678，欠了2 0000元", [20000], ["13807345678"], []),
    ("身份证430421 19500302 1234", [], [], ["430421195003021234"]),
    ("身份证430421 19500302 1234，借了3 5000块", [35000], [], ["430421195003021234"]),
    # a card number is not in amount groups; grouped digits with a money word alone are (as 20000 is)
    ("卡号6228 4800 1234 5678", [], [], []),
    ("卡号6228 4800 1234 5678，借了2 0000", [20000], [], []),
    ("花了3 5000", [35000], [], []),
    # groups that are not regular are not joined
    ("花了2 000 0000元", [], [], []),
    ("花了2 00元", [], [], []),
    ("两次，花了3000 5000元", [3000, 5000], [], []),  # a 4-digit first group: two figures, not one
    ("花了1 0000 0000元", [], [], []),  # no household writes a hundred million: not joined
])
def test_grouped_digits_only_for_money(text: str, expected: list[float], phones: list[str],
                                       ids: list[str]) -> None:
    p = nlu.parse(text)
    assert p.amounts == pytest.approx(expected)
    assert p.phones == phones
    assert p.id_numbers == ids
