"""Annex 1 is kept verbatim from the source and hashed over its exact bytes."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from cases import annex1
from tests.conftest import SHARED_DATA


def test_current_version_text_and_hash() -> None:
    text = annex1.text(annex1.CURRENT_VERSION)
    assert text.startswith("防止返贫监测对象个人申请及承诺授权书\n")
    assert "3.授权相关部门依法核实家庭存款、车辆、住房、工商注册、财政供养等相关信息。" in text
    assert "申请人签字（按手印）" in text
    assert "⑭其他。" in text
    raw = (Path(annex1.__file__).parent / "texts" / annex1.VERSIONS[annex1.CURRENT_VERSION]).read_bytes()
    assert annex1.sha256() == hashlib.sha256(raw).hexdigest() == annex1.sha256(annex1.CURRENT_VERSION)
    assert len(annex1.sha256()) == 64


def test_unknown_version() -> None:
    with pytest.raises(annex1.UnknownVersion):
        annex1.text("hunan-1999")


def test_every_line_is_in_the_source_annex() -> None:
    source = SHARED_DATA.parent / "domain" / "policy-excerpt.md"
    if not source.exists():
        pytest.skip("policy-excerpt.md is absent")
    body = source.read_text(encoding="utf-8").replace("\\_", "_")
    start = body.index("附件 1")
    annex = body[start : body.index("附件 3", start)]
    for line in annex1.text().splitlines():
        assert line in annex, line


# --- the text filled in for one household ------------------------------------------------------------

FULL = annex1.Filling(
    name="张三", id_number="430421197001013457", address="湖南省衡阳市衡阳县黄土铺镇长冲村", group="3组",
    size=4, risks=("05", "01"), guarantees=("A23",), other_text=None, signed_on=date(2026, 11, 23))


def test_filled_for_a_full_household() -> None:
    text = annex1.filled(FULL)
    assert ("姓名：张三，身份证号：430421********3457，"
            "家庭住址：湖南省衡阳市衡阳县黄土铺镇长冲村3组。家庭4口人。"
            "我家因②住房安全保障风险、⑥因病、⑩因意外事故存在返贫致贫风险") in text
    assert "430421197001013457" not in text
    assert "\n2026年11月23日\n" in text
    assert "_____" not in text and "____口" not in text and "\n年 月 日\n" not in text
    # everything else is the template word for word, and the template itself is unchanged
    blank = annex1.text()
    assert text.splitlines()[0] == blank.splitlines()[0]
    assert text.splitlines()[2:7] == blank.splitlines()[2:7]
    assert text.splitlines()[8:] == blank.splitlines()[8:]
    assert annex1.sha256() == hashlib.sha256(blank.encode("utf-8")).hexdigest()
    assert annex1.digest(text) == hashlib.sha256(text.encode("utf-8")).hexdigest() != annex1.sha256()


def test_filled_for_a_proxy_report_keeps_blanks() -> None:
    text = annex1.filled(annex1.Filling(name="李四", id_number=None, address=FULL.address,
                                        group=None, size=None, risks=("08",), signed_on=None))
    assert ("姓名：李四，身份证号：_____，"
            "家庭住址：湖南省衡阳市衡阳县黄土铺镇长冲村_____村民小组。家庭____口人。") in text
    assert "我家因⑬缺劳动力存在" in text
    assert "\n年 月 日\n" in text
    nothing = annex1.filled(annex1.Filling(name=None, id_number=None, address=None, group="2组", size=None))
    assert "姓名：_____，身份证号：_____，家庭住址：_____市（州）_____县（市区）" in nothing
    assert "我家因_____存在" in nothing
    assert nothing.splitlines()[1] == annex1.text().splitlines()[1]  # no address: the clause stays blank


def test_filled_other_reason_states_its_cause() -> None:
    text = annex1.filled(annex1.Filling(name="王五", id_number=None, address=None, group=None, size=2,
                                        risks=("09", "02"), other_text="房子被  大风\n吹倒了"))
    assert "我家因⑦因学、⑭其他（房子被 大风 吹倒了）存在返贫致贫风险" in text
    without = annex1.filled(annex1.Filling(name="王五", id_number=None, address=None, group=None, size=2,
                                           risks=("09",), other_text=None))
    assert "我家因⑭其他存在" in without


def test_reasons_use_annex_1_numbering_for_every_item() -> None:
    every = annex1.reasons([f"{n:02d}" for n in range(1, 10)], ["A23", "A24", "A25", "A26"], "x")
    assert every.startswith("②住房安全保障风险、③义务教育阶段适龄儿童少年失学辍学风险、④饮水安全风险、")
    assert every.endswith("⑫因务工就业不稳、⑬缺劳动力、⑭其他（x）")


def test_filled_unknown_version() -> None:
    with pytest.raises(annex1.UnknownVersion):
        annex1.filled(FULL, "hunan-1999")
