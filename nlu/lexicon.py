"""Keyword tables loaded from nlu/data/lexicon.tsv: word -> (kind, code) entries."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

LEXICON = Path(__file__).parent / "data" / "lexicon.tsv"
KINDS = frozenset({"risk", "disaster", "guarantee", "urgent", "intent", "negator", "resolved",
                   "past", "habit", "money_cue", "blocker", "relation", "part", "combo", "suffix", "pattern",
                   "debt"})
CONTENT = frozenset({"risk", "disaster", "guarantee", "urgent", "part"})


@dataclass(frozen=True)
class Lexicon:
    """Every keyword with the (kind, code) pairs it raises, and the longest keyword length."""

    entries: dict[str, tuple[tuple[str, str], ...]]
    max_len: int
    by_kind: dict[str, frozenset[str]] = field(default_factory=dict)
    # (result kind, result code, part a, part b, mode): 房子 + 塌了 -> guarantee A23; mode is "+" (near, any
    # order, one clause), ">" (near, a first, one clause), "~" (anywhere in the message), "^" (a first, b
    # in its clause or at the head of the next, a clause without a subject of its own: 水井，上个月干了) or
    # "." (b right after a, at most one token between: 遭|了|水, where 水 at a distance means nothing)
    combos: tuple[tuple[str, str, str, str, str], ...] = ()
    # per combo (same order): parts that must occur in the message (&part) and parts that must not (!part)
    conditions: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    # codes that a debt word keeps raised although the illness or injury itself is over
    debt_keeps: frozenset[str] = frozenset()
    # (token suffix, kind, code): a token ending in 病 that the lexicon does not know -> risk 01
    suffixes: tuple[tuple[str, str, str], ...] = ()
    # (compiled regex, kind, code) for split verbs the tokens cannot show (住了一个星期院)
    patterns: tuple[tuple[re.Pattern[str], str, str], ...] = ()

    def words(self, kind: str) -> frozenset[str]:
        return self.by_kind.get(kind, frozenset())


def load(path: Path = LEXICON) -> Lexicon:
    """Read the TSV (kind, code, space-separated words); comments start with #."""
    entries: dict[str, list[tuple[str, str]]] = defaultdict(list)
    by_kind: dict[str, set[str]] = defaultdict(set)
    combos: list[tuple[str, str, str, str, str]] = []
    conditions: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    debt_keeps: set[str] = set()
    suffixes: list[tuple[str, str, str]] = []
    patterns: list[tuple[re.Pattern[str], str, str]] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3 or parts[0] not in KINDS:
                raise ValueError(f"{path}:{n}: expected kind<TAB>code<TAB>words, got {line!r}")
            kind, code, words = parts
            if kind == "pattern":
                rkind, _, rcode = code.partition(":")
                patterns.extend((re.compile(w), rkind, rcode) for w in words.split())
                continue
            if kind == "suffix":
                rkind, _, rcode = code.partition(":")
                suffixes.extend((w, rkind, rcode) for w in words.split())
                continue
            if kind == "combo":
                rkind, _, rcode = code.partition(":")
                for rule in words.split():
                    pair, *conds = re.split(r"(?=[&!])", rule)
                    mode = next((c for c in ">~^+." if c in pair), "+")
                    a, _, b = pair.partition(mode)
                    combos.append((rkind, rcode, a, b, mode))
                    conditions.append((tuple(c[1:] for c in conds if c[0] == "&"),
                                       tuple(c[1:] for c in conds if c[0] == "!")))
                continue
            if kind == "debt":
                debt_keeps.update(code.split(","))
            for word in words.split():
                w = word.lower()
                if (kind, code) not in entries[w]:
                    entries[w].append((kind, code))
                by_kind[kind].add(w)
    return Lexicon(
        entries={w: tuple(v) for w, v in entries.items()},
        max_len=max(len(w) for w in entries),
        by_kind={k: frozenset(v) for k, v in by_kind.items()},
        combos=tuple(combos),
        conditions=tuple(conditions),
        debt_keeps=frozenset(debt_keeps),
        suffixes=tuple(suffixes),
        patterns=tuple(patterns),
    )
