"""The first cut of the parse contract: keys, intents, codes, negation, entities."""

from __future__ import annotations

import nlu

CONTRACT_KEYS = ["intent", "risks", "disasters", "guarantees", "urgent", "amounts", "household_size",
                 "id_numbers", "phones", "place"]


def test_contract_keys_exactly() -> None:
    assert list(nlu.parse("你好").contract()) == CONTRACT_KEYS


def test_illness_amount_urgency() -> None:
    p = nlu.parse("我家老倌子上个月生病住院了，花了三万五，屋里冇得钱了")
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
