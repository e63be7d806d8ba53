"""The owned jieba Tokenizer: a trimmed main dictionary plus the domain user dictionary, cached in tmp."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import jieba

DATA = Path(__file__).parent / "data"
USERDICT = DATA / "userdict.txt"
# Words of jieba's 349k dictionary kept (by frequency). Loading the full dictionary from its marshal
# cache takes ~1 s on the target machine; the top 60k words load in ~0.2 s and segment the same.
MAIN_WORDS = 60_000
DOMAIN_FREQ = 2_000

jieba.setLogLevel(logging.WARNING)


def cache_dir() -> Path:
    """Where the trimmed dictionary and jieba's cache live (SHENBAO_NLU_CACHE, else the tmp dir)."""
    base = os.environ.get("SHENBAO_NLU_CACHE") or os.path.join(tempfile.gettempdir(), "shenbao-nlu")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _jieba_dict() -> Path:
    return Path(jieba.__file__).parent / "dict.txt"


def trimmed_dictionary(words: int = MAIN_WORDS) -> Path:
    """jieba's bundled dictionary cut to its most frequent words, written once per content version."""
    src = _jieba_dict()
    stat = src.stat()
    key = hashlib.sha1(f"{src}:{stat.st_size}:{stat.st_mtime_ns}:{words}".encode()).hexdigest()[:12]
    out = cache_dir() / f"dict-{key}.txt"
    if out.exists():
        return out
    with src.open(encoding="utf-8") as f:
        rows = [line.split() for line in f if line.strip()]
    rows.sort(key=lambda r: -int(r[1]))
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in rows[:words]:
            f.write(" ".join(r) + "\n")
    os.replace(tmp, out)
    return out


def dictionary_names(dictionary: Path) -> frozenset[str]:
    """Words the dictionary tags as person names (nr), cached beside it: building reads the whole
    dictionary (~0.1 s), the cached list loads in a few ms."""
    out = cache_dir() / f"names-{dictionary.stem}.txt"
    if not out.exists():
        with dictionary.open(encoding="utf-8") as f:
            names = [p[0] for p in (line.split() for line in f) if len(p) == 3 and p[2] == "nr"]
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text("\n".join(names), encoding="utf-8")
        os.replace(tmp, out)
    return frozenset(out.read_text(encoding="utf-8").split())


def make_tokenizer(extra_words: Iterable[str] = (), *, trimmed: bool = True) -> jieba.Tokenizer:
    """A new jieba.Tokenizer (never the global one) with the user dictionary and extra domain words."""
    dictionary = trimmed_dictionary() if trimmed else _jieba_dict()
    tk = jieba.Tokenizer(str(dictionary))
    tk.tmp_dir = str(cache_dir())
    tk.cache_file = f"jieba-{dictionary.stem}.cache"
    tk.initialize()
    tk.load_userdict(str(USERDICT))
    for w in extra_words:
        if len(w) > 1 and tk.FREQ.get(w, 0) < DOMAIN_FREQ:
            tk.add_word(w, DOMAIN_FREQ)
    return tk
