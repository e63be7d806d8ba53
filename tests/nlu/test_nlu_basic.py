"""The first cut of the parse contract: keys, intents, codes, negation, entities."""

from __future__ import annotations

import nlu

CONTRACT_KEYS = ["intent", "risks", "disasters", "guarantees", "urgent", "amounts", "household_size",
                 "id_numbers", "phones", "place"]


def test_contract_keys_exactly() -> None:
    assert list(nlu.parse("你好").contract()) == CONTRACT_KEYS


def test_illness_amount_urgency() -> None:
    p = nlu.parse("我家老倌子前天生病住院了，花了三万五，屋里冇得钱了")
    assert p.intent == "report"
    assert p.risks == ["01"]
    assert p.urgent is True
    assert p.amounts == [35000]
    assert p.triggers["A27-01"] == ["生病住院"]
    assert any("住院" in w for w in p.triggers["urgent"])


def test_negation_and_resolved_raise_nothing() -> None:
    for text in ("家里没有人生病", "房子去年修好了不漏了", "孩子已经回学校了"):
        p = nlu.parse(text)
        assert (p.risks, p.guarantees, p.urgent) == ([], [], False), text


def test_flood_and_house() -> None:
    p = nlu.parse("村里发大水，房子被冲垮了，现在住在亲戚家")
    assert p.disasters == ["01"]
    assert "04" in p.risks
    assert p.guarantees == ["A23"]
    assert p.urgent


def test_short_codes() -> None:
    assert nlu.parse("CX").intent == "status"
    assert nlu.parse("sb").intent == "report"
    assert nlu.parse("TD").intent == "other"  # unsubscribe belongs to the SMS adapter
    assert nlu.parse("取消申报").intent == "cancel"


def test_recurring_hardship_is_not_urgent_but_current_hardship_is() -> None:
    for text in ("吃的是山上的泉水，天干就没水吃", "老人有老慢支，一到冬天就住院", "每年都要住院好几次"):
        assert nlu.parse(text).urgent is False, text
    for text in ("屋里自来水管坏了，一个多礼拜冇得水吃", "老伴现在在医院抢救", "发大水，屋里没饭吃了"):
        assert nlu.parse(text).urgent is True, text


def test_words_between_the_parts_of_a_phrase() -> None:
    assert nlu.parse("屋里冇得别的劳力").risks == ["08"]
    assert nlu.parse("家里没有其他劳动力").risks == ["08"]
    assert nlu.parse("有劳力，就是没活干").risks == ["07"]
    assert nlu.parse("奶奶身体也不好").risks == ["01"]
    assert nlu.parse("我崽十六岁，不肯去学堂").guarantees == ["A24"]


def test_a_call_from_someone_else_is_not_a_request_for_a_person() -> None:
    assert nlu.parse("被人骗了八万块，天天有人打电话催债").intent == "report"
    assert nlu.parse("打电话给我，我不会打字").intent == "human"
    assert nlu.parse("不签，我再想想").intent == "decline"
    assert nlu.parse("这个是干么子的").intent == "help"


def test_the_parser_owns_its_tokenizer_and_leaves_jiebas_global_one_alone() -> None:
    import jieba

    from nlu.parser import default_parser

    nlu.parse("屋里冇得劳力，堂客生病住院了")
    tokenizer = default_parser().tokenizer
    assert tokenizer is not jieba.dt and isinstance(tokenizer, jieba.Tokenizer)
    assert "冇得劳力" in tokenizer.FREQ  # a domain word of the lexicon
    assert "冇得劳力" not in jieba.dt.FREQ  # never added to the process-wide tokenizer


def test_a_disaster_found_by_a_pattern_is_also_risk_04() -> None:
    p = nlu.parse("两个多月没下一滴雨，稻子都枯了")
    assert (p.disasters, p.risks) == (["03"], ["04"])
    assert nlu.parse("我细伢子脑子不太灵光，学校不收").risks == ["03"]


def test_a_code_word_inside_a_case_number_or_phone_is_not_the_code() -> None:
    """'rg' (人工) and 'qx' (取消) inside a case number, '12317' inside a phone number, were read as asking
    for a person or cancelling (a status lookup by case number went to the call-back, 1 number in 25)."""
    assert nlu.parse("SBRG2K9QXA").intent == "other"
    assert nlu.parse("SB7K2M9QRG").intent == "other"
    assert nlu.parse("我的电话13812317000").intent != "human"
    assert nlu.parse("rg").intent == "human" and nlu.parse("打12317").intent == "human"
