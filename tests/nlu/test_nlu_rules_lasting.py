"""Rules added from the heldout_b/heldout_c batches, each with its negative or resolved counterpart."""

from __future__ import annotations

from pathlib import Path

import pytest

import nlu
from nlu.lexicon import load
from nlu.normalize import normalize

Codes = tuple[list[str], list[str], bool]


def codes(text: str) -> Codes:
    p = nlu.parse(text)
    return p.risks, p.guarantees, p.urgent


def test_respellings_keep_the_length_and_leave_other_words_alone() -> None:
    for text in ("房子垮哒一半", "屋里冇恰饭", "孩子缀学在家", "房子倒榻了", "恰好恰当"):
        assert len(normalize(text)) == len(text)
    assert normalize("恰好恰当") == "恰好恰当"
    assert codes("好造孽，房子垮哒") == ([], ["A23"], True)
    assert nlu.parse("屋里冇得恰的哒，好几天冇恰饭").urgent is True
    assert codes("孩子缀学在家") == ([], ["A24"], False)
    assert codes("房子倒榻了") == ([], ["A23"], True)


@pytest.mark.parametrize("text, risks", [
    ("病是治好了，钱也花光了", ["01"]),
    ("去年住院花了五万，现在还欠着债", ["01"]),
    ("去年做了心脏搭桥，现在好了，就是欠了亲戚六万块钱", ["01"]),
    ("车祸受的伤早好了，可是借的钱还没还清", ["05"]),
    # the resolved counterparts: over, and nothing owed
    ("病好了", []),
    ("以前住过院，现在好了", []),
    ("病好了，也没欠钱", []),
    ("车祸受的伤早好了", []),
])
def test_a_debt_outlasts_a_resolved_illness_or_injury_not_its_urgency(text: str, risks: list[str]) -> None:
    p = nlu.parse(text)
    assert (p.risks, p.urgent) == (risks, False)


@pytest.mark.parametrize("text, expected", [
    ("疫情以后一直没找到事做", (["07"], [], False)),
    ("儿子找到事做了", ([], [], False)),
    ("奶奶住院住了一个多月还没出院", (["01"], [], True)),
    ("奶奶出院了", ([], [], False)),
    ("房子还没修好", ([], ["A23"], False)),
    ("房子修好了", ([], [], False)),
    ("孙女十三岁了不肯去读书了", ([], ["A24"], False)),
    ("孩子又去读书了", ([], [], False)),
])
def test_a_negated_resolved_state_is_the_hardship(text: str, expected: Codes) -> None:
    assert codes(text) == expected


@pytest.mark.parametrize("text, urgent", [
    ("上个月住院花了两万多，医保报了一点", False),
    ("前年我爸住了三个月院，欠下八万块钱的账", False),
    ("三月份住过一次院，花了一万二", False),
    ("监测户王某，今年因病住院两次", False),
    ("我妈正在住院，医生说要做手术", True),
    ("老伴还在医院，已经住了半个月了", True),
    ("我家老倌子前天生病住院了", True),
    ("我妈上个月住院，现在还在医院", True),
])
def test_a_stay_in_hospital_months_ago_or_counted_is_not_urgent(text: str, urgent: bool) -> None:
    p = nlu.parse(text)
    assert p.risks == ["01"] and p.urgent is urgent


@pytest.mark.parametrize("text, size", [
    ("我一个人带两个孙子，儿子儿媳在外面打工不管", 3),
    ("我和老伴带着三个孙子过日子", 5),
    ("我和两个崽相依为命", 3),
    ("我们两口子都六十多了，还带着一个外孙", 3),
    ("剩个堂客带两个伢子", 3),
    ("两个孙子跟着我和老伴过", 4),
    ("屋里三个老的两个小的", 5),
    ("我和老伴，还有一个傻儿子，三个人过", 3),
    ("我跟老伴养着一个残疾的孙子", 3),
    ("该户2人，均为残疾人", 2),
    ("家里有老人孩子共6人", 6),
    # not a household
    ("我带两个孙子去医院", None),
    ("我跟村长说了", None),
    ("我们两口子开了个早餐店", None),
    ("家里有2人在外打工", None),
])
def test_household_told_by_who_lives_with_whom(text: str, size: int | None) -> None:
    assert nlu.parse(text).household_size == size


@pytest.mark.parametrize("text, risks", [
    ("我在餐馆洗碗，餐馆关门了", ["07"]),
    ("饭店生意不行关门了，我在里面炒菜的", ["07"]),
    ("我开的餐馆关门了", ["06"]),
    ("生意不好关门了", ["06"]),
    ("厂子倒闭了，没活干", ["07"]),
    ("矿关了以后一直在家", ["07"]),
    ("儿子在工地开塔吊的，工程停了", ["07"]),
    ("半年没拿到一分钱", ["07"]),
    ("工钱拿到了", []),
    ("今年外面不好找活", ["07"]),
])
def test_lost_work_and_failed_business(text: str, risks: list[str]) -> None:
    assert nlu.parse(text).risks == risks


def test_compensation_after_an_accident_is_not_a_loss() -> None:
    assert nlu.parse("儿子工伤赔了八千").risks == ["05"]
    assert nlu.parse("养猪赔了八千").risks == ["06"]


@pytest.mark.parametrize("text, risks", [
    ("男人前年走了", ["08"]),
    ("儿子去年出车祸死了", ["05", "08"]),
    ("他屋里老倌子过身哒", ["08"]),
    ("儿子出去打工走了", []),
    ("冇得人照顾", ["08"]),
    ("有人照顾", []),
    ("我和老伴带着三个孙子", ["08"]),
    ("两个孙子跟着我过", ["08"]),
    ("孙子十五岁跟着村里人去浙江打工了", []),
    ("屋里就我和老伴两个老的", ["08"]),
    ("屋里老娘八十好几哒", ["08"]),
    ("年纪大了干不动", ["08"]),
    ("我五十五了，厂里说年纪大了不要了", ["07"]),
])
def test_who_is_left_to_work(text: str, risks: list[str]) -> None:
    assert nlu.parse(text).risks == risks


def test_jailed_or_run_off_is_other() -> None:
    assert nlu.parse("老公被抓进去了，判了五年").risks == ["09"]
    assert nlu.parse("我堂客跟别个跑哒").risks == ["09"]
    assert nlu.parse("老公在外面跑运输").risks == []


def test_schooling_costs_need_a_money_word_near_the_school_word() -> None:
    assert nlu.parse("读大专，一年要三万多").risks == ["02"]
    assert nlu.parse("屋里五个人，三个是读书的").risks == ["02"]
    assert nlu.parse("欠了二十万的债，两个伢子一个读初中").risks == []
    assert nlu.parse("两个细伢子还在读小学").risks == []


def test_replies_greetings_and_relations() -> None:
    assert nlu.parse("不签，我要问问我儿子").intent == "decline"
    assert nlu.parse("早").intent == "greeting"
    assert nlu.parse("腿伤早好了，不用管了").intent == "other"
    assert nlu.parse("5组刘某家，房屋后墙垮塌，现借住邻居家").relation is None
    assert nlu.parse("邻居家房子塌了，我帮他报").relation == "邻居"
    assert nlu.parse("一共借了亲戚朋友十一万八").relation is None


def test_about_ten_thousand() -> None:
    assert nlu.parse("一年收入也就万把块钱").amounts == [10000]
    assert nlu.parse("住了个把月").amounts == []
    assert nlu.parse("车被扣了还罚了两万").amounts == [20000]


def test_combo_conditions_are_read_from_the_table(tmp_path: Path) -> None:
    table = tmp_path / "lexicon.tsv"
    table.write_text("part\tbiz\t店\npart\tshut\t关了\npart\tworker\t洗碗\npart\towner\t我开\n"
                     "combo\trisk:07\tbiz~shut&worker!owner\ndebt\t01,05\t欠\n", encoding="utf-8")
    lex = load(table)
    assert lex.combos == (("risk", "07", "biz", "shut", "~"),)
    assert lex.conditions == ((("worker",), ("owner",)),)
    assert lex.debt_keeps == frozenset({"01", "05"})
    parser = nlu.Parser(lexicon=lex)
    assert parser.parse("我在店里洗碗，店关了").risks == ["07"]
    assert parser.parse("我开的店关了，我在里面洗碗").risks == []
    assert parser.parse("店关了").risks == []


@pytest.mark.parametrize("text, risks", [
    ("老公因为肝癌晚期上个礼拜走了", ["01", "08"]),
    ("她家男的去年工地出事死了", ["05", "08"]),
    ("儿子去医院看病走了", ["01"]),
    ("我一个人在外面打工养他们", ["08"]),
    ("老伴瘫痪八年了，我天天伺候，出不了门", ["03", "08"]),
    ("去年养了五百只羊，得了病死了一半", ["06"]),
    ("羊死了，老伴又生病了", ["01", "06"]),
    ("牛栏被泥石流冲垮了，牛也压死了", ["04", "06"]),
    ("厂里的活越来越少，一个月只能做十几天", ["07"]),
    ("我老公在外面欠了赌债跑了", ["09"]),
])
def test_third_batch_rules(text: str, risks: list[str]) -> None:
    assert nlu.parse(text).risks == risks


def test_third_batch_guarantees_and_intents() -> None:
    assert nlu.parse("合作医疗去年忘记交了").guarantees == ["A26"]
    assert nlu.parse("今年雨水少，水库都见底了").disasters == ["03"]
    assert codes("他屋顶塌了个洞") == ([], ["A23"], False)
    assert codes("房子塌了") == ([], ["A23"], True)
    assert codes("房子还没修，一下雨还是漏") == ([], ["A23"], False)
    assert codes("房子修了，不漏了") == ([], [], False)
    assert nlu.parse("这个要交钱吗").intent == "help"
    assert nlu.parse("给我打个电话吧，打字太慢了").intent == "human"
    assert nlu.parse("我帮我老表问一下，他家的牛被雷打死了").relation == "表亲"
