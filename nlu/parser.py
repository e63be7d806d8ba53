"""The parser: normalise, pull out numbers, segment with the owned tokenizer, match the lexicon."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import jieba

from nlu import idnum, numbers
from nlu.gazetteer import Gazetteer
from nlu.lexicon import Lexicon, load
from nlu.normalize import normalize
from nlu.tokenizer import make_tokenizer
from nlu.types import Intent, Parse

CLAUSE_BREAK = frozenset(",.!?;:，。！？；：、\n\r\t ~…")
TURN_WORDS = frozenset({"但是", "可是", "不过", "就是", "只是", "但", "可", "而且", "还有", "另外", "并且"})
NEGATION_REACH = 3  # tokens between a negator and the word it negates
SHORT_REPLY = 12  # characters; consent/decline words count only in replies this short
SHORT_CODES: dict[str, Intent] = {"cx": "status", "sb": "report", "qx": "cancel", "rg": "human", "bz": "help",
                                  "y": "consent", "n": "decline"}
CODE_KEY = {"risk": "A27-", "disaster": "A27a-", "guarantee": ""}


@dataclass(slots=True)
class Match:
    start: int
    end: int
    word: str
    entries: tuple[tuple[str, str], ...]
    token: int  # index of the first token
    clause: int


class Parser:
    """One lexicon and one owned jieba.Tokenizer; `parse` is pure and thread-safe."""

    def __init__(self, lexicon: Lexicon | None = None, tokenizer: jieba.Tokenizer | None = None) -> None:
        self.lexicon = lexicon or load()
        self.tokenizer = tokenizer or make_tokenizer(self.lexicon.entries)
        self.first_chars = frozenset(w[0] for w in self.lexicon.entries)

    def tokens(self, text: str) -> list[str]:
        return self.tokenizer.lcut(text)  # type: ignore[no-any-return]

    def match(self, text: str) -> tuple[list[str], list[Match]]:
        """Tokens and the lexicon words found, leftmost-longest, starting and ending on token edges."""
        toks = self.tokens(text)
        entries = self.lexicon.entries
        # Matches start and end on token edges, or anywhere inside a token that is itself a lexicon
        # phrase (生病住院 holds 住院了's start).
        starts: dict[int, int] = {}
        ends: set[int] = set()
        pos = 0
        for k, t in enumerate(toks):
            starts[pos] = k
            if len(t) > 1 and t in entries:
                for q in range(pos + 1, pos + len(t)):
                    starts[q] = k
                    ends.add(q)
            pos += len(t)
            ends.add(pos)
        max_len = self.lexicon.max_len
        first = self.first_chars
        out: list[Match] = []
        clause = 0
        last_tok = -1
        for i, k in starts.items():
            tok = toks[k]
            if k != last_tok:
                last_tok = k
                if tok in TURN_WORDS or (len(tok) == 1 and tok in CLAUSE_BREAK) or tok.isspace():
                    clause += 1
                    continue
            if text[i] not in first:
                continue
            for j in range(min(len(text), i + max_len), i, -1):
                if j in ends and text[i:j] in entries:
                    if not (out and out[-1].end >= j):  # inside a longer word (没有 in 没有医保)
                        word = text[i:j]
                        out.append(Match(i, j, word, entries[word], k, clause))
                    break
        return toks, out

    def parse(self, text: str, gazetteer: Gazetteer | None = None) -> Parse:
        norm = normalize(text)
        ids, bad_ids, legacy, phones, masked = idnum.extract(norm)
        toks, matches = self.match(masked)
        negators = [m for m in matches if _has(m, "negator")]
        pasts = [m for m in matches if _has(m, "past")]
        resolved = [(m, code) for m in matches for kind, code in m.entries if kind == "resolved"]

        risks: dict[str, list[str]] = {}
        guarantees: dict[str, list[str]] = {}
        disasters: dict[str, list[str]] = {}
        urgent: dict[str, list[str]] = {}
        intents: dict[str, list[str]] = {}
        relation: str | None = None
        negated: list[str] = []
        cues: list[tuple[int, int]] = []
        for m in matches:
            neg = any(g.clause == m.clause and g.end <= m.start and m.token - g.token <= NEGATION_REACH
                      for g in negators)
            for kind, code in m.entries:
                if kind == "money_cue":
                    cues.append((m.start, m.end))
                elif kind in ("risk", "disaster", "guarantee"):
                    if neg or _resolved_after(m, code, resolved):
                        negated.append(m.word)
                        continue
                    table = {"risk": risks, "disaster": disasters, "guarantee": guarantees}[kind]
                    table.setdefault(code, []).append(m.word)
                    if kind == "disaster":
                        risks.setdefault("04", []).append(m.word)
                elif kind == "urgent":
                    if neg or _resolved_after(m, "urgent", resolved) or _resolved_after(m, "*", resolved):
                        negated.append(m.word)
                        continue
                    if any(p.clause == m.clause and p.start < m.start for p in pasts):
                        continue
                    urgent.setdefault(code, []).append(m.word)
                elif kind == "intent":
                    if neg and code == "consent":
                        intents.setdefault("decline", []).append(m.word)
                    elif not neg:
                        intents.setdefault(code, []).append(m.word)
                elif kind == "relation" and relation is None and not neg:
                    relation = code
        triggers: dict[str, list[str]] = {}
        for prefix, table in (("A27-", risks), ("A27a-", disasters), ("", guarantees)):
            for code, words in table.items():
                triggers[prefix + code] = _unique(words)
        if urgent:
            triggers["urgent"] = _unique([w for ws in urgent.values() for w in ws])
        intent = _intent(norm, intents, bool(risks or guarantees or disasters))
        if intents.get(intent):
            triggers["intent"] = _unique(intents[intent])
        return Parse(
            intent=intent,
            risks=sorted(risks),
            disasters=sorted(disasters),
            guarantees=sorted(guarantees),
            urgent=bool(urgent),
            amounts=numbers.amounts(masked, cues),
            household_size=numbers.household_size(masked),
            id_numbers=_unique(ids),
            invalid_id_numbers=_unique(bad_ids),
            phones=_unique(phones),
            place=gazetteer.find(masked) if gazetteer is not None else None,
            relation=relation,
            triggers=triggers,
            urgent_reasons=sorted(urgent),
            legacy_id_numbers=_unique(legacy),
            negated=_unique(negated),
        )


def _has(m: Match, kind: str) -> bool:
    return any(k == kind for k, _ in m.entries)


def _resolved_after(m: Match, code: str, resolved: list[tuple[Match, str]]) -> bool:
    """A resolved-state word after the match: same code anywhere later, '*' only in the same clause."""
    for r, rcode in resolved:
        if r.start < m.end:
            continue
        if rcode == code or (rcode == "*" and r.clause == m.clause):
            return True
    return False


_STRIP = re.compile(r"[\s,.!?;:，。！？；：、~…]+")


def _intent(norm: str, intents: dict[str, list[str]], has_codes: bool) -> Intent:
    bare = _STRIP.sub("", norm)
    if bare in SHORT_CODES:
        return SHORT_CODES[bare]
    short = len(bare) <= SHORT_REPLY and not has_codes
    if "cancel" in intents:
        return "cancel"
    if "human" in intents:
        return "human"
    if "status" in intents and not ("report" in intents and has_codes):
        return "status"
    if short and "decline" in intents:
        return "decline"
    if short and "consent" in intents:
        return "consent"
    if has_codes or "report" in intents:
        return "report"
    if "help" in intents:
        return "help"
    if "greeting" in intents:
        return "greeting"
    return "other"


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


_default: Parser | None = None
_lock = threading.Lock()


def default_parser() -> Parser:
    """The process-wide parser, built on first use (loads the tokenizer: ~0.2 s with jieba's cache)."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Parser()
    return _default


def parse(text: str, gazetteer: Gazetteer | None = None) -> Parse:
    """Parse one inbound message. Never raises on odd input; unknown text gives intent 'other'."""
    return default_parser().parse(text or "", gazetteer)
