"""SMS text rules: GSM-7 or UCS-2 segment counting, at most 8 segments per message, no URLs.

SMS is paid per segment. A message of GSM-7 characters fits 160 in one segment, 153 per part when
concatenated; anything else (Chinese) is UCS-2: 70 in one, 67 per part. Characters outside the Basic
Multilingual Plane (most emoji) take two UCS-2 code units.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"
_GSM7 = frozenset(GSM7_BASIC)
_GSM7_EXT = frozenset(GSM7_EXTENDED)
_GSM7_ALL = _GSM7 | _GSM7_EXT
MAX_SEGMENTS = 8
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


def is_gsm7(text: str) -> bool:
    return _GSM7_ALL.issuperset(text)


def units(text: str) -> int:
    """Length in the encoding's units: septets for GSM-7 (extension chars count 2), UTF-16 units otherwise."""
    return _septets(text) if is_gsm7(text) else _utf16_units(text)


def segments(text: str) -> int:
    """How many SMS segments `text` costs (0 for an empty text)."""
    n = units(text)
    if n == 0:
        return 0
    single, part = (160, 153) if is_gsm7(text) else (70, 67)
    return 1 if n <= single else -(-n // part)


def strip_urls(text: str) -> str:
    """SMS carries no links (carriers filter them and elderly users are told never to tap them)."""
    return re.sub(r"[ \t]{2,}", " ", _URL.sub("", text)).strip()


def split(text: str, max_segments: int = MAX_SEGMENTS) -> list[str]:
    """Split a long text into messages of at most `max_segments` segments each, at line ends if possible."""
    text = strip_urls(text)
    if segments(text) <= max_segments:
        return [text] if text else []
    size = _septets if is_gsm7(text) else _utf16_units  # the whole message's encoding
    budget = (153 if size is _septets else 67) * max_segments - 8  # room for a "(1/3)" marker
    parts: list[str] = []
    current, used = "", 0  # `used` is size(current), kept as lines are added (not recounted)
    for line in text.splitlines(keepends=True):
        n = size(line)
        if used + n > budget and n <= budget and current:
            parts.append(current)  # a line that fits a part of its own is not broken
            current, used = "", 0
        while used + n > budget:
            head, line = _cut(line, budget - used, size)
            parts.append(current + head)
            current, used, n = "", 0, size(line)
        current, used = current + line, used + n
    if current:
        parts.append(current)
    parts = [p.strip() for p in parts if p.strip()]
    total = len(parts)
    return [f"({i}/{total}) {p}" for i, p in enumerate(parts, 1)]


def _septets(text: str) -> int:
    return sum(2 if ch in _GSM7_EXT else 1 for ch in text)


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(line: str, budget: int, size: Callable[[str], int]) -> tuple[str, str]:
    """The longest head of `line` within `budget` units, never splitting a surrogate pair."""
    used = 0
    for i, ch in enumerate(line):
        used += size(ch)
        if used > budget:
            return line[:i], line[i:]
    return line, ""


def with_choices(body: str, choices: Sequence[str]) -> str:
    """Numbered choices written under the text, for channels without keyboards (SMS, WeChat)."""
    missing = [c for c in choices if c not in body]
    lines = [c if c[:1].isdigit() else f"{i}. {c}" for i, c in enumerate(missing, 1)]
    return "\n".join([body, *lines]) if lines else body
