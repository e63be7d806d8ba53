"""Text normalisation before matching: full-width to ASCII, traditional to simplified, case."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

# Full-width ASCII block (！..～) -> ASCII; ideographic space -> space.
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
# Keep Chinese punctuation that clause splitting relies on as it is; map the full-width comma etc. too.
_TABLE = str.maketrans(_FULLWIDTH)


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """Characters OpenCC's t2s table would change (single characters only)."""
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    chars: set[str] = set()
    with path.open(encoding="utf-8") as f:
        for line in f:
            src, _, dst = line.rstrip("\n").partition("\t")
            if len(src) == 1 and dst.split(" ")[0] != src:
                chars.add(src)
    return frozenset(chars)


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """OpenCC t2s, called only when the text holds a traditional character (it costs ~60 us a call)."""
    if _traditional_chars().isdisjoint(text):
        return text
    out: str = _converter().convert(text)
    return out if len(out) == len(text) else text


RESPELL = Path(__file__).parent / "data" / "respell.tsv"


@lru_cache(maxsize=1)
def _respellings() -> tuple[frozenset[str], re.Pattern[str], dict[str, str]]:
    """Dialect spellings and common typos (nlu/data/respell.tsv): first chars, one regex, the map."""
    table: dict[str, str] = {}
    with RESPELL.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            wrong, _, right = line.rstrip("\n").partition("\t")
            if len(wrong) != len(right) or not wrong:
                raise ValueError(f"{RESPELL}:{n}: a rewrite must keep the length: {line!r}")
            table[wrong] = right
    rx = re.compile("|".join(re.escape(w) for w in sorted(table, key=len, reverse=True)))
    return frozenset(w[0] for w in table), rx, table


def respell(text: str) -> str:
    """Rewrite dialect spellings and common typos to the words the lexicon knows (住哒院 -> 住了院)."""
    firsts, rx, table = _respellings()
    if firsts.isdisjoint(text):
        return text
    return rx.sub(lambda m: table[m.group(0)], text)


def normalize(text: str) -> str:
    """Same length as the input (offsets stay valid): width, traditional script, respelling, control
    chars, case."""
    text = text.translate(_TABLE)
    if not text.isascii():
        text = respell(to_simplified(text))
    if not text.isprintable():
        text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    return text.lower()
