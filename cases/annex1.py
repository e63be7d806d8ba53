"""Annex 1, 《防止返贫监测对象个人申请及承诺授权书》, kept verbatim and versioned.

Source: Hunan implementation opinions (2021), 附件 1, as in ../shared/domain/policy-excerpt.md.
"第一步：提交申请。农户……签署授权依法查询家庭财产等信息的《防止返贫监测对象个人申请及承诺授权书》（附件1）".
A signature stores the version and the SHA-256 of the exact UTF-8 bytes of the text the person saw.
A changed text is a new file and a new version; old versions stay so old signatures remain verifiable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from babel.dates import format_date

from cases.codes import ANNEX1_ITEMS, RISK_OTHER
from cases.crypto import mask_id

TEXTS = Path(__file__).parent / "texts"
VERSIONS: dict[str, str] = {"hunan-2021-v1": "annex1-hunan-2021-v1.zh.txt"}
CURRENT_VERSION = "hunan-2021-v1"
TITLE = "防止返贫监测对象个人申请及承诺授权书"


class UnknownVersion(KeyError):
    """No annex 1 text with this version."""


@cache
def text(version: str = CURRENT_VERSION) -> str:
    """The exact text of a version."""
    try:
        name = VERSIONS[version]
    except KeyError:
        raise UnknownVersion(version) from None
    return (TEXTS / name).read_bytes().decode("utf-8")


def sha256(version: str = CURRENT_VERSION) -> str:
    """Hex SHA-256 of the version's UTF-8 bytes."""
    return hashlib.sha256(text(version).encode("utf-8")).hexdigest()


# --- the text filled in for one household, as a village cadre fills the paper form -------------------

BLANK = "_____"
_PERSON = "姓名：_____，身份证号：_____，"
_ADDRESS = "家庭住址：_____市（州）_____县（市区）_____乡（镇、街道）_____村（社区）_____村民小组。"
_SIZE = "家庭____口人。"
_REASONS = "我家因_____存在"
_DATE = "\n年 月 日\n"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭"


@dataclass(frozen=True)
class Filling:
    """What fills annex 1's blanks; None (or empty) leaves a blank. `id_number` is shown masked."""

    name: str | None
    id_number: str | None
    address: str | None  # written from the province down to the village, e.g. 湖南省衡阳市…长冲村
    group: str | None  # 村民小组 as given, e.g. 3组
    size: int | None
    risks: tuple[str, ...] = ()  # A27 codes "01".."09"
    guarantees: tuple[str, ...] = ()  # A23..A26
    other_text: str | None = None  # the cause written for ⑭其他
    signed_on: date | None = None


def reasons(risks: tuple[str, ...] | list[str], guarantees: tuple[str, ...] | list[str],
            other_text: str | None) -> str:
    """The reasons in annex 1's own numbering and words: ⑥因病、⑭其他（老伴病故）."""
    chosen = set(risks) | set(guarantees)
    words = []
    for item in ANNEX1_ITEMS:
        if (item.code or item.field) not in chosen:
            continue
        word = _CIRCLED[item.annex1_no - 1] + item.name
        if item.code == RISK_OTHER and other_text and other_text.strip():
            word += "（" + " ".join(other_text.split()) + "）"
        words.append(word)
    return "、".join(words)


def filled(filling: Filling, version: str = CURRENT_VERSION) -> str:
    """The version's text with the household's details written into its blanks (unknown ones stay blank)."""
    out = text(version)
    for clause in (_PERSON, _ADDRESS, _SIZE, _REASONS, _DATE):
        if out.count(clause) != 1:
            raise ValueError(f"annex 1 version {version!r} lacks the clause {clause!r}")
    person = f"姓名：{filling.name or BLANK}，身份证号：{mask_id(filling.id_number) or BLANK}，"
    if filling.address:
        address = f"家庭住址：{filling.address}{filling.group or BLANK + '村民小组'}。"
    else:
        address = _ADDRESS
    size = f"家庭{filling.size}口人。" if filling.size else _SIZE
    said = reasons(filling.risks, filling.guarantees, filling.other_text)
    day = format_date(filling.signed_on, format="long", locale="zh_CN") if filling.signed_on else "年 月 日"
    for clause, value in ((_PERSON, person), (_ADDRESS, address), (_SIZE, size),
                          (_REASONS, f"我家因{said or BLANK}存在"), (_DATE, f"\n{day}\n")):
        out = out.replace(clause, value)
    return out


def digest(value: str) -> str:
    """Hex SHA-256 of a text's UTF-8 bytes (what a signature records of the text shown)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
