"""Person names (Parse.person_name): self-introductions and hotline notes; never places, illnesses, kin or
a family name with an honorific. names_a was written before the code, names_b after it and before tuning."""

from __future__ import annotations

from pathlib import Path

import pytest

import nlu
from nlu.evaluate import evaluate
from nlu.names import surnames

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("text, name", [
    ("我叫张三，家里房子漏雨", "张三"),
    ("我是李四", "李四"),
    ("我姓王叫王大明", "王大明"),
    ("我姓胡，叫国庆", "胡国庆"),
    ("户主是赵六", "赵六"),
    ("本人刘明，身份证号码在后面", "刘明"),
    ("来电人王五反映房屋漏雨", "王五"),
    ("西渡镇梅花村张建国来电，身份证430421197303153457", "张建国"),
    ("我叫欧阳春花，男人去年走了", "欧阳春花"),
    ("我叫王小红家里五口人", "王小红"),
    ("我叫张三今年六十岁", "张三"),
    ("户主杨建华，因病致贫", "杨建华"),
    ("我是黎明", "黎明"),  # a common word, but a name the dictionary knows
    ("村民彭德怀来电，家里的牛死了", "彭德怀"),
])
def test_a_name_from_an_introduction_or_a_call_note(text: str, name: str) -> None:
    assert nlu.parse(text).person_name == name


@pytest.mark.parametrize("text", [
    "张大爷打电话说房子漏雨",  # a family name with an honorific is no full name
    "来电人孙女士，称丈夫失业",
    "我姓刘，房子垮了",
    "监测户王某，今年因病住院两次",
    "我是向阳村的，房子漏雨",  # villages and places
    "我是王家坪村三组的",
    "我是祁东县的",
    "我是高血压病人",  # illness words
    "我是马上要做手术的病人",  # common words
    "村里有个五保户房子要倒了，我是村会计",
    "我老伴刘桂英住院了",  # a kin's name is not the reporter's
    "我是杨桂芝的儿子",
    "户主是我老伴",
    "我叫小明",
    "家里房子漏雨",
    # 本人, 户主 and 来电人 without 是/叫 are weak cues: common words after them are no names
    "本人常年生病",
    "户主明年要手术",
    "本人和老伴都有病",
    "本人向你们反映",
    "户主孙子读书",
    "来电人曾经来过",
    "我是成年人",
    "我叫车送去医院",
])
def test_no_name(text: str) -> None:
    assert nlu.parse(text).person_name is None


def test_the_family_name_table_is_a_reference_of_the_commonest() -> None:
    single, compound = surnames()
    assert len(single) >= 100 and {"王", "李", "张", "刘", "陈", "谭", "邓"} <= single
    assert {"欧阳", "司马", "诸葛"} <= compound


def test_the_name_is_outside_the_cli_contract() -> None:
    p = nlu.parse("我叫张三")
    assert p.person_name == "张三" and "person_name" not in p.contract()


@pytest.mark.parametrize("name, floor", [("names_a", 0.95), ("names_b", 0.95)])
def test_name_batches(name: str, floor: float) -> None:
    report = evaluate(DATA / f"{name}.jsonl")
    assert report["entity_exact_match"]["person_name"] >= floor
