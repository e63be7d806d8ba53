"""smstext.split: every part fits the segment cap and nothing of the text is lost (S7's rule, any text)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import smstext

_PIECES = st.sampled_from(["申", "报", "a", "B", "7", " ", "\n", "^", "€", "😀", "，", "。", "(", "é"])
_MARKER = re.compile(r"^\(\d+/\d+\) ")


@settings(max_examples=150, deadline=None)
@given(pieces=st.lists(_PIECES, min_size=0, max_size=1600), cap=st.integers(min_value=1, max_value=8))
def test_S7_split_parts_fit_the_cap_and_keep_every_character(pieces: list[str], cap: int) -> None:
    text = "".join(pieces)
    parts = smstext.split(text, max_segments=cap)
    assert all(smstext.segments(p) <= cap for p in parts)
    if len(parts) > 1:
        assert all(_MARKER.match(p) for p in parts)
    bare = [_MARKER.sub("", p) for p in parts] if len(parts) > 1 else parts
    squeeze = re.compile(r"\s+")
    assert squeeze.sub("", "".join(bare)) == squeeze.sub("", smstext.strip_urls(text))


def test_S7_a_line_that_fits_a_part_of_its_own_is_not_broken() -> None:
    lines = ["第" + str(i) + "行" + "字" * 60 for i in range(12)]
    parts = smstext.split("\n".join(lines), max_segments=2)
    for p in parts:  # every part holds whole lines only
        body = _MARKER.sub("", p)
        assert all(line in lines for line in body.split("\n"))


@given(st.lists(_PIECES, max_size=40).map("".join))
def test_gsm7_means_every_character_is_in_the_basic_or_extended_table(text: str) -> None:
    expected = all(ch in smstext.GSM7_BASIC or ch in smstext.GSM7_EXTENDED for ch in text)
    assert smstext.is_gsm7(text) is expected
    assert smstext.segments("€" * 80) == 1 and smstext.segments("€" * 81) == 2  # an extended char is 2
    assert smstext.segments("a" * 160) == 1 and smstext.segments("申" * 71) == 2
