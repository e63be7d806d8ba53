"""Keyword tables loaded from nlu/data/lexicon.tsv: word -> (kind, code) entries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

LEXICON = Path(__file__).parent / "data" / "lexicon.tsv"
KINDS = frozenset({"risk", "disaster", "guarantee", "urgent", "intent", "negator", "resolved",
                   "past", "money_cue", "blocker", "relation"})


@dataclass(frozen=True)
class Lexicon:
    """Every keyword with the (kind, code) pairs it raises, and the longest keyword length."""

    entries: dict[str, tuple[tuple[str, str], ...]]
    max_len: int
    by_kind: dict[str, frozenset[str]] = field(default_factory=dict)

    def words(self, kind: str) -> frozenset[str]:
        return self.by_kind.get(kind, frozenset())


def load(path: Path = LEXICON) -> Lexicon:
    """Read the TSV (kind, code, space-separated words); comments start with #."""
    entries: dict[str, list[tuple[str, str]]] = defaultdict(list)
    by_kind: dict[str, set[str]] = defaultdict(set)
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3 or parts[0] not in KINDS:
                raise ValueError(f"{path}:{n}: expected kind<TAB>code<TAB>words, got {line!r}")
            kind, code, words = parts
            for word in words.split():
                w = word.lower()
                if (kind, code) not in entries[w]:
                    entries[w].append((kind, code))
                by_kind[kind].add(w)
    return Lexicon(
        entries={w: tuple(v) for w, v in entries.items()},
        max_len=max(len(w) for w in entries),
        by_kind={k: frozenset(v) for k, v in by_kind.items()},
    )
