"""Vague amounts (几万, 好几千, 十几万, 几十万) and two digits before a money unit (三五块, 一两块钱):
each one amount, marked approximate, read back to the household as 约…元 to be put right."""

from __future__ import annotations

import json

import pytest

import nlu
from tests.conftest import shared_data


# 几 or 好几 with no figure before it counts the least it can mean, two of the unit (几万 20000, 几十万
# 200000); 几 after a figure is 多, the figure said (十几万 100000, as 十多万 and the labelled sets read it).
@pytest.mark.parametrize("text, expected", [
    ("看病花了几万", [20000]),
    ("花了好几万块", [20000]),
    ("欠了几万元", [20000]),
    ("今年柑橘卖不掉，亏了好几万", [20000]),
    ("看病花了几千", [2000]),
    ("一个月好几千", [2000]),
    ("每个月还要吃几千块钱的药", [2000]),
    ("借了几十万", [200000]),
    ("欠了好几十万", [200000]),
    ("一个月就几百块", [200]),
    ("欠了十几万", [100000]),
    ("欠了十几万块", [100000]),
    ("亏了二十几万", [200000]),
    ("花了三万几千", [30000]),
    ("花了几万几千", [20000]),
    ("花了一千几百块", [1000]),
])
def test_vague_amount_is_its_lower_reading_approximate(text: str, expected: list[float]) -> None:
    p = nlu.parse(text)
    assert p.amounts == pytest.approx(expected)
    assert p.amounts_approximate == [True] * len(expected)


@pytest.mark.parametrize("text, expected, approximate", [
    ("住院花了好几万，报销了两万", [20000, 20000], [True, False]),
    ("花了几千块，还欠了两千五", [2000, 2500], [True, False]),
    ("花了两万，借了几千", [20000, 2000], [False, True]),
])
def test_vague_amount_beside_an_exact_one_keeps_each_flag(text: str, expected: list[float],
                                                          approximate: list[bool]) -> None:
    p = nlu.parse(text)
    assert p.amounts == pytest.approx(expected)
    assert p.amounts_approximate == approximate


@pytest.mark.parametrize("text", [
    "住的是几十年的木房子",
    "橘子树遭了天牛，死了好几十棵",
    "屋里喂的十几头牛得了病死了",
    "今年收了几千斤谷子",
    "养了几百只鸭子",
    "一年到头挣不到几个钱",
    "好几天冇恰饭",
    "花了几块钱",  # 几 before 块 alone: no unit of magnitude, not read
    "今年几万",  # no money word and no money unit
])
def test_vague_count_of_other_things_is_no_amount(text: str) -> None:
    assert nlu.parse(text).amounts == []


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


def test_jionlp_vague_yuan_with_ji_read_inside_its_range() -> None:
    """JioNLP's 几 cases in yuan (几十万块 [100000, 1000000], 十几块钱 [10, 20]): one amount in the range."""
    cases = json.loads(shared_data("jionlp-cases.json").read_text(encoding="utf-8"))["cases"]
    checked = 0
    for text, want in cases["test/test_money_parser.py"]:
        if want is None or want.get("case") != "元" or not isinstance(want.get("num"), list):
            continue
        if "几" not in text:
            continue
        low, high = (float(n) for n in want["num"])
        p = nlu.parse("花了" + text)
        assert len(p.amounts) == 1 and low <= p.amounts[0] <= high, text
        assert p.amounts_approximate == [True], text
        checked += 1
    assert checked >= 2
