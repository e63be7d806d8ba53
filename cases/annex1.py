"""Annex 1, 《防止返贫监测对象个人申请及承诺授权书》, kept verbatim and versioned.

Source: Hunan implementation opinions (2021), 附件 1, as in ../shared/domain/policy-excerpt.md.
"第一步：提交申请。农户……签署授权依法查询家庭财产等信息的《防止返贫监测对象个人申请及承诺授权书》（附件1）".
A signature stores the version and the SHA-256 of the exact UTF-8 bytes of the text the person saw.
A changed text is a new file and a new version; old versions stay so old signatures remain verifiable.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

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
