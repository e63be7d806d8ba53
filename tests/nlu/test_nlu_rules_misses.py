"""Known misses of the fourth round (labour, water told in two clauses, frozen pipes, who lives with whom,
a neighbour's fire), each with the counterpart that must keep its old reading."""

from __future__ import annotations

import pytest

import nlu


@pytest.mark.parametrize("text, risks", [
    ("地里的活没人干", ["08"]),
    ("田里没人种", ["08"]),
    ("家里没劳力干活", ["08"]),
    ("田里的活冇得人做", ["08"]),
    # counterparts: someone does the work, or the nobody is about something else
    ("田里的活有人干", []),
    ("地里的活儿子回来干了", []),
    ("没人来看过", []),
    ("厂里的活没人干", []),  # an employer's work is not the household's labour
])
def test_field_work_nobody_does_is_lack_of_labour(text: str, risks: list[str]) -> None:
    assert nlu.parse(text).risks == risks


@pytest.mark.parametrize("text, guarantees", [
    ("家里的水井，上个月干了", ["A25"]),
    ("自来水管子坏了，现在没水喝", ["A25"]),
    ("家里吃的井水，今年干了", ["A25"]),
    ("屋里的自来水，停了一个多月了", ["A25"]),
    # counterparts: the water came back, or the next clause is about something else
    ("家里的水井，上个月干了，现在又有水了", []),
    ("家里吃的井水，孩子辍学了", ["A24"]),
    ("喝的是自来水，田干了", []),
    ("家里进了水，现在停了电", []),  # plain 水 is no water source to head a topic
])
def test_water_failure_told_in_the_next_clause(text: str, guarantees: list[str]) -> None:
    assert nlu.parse(text).guarantees == guarantees


@pytest.mark.parametrize("text, disasters, guarantees", [
    ("冻坏了水管", [], ["A25"]),
    ("水管冻裂了", [], ["A25"]),
    ("去年冬天冻坏了水管，到现在还是去邻居家挑水吃", [], ["A25"]),
    ("水龙头冻住了，没水用", [], ["A25"]),
    # a real freeze or snow disaster still is one
    ("雪灾把房子压塌了", ["05"], ["A23"]),
    ("今年冻灾，橘子树全冻死了", ["05"], []),
    ("橘子树冻坏了", ["05"], []),
    ("冰冻把水管冻裂了", ["05"], ["A25"]),
])
def test_a_frozen_pipe_is_a_water_problem_not_a_disaster(
        text: str, disasters: list[str], guarantees: list[str]) -> None:
    p = nlu.parse(text)
    assert (p.disasters, p.guarantees) == (disasters, guarantees)
    assert ("04" in p.risks) == bool(disasters)


@pytest.mark.parametrize("text, size", [
    ("我带着我妈和两个孩子过", 4),
    ("我带着我妈和两个孩子过，男人在外面不回来", 4),
    ("我带着老母亲和一个孙子生活", 3),
    ("我带着儿子过", 2),
    ("就我和老伴两个人", 2),
    ("我一个人过", 1),
    ("我和老伴带着三个孙子过日子", 5),
    # not a household: an errand, not who lives together
    ("我带着我妈去医院", None),
    ("我带着儿子去县里看病", None),
    ("我带着儿子住院了", None),
    ("我带着孙子过来问", None),
    ("我和儿子住在一起", 2),
])
def test_household_size_from_who_lives_with_whom(text: str, size: int | None) -> None:
    assert nlu.parse(text).household_size == size


def test_a_mother_left_alone_with_the_household_lacks_labour() -> None:
    p = nlu.parse("我带着我妈和两个孩子过，男人在外面不回来")
    assert (p.intent, p.risks) == ("report", ["08"])
    assert nlu.parse("男人在外面打工，过年回来").risks == []


@pytest.mark.parametrize("text, relation", [
    ("隔壁房子着火了", "邻居"),
    ("邻居家房子着火了，他们一家没地方住", "邻居"),
    ("邻居家房子塌了，我帮他报", "邻居"),
    # the hardship is the speaker's own: the neighbour is where it came from
    ("隔壁着火烧到我家", None),
    ("隔壁房子着火烧到我家，厨房烧没了", None),
    ("邻居家的树倒了，把我家房顶砸穿了", None),
    ("隔壁的山墙塌了，压到我们家灶屋", None),
])
def test_the_relation_goes_by_whose_hardship_it_is(text: str, relation: str | None) -> None:
    p = nlu.parse(text)
    assert p.relation == relation
    assert p.risks or p.guarantees
