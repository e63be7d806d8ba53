"""Known misses of the fifth round (one person who farms alone, 脑壳不清白, bugs in piped hill water, field
work one person does), each with the counterpart that must keep its old reading, and held-out variants
written before the fixes (HELDOUT: measured before and after, kept to a floor)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import nlu


@pytest.mark.parametrize("text, size", [
    ("一个人种两亩田", 1),
    ("我一个人过", 1),
    ("就我一个人", 1),
    # counterparts: someone else alone, or the speaker alone with others counted
    ("老伴一个人种两亩田", None),
    ("我一个人带两个孙子", 3),
    ("家里五口人，我一个人种两亩田", 5),
    ("两亩田", None),
    ("我一个人种田，老伴身体不好", None),  # the spouse is there too
    ("老伴也走了，一个人种不了地", None),  # what one person cannot do
    ("家里就靠我一个人种地", None),
])
def test_one_person_who_farms_alone_is_a_household_of_one(text: str, size: int | None) -> None:
    assert nlu.parse(text).household_size == size


@pytest.mark.parametrize("text, risks", [
    ("脑壳不清白", ["01"]),
    ("我妈脑壳不清白了", ["01"]),
    ("老倌子脑壳不清醒，到处乱走", ["01"]),
    ("老年痴呆", ["01"]),
    ("精神病", ["01"]),
    # counterparts: a slow child is a disability, as before
    ("我崽脑壳有点问题，读不进书", ["03"]),
    ("我细伢子脑子不太灵光", ["03"]),
    ("脑壳不灵光", ["03"]),
])
def test_a_confused_mind_is_illness(text: str, risks: list[str]) -> None:
    assert nlu.parse(text).risks == risks


@pytest.mark.parametrize("text, disasters, guarantees", [
    ("山上接下来的水…有虫子", [], ["A25"]),
    ("山上接下来的水，有虫子", [], ["A25"]),
    ("山上接下来的水里有虫子", [], ["A25"]),
    # counterparts: bugs in the fields or trees are a pest disaster
    ("田里有虫子", ["04"], []),
    ("橘子树上好多虫子", ["04"], []),
    ("菜地里长了好多虫子", ["04"], []),
    ("田里进了水，长了虫子", ["04"], []),  # the water is the field's
    ("橘子树长了虫", ["04"], []),
])
def test_bugs_in_drinking_water_are_a_water_problem_not_a_pest(
        text: str, disasters: list[str], guarantees: list[str]) -> None:
    p = nlu.parse(text)
    assert (p.disasters, p.guarantees) == (disasters, guarantees)
    assert ("04" in p.risks) == bool(disasters)


@pytest.mark.parametrize("text, risks", [
    ("地里的活我老伴一个人干", ["08"]),
    ("地里的活没人干", ["08"]),
    # counterparts: the work is shared, is not field work, or is an employer's
    ("地里的活我老伴和儿子一起干", []),
    ("家里的饭我老伴一个人做", []),
    ("厂里的活我一个人干", []),
    ("工地上的活我一个人干不过来", []),
    ("最近忙不过来，下次再说", []),
])
def test_field_work_one_person_does_is_lack_of_labour(text: str, risks: list[str]) -> None:
    assert nlu.parse(text).risks == risks


# Held-out variants, written before the fixes and never tuned on: the rules must generalise to them.
HELDOUT: dict[str, list[tuple[str, Any]]] = {
    "household_of_one": [  # household_size
        ("我一个人种了三亩田，身体不行了", 1),
        ("屋里就我一个人，种点菜吃", 1),
        ("一个人守着老屋，种两分菜地", 1),
        ("老伴走了以后我一个人种田", 1),
        ("一个人喂了两头猪，种了一亩多田", 1),
        ("现在只有我一个人在屋里", 1),
        ("我是一个人，没有儿女", 1),
    ],
    "confused_is_illness": [  # risks
        ("我娘脑壳不清白了，认不得人", ["01"]),
        ("老倌子这两年脑壳不清醒，经常走丢", ["01"]),
        ("我男人脑壳不清白，发起病来乱打人", ["01"]),
        ("崽脑壳不清白哒，整天关在屋里不出门", ["01"]),
        ("娭毑脑壳越来越不清白了", ["01"]),
        ("他精神不正常，脑壳不清白", ["01"]),
        ("我老娘老糊涂了，认不得人", ["01"]),
    ],
    "bugs_in_drinking_water": [  # (disasters, guarantees)
        ("我们喝的是山上引下来的水，里面有虫子", ([], ["A25"])),
        ("山泉水里有好多小虫子，不敢喝", ([], ["A25"])),
        ("水管里放出来的水有虫，小孩喝了拉肚子", ([], ["A25"])),
        ("吃的井水里面长了虫子", ([], ["A25"])),
        ("从山上接的水管子，水里经常有虫子", ([], ["A25"])),
        ("自来水里有红虫子", ([], ["A25"])),
        ("水缸里的水生了虫", ([], ["A25"])),
    ],
    "field_work_one_person": [  # risks
        ("田里的事都是我堂客一个人做", ["08"]),
        ("屋里的农活全是老伴一个人在搞", ["08"]),
        ("家里三亩田就我男人一个人种", ["08"]),
        ("地里的活只有我一个人干，儿子在外地", ["08"]),
        ("种田的事我老婆一个人忙不过来", ["08"]),
        ("田里地里的活都落到我娘一个人身上", ["08"]),
    ],
}
# A second batch, written after the fixes (the first was in view while they were made) and measured once,
# never tuned on: the fairer figure of how far the rules reach.
HELDOUT_LATE: dict[str, list[tuple[str, Any]]] = {
    "household_of_one": [
        ("屋里只我一个人了，种了点红薯", 1),
        ("我如今一个人喂鸡种菜过日子", 1),
        ("儿女都在广东，我一个人守着这个屋", 1),
        ("老头子前年过世了，现在就一个人种点田", 1),
        ("我孤零零一个人住在山坳里", 1),
        ("一个人在屋里，种了半亩菜", 1),
    ],
    "confused_is_illness": [
        ("屋里老娘脑筋不清白了，饭都不晓得吃", ["01"]),
        ("我爷爷脑子糊涂了，出门就找不到路", ["01"]),
        ("老伴这两年脑壳时好时坏，有时候不清白", ["01"]),
        ("她精神失常好几年了，一直要吃药", ["01"]),
        ("屋里老倌子脑壳不清醒哒，晚上乱喊", ["01"]),
    ],
    "bugs_in_drinking_water": [
        ("吃的水是从山上用管子引下来的，经常有虫", ([], ["A25"])),
        ("我们这里喝的山泉水有小红虫", ([], ["A25"])),
        ("井水里有虫子在游，大人小孩都不敢喝", ([], ["A25"])),
        ("水池里的水长了虫子，一直没人管", ([], ["A25"])),
        ("自来水管子里流出来好多小虫子", ([], ["A25"])),
    ],
    "field_work_one_person": [
        ("田里的活路全是我一个人在做", ["08"]),
        ("屋里几亩田都是我婆娘一个人种", ["08"]),
        ("地里的事情只有我爸一个人在弄", ["08"]),
        ("农活就我一个人干，累得不行", ["08"]),
        ("那几亩地我一个人种不过来", ["08"]),
    ],
}
READ: dict[str, Callable[[nlu.Parse], Any]] = {
    "household_of_one": lambda p: p.household_size,
    "confused_is_illness": lambda p: p.risks,
    "bugs_in_drinking_water": lambda p: (p.disasters, p.guarantees),
    "field_work_one_person": lambda p: p.risks,
}
# passing variants before the fixes: household_of_one 2/7, confused_is_illness 0/7, bugs_in_drinking_water
# 1/7, field_work_one_person 0/6 (3 of 27); after them 27 of 27
FLOORS = {"household_of_one": 7, "confused_is_illness": 7, "bugs_in_drinking_water": 7,
          "field_work_one_person": 6}
# the late batch: 4 of 21 before the fixes, 19 of 21 after (misses: 脑壳时好时坏，有时候不清白, whose
# 不清白 stands a clause away from 脑壳; 吃的水是…引下来的，经常有虫, whose 水 does not end its clause)
LATE_FLOORS = {"household_of_one": 6, "confused_is_illness": 4, "bugs_in_drinking_water": 4,
               "field_work_one_person": 5}


def heldout_passing(batch: dict[str, list[tuple[str, Any]]], name: str) -> list[str]:
    """The held-out variants of one miss that the parser reads as labelled."""
    return [text for text, want in batch[name] if READ[name](nlu.parse(text)) == want]


@pytest.mark.parametrize("name", sorted(HELDOUT))
def test_heldout_variants_floor(name: str) -> None:
    assert len(HELDOUT[name]) >= 6
    assert len(heldout_passing(HELDOUT, name)) >= FLOORS[name]


@pytest.mark.parametrize("name", sorted(HELDOUT_LATE))
def test_late_heldout_variants_floor(name: str) -> None:
    assert len(HELDOUT_LATE[name]) >= 5
    assert len(heldout_passing(HELDOUT_LATE, name)) >= LATE_FLOORS[name]
