"""nlu.parse keeps the parses of short texts: the same answers as parsing afresh, per gazetteer."""

from __future__ import annotations

import gc

import nlu
from nlu import parser as nlu_parser
from nlu.gazetteer import Gazetteer
from nlu.parser import MEMO_MAX_CHARS, default_parser

ROWS = [("430000", "湖南省", "province", None), ("430400", "衡阳市", "city", "430000"),
        ("430421", "衡阳县", "county", "430400"), ("430421101", "西渡镇", "township", "430421"),
        ("430421101201", "梅花村", "village", "430421101")]
OTHER = [("430000", "湖南省", "province", None), ("431100", "永州市", "city", "430000"),
         ("431121", "祁阳县", "county", "431100"), ("431121102", "黎家坪镇", "township", "431121"),
         ("431121102203", "梅花村", "village", "431121102")]


def test_a_kept_parse_is_the_one_parsing_afresh_gives() -> None:
    gaz = Gazetteer.from_areas(ROWS)
    for text in ["1", "同意", "不同意", "张三", "4口人", "西渡镇梅花村", "借了两万块", "", "  "]:
        assert len(text) <= MEMO_MAX_CHARS
        first, again = nlu.parse(text, gaz), nlu.parse(text, gaz)
        assert again is first  # kept
        assert first == default_parser().parse(text, gaz)
    assert nlu.parse("同意").intent == "consent"


def test_each_gazetteer_keeps_its_own_parses() -> None:
    here, there = Gazetteer.from_areas(ROWS), Gazetteer.from_areas(OTHER)
    near = nlu.parse("梅花村", here).place
    far = nlu.parse("梅花村", there).place
    assert near is not None and not isinstance(near, list) and near.code == "430421101201"
    assert far is not None and not isinstance(far, list) and far.code == "431121102203"
    assert nlu.parse("梅花村").place is None  # and none without a gazetteer


def test_a_long_text_is_parsed_every_time() -> None:
    text = "我老伴生病住院了，花了好多钱，房子也漏雨"
    assert len(text) > MEMO_MAX_CHARS
    first, again = nlu.parse(text), nlu.parse(text)
    assert again is not first and again == first
    assert first.risks and first.guarantees


def test_a_dropped_gazetteer_takes_its_kept_parses_with_it() -> None:
    gaz = Gazetteer.from_areas(ROWS)
    nlu.parse("梅花村", gaz)
    assert gaz in nlu_parser._memos
    count = len(nlu_parser._memos)
    del gaz
    gc.collect()
    assert len(nlu_parser._memos) == count - 1
