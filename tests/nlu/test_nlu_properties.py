"""Property tests: no input raises, and the work grows linearly with the input (counted, never timed)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nlu
from nlu.gazetteer import Gazetteer

INTENTS = {"report", "status", "consent", "decline", "cancel", "help", "human", "greeting", "other"}

GAZ = Gazetteer.from_areas([
    ("430400000000", "衡阳市", "city", None), ("430422000000", "衡南县", "county", "430400000000"),
    ("430422122000", "松江镇", "township", "430422000000"),
    ("430422122245", "和平村", "village", "430422122000"),
])
MIXED = st.sampled_from(list("生病住院房子漏雨冇得钱三万五两千一万多口人家里没有不是，。！？ 0123456789Xx-")
                        + ["😀", "👨‍👩‍👧", "\x00", "\x1b", "\u200b", "\ufeff", "Ω", "ß", "한", "ア", "ق",
                           "\n", "\t", "衡南县", "和平村", "１３８", "萬", "醫院", "點", "负", "零"])


def _check(text: str) -> None:
    p = nlu.parse(text, GAZ)
    json.dumps(p.contract(), ensure_ascii=False)
    assert p.intent in INTENTS
    assert all(len(i) == 18 for i in p.id_numbers)
    assert all(a > 0 for a in p.amounts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_any_text_parses(text: str) -> None:
    _check(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(MIXED, max_size=120).map("".join))
def test_mixed_scripts_and_control_characters_parse(text: str) -> None:
    _check(text)


def test_edge_inputs() -> None:
    for text in ("", " ", "\x00" * 50, "😀" * 3000, "一" * 10_000, "9" * 10_000, "病" * 10_000,
                 "没有" * 5000, "花了三万五" * 2000, "衡南县" * 3000, "。" * 10_000,
                 "\u202e" + "房子漏雨" * 100,
                 "x" * 10_000, "1.1." * 2500, "三五百" * 3000, "430422" * 1700):
        _check(text)


def _steps(fn: Callable[[], Any]) -> int:
    """Python line events while fn runs: a machine-independent count of the work done."""
    count = 0

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(old)
    return count


def _growth(unit: str) -> float:
    nlu.parse(unit * 8, GAZ)  # warm caches (numeral lru_cache, lazy imports) before counting
    small = _steps(lambda: nlu.parse(unit * 40, GAZ))
    large = _steps(lambda: nlu.parse(unit * 160, GAZ))
    return large / max(small, 1)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MIXED, min_size=1, max_size=12).map("".join))
def test_work_grows_linearly(unit: str) -> None:
    assert _growth(unit) <= 4 * 1.35, unit  # 4x the input: at most ~4x the work


def test_work_grows_linearly_on_adversarial_units() -> None:
    for unit in ("没有人生病，", "三万五", "一二三四五六七八九十", "13912345678 ", "11010519491231002X",
                 "衡南县松江镇和平村", "房子", "住院了", "不不不", "家里五口人"):
        assert _growth(unit) <= 4 * 1.35, unit


def test_work_grows_linearly_on_long_repeats_of_units_hypothesis_found() -> None:
    """Found by test_work_grows_linearly: every 房 compared with every 漏 (the two-part rules), every
    numeral with every money word (amounts); and, looking further, every hardship with every resolved
    word (住院了，已经好了) and every name candidate with every lexicon match (names). Quadratic work
    shows clearly only on longer text."""
    for unit in ("房，漏生生生生生生", "點\t漏是9钱5钱。家萬9", "住院了，已经好了。", "房子漏雨已经修好了，",
                 "里有个五保户房子要倒了，"):
        nlu.parse(unit * 8, GAZ)
        small = _steps(lambda unit=unit: nlu.parse(unit * 160, GAZ))
        large = _steps(lambda unit=unit: nlu.parse(unit * 640, GAZ))
        assert large / small <= 4 * 1.35, unit


def test_output_size_is_bounded_by_input() -> None:
    p = nlu.parse("花了三万五，" * 1000)
    assert len(p.amounts) <= 1000
    assert len(json.dumps(p.contract())) < 100_000
