"""Two digits before a money unit (三五块, 一两块钱): a range, one amount at its upper bound, marked
approximate and read back to the household as 约…元 to be put right; the boundaries (三十五块, 二五块)."""

from __future__ import annotations

import pytest

import nlu


# Two digits alone before a money unit are a range (upper bound) when people say them so; the boundaries.
@pytest.mark.parametrize("text, expected, approximate", [
    ("看病花了三五块", [5], [True]),
    ("一包烟三五块钱", [5], [True]),
    ("一车只给三五块钱", [5], [True]),
    ("买菜花了两三块钱", [3], [True]),
    ("一两块钱都舍不得花", [2], [True]),
    ("花了八九块", [9], [True]),
    ("四五元一斤，花了", [5], [True]),
    ("一根冰棍三五毛", [0.5], [True]),
    # with a unit of magnitude, as before
    ("花了两三千", [3000], [True]),
    ("七八百块", [800], [True]),
    ("花了三五十块", [50], [True]),
    ("花了三十五六块", [36], [True]),
    # not a range
    ("看病花了三十五块", [35], [False]),
    ("花了35块", [35], [False]),
    ("花了二五块", [25], [False]),  # not a pair people say as a range: the digits as written
    ("花了五三块", [53], [False]),  # falling: no range
    ("花了三五", [35], [False]),  # no unit at all: 35, as before
])
def test_two_digits_before_a_money_unit(text: str, expected: list[float], approximate: list[bool]) -> None:
    p = nlu.parse(text)
    assert p.amounts == pytest.approx(expected)
    assert p.amounts_approximate == approximate


def test_phone_and_id_digits_stay_apart_from_a_digit_pair() -> None:
    p = nlu.parse("电话13535353535，药一天要三五块")
    assert p.phones == ["13535353535"]
    assert (p.amounts, p.amounts_approximate) == ([5], [True])
    p = nlu.parse("身份证11010519491231002X，一天吃药三五块")
    assert p.id_numbers == ["11010519491231002X"]
    assert (p.amounts, p.amounts_approximate) == ([5], [True])
