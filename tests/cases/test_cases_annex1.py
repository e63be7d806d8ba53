"""Annex 1 is kept verbatim from the source and hashed over its exact bytes."""

from __future__ import annotations

import hashlib
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
