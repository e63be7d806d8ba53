"""The parser: normalise, pull out numbers, segment with the owned tokenizer, match the lexicon."""

from __future__ import annotations

import re
import threading
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jieba

from nlu import idnum, names, numbers
from nlu.gazetteer import Gazetteer
from nlu.lexicon import CONTENT, Lexicon, load
from nlu.normalize import normalize
from nlu.tokenizer import dictionary_names, make_tokenizer
from nlu.types import Intent, Parse

CLAUSE_BREAK = frozenset(",.!?;:，。！？；：、\n\r\t ~…")
TURN_WORDS = frozenset({"但是", "可是", "不过", "就是", "只是", "但", "可", "而且", "还有", "另外", "并且"})
# Words that start a new predicate: a negator before them does not reach past them (没读完就辍学了).
NEGATION_STOPS = frozenset({"就", "又", "还", "才", "也", "却", "然后", "后来", "结果", "所以", "现在", "但",
                            "把", "被", "让", "说"})
NEGATION_REACH = 3  # tokens between a negator and the word it negates
COMBO_REACH = 6  # tokens between the two parts of a two-part rule
ADJACENT_REACH = 2  # tokens from part a's first token to part b's in an "a.b" rule (遭|了|水)
SCHOOL_COST_REACH = 12  # characters from a school word to the money word that makes it a schooling cost
CONSENT_COVER = 0.4  # consent/decline words must cover this share of a reply
SHORT_CODES: dict[str, Intent] = {"cx": "status", "sb": "report", "qx": "cancel", "rg": "human", "bz": "help",
                                  "y": "consent", "n": "decline", "查": "status", "报": "report",
                                  "早": "greeting"}
# A relation word right after these is a place or an object, not the reporter (住在亲戚家, 借了亲戚两万).
NOT_REPORTER_AFTER = frozenset({"让", "叫", "说", "要", "告诉", "通知", "讲"})  # 组长让我来报: not a proxy
NOT_REPORTER = frozenset({"在", "到", "去", "住在", "借住在", "住到", "回", "从", "借", "借了", "向", "跟",
                          "借住", "寄住", "住", "暂住", "搬到", "搬去", "躲到", "躲在", "睡在",
                          "和", "找", "问", "给", "靠", "欠", "欠了", "问了", "找了", "跟着", "被"})
# weak code -> (code, risks that explain it away): care words, crop losses, fires
WEAK = {"01w": ("01", ("05",)), "06w": ("06", ()), "05w": ("05", ("04",)), "06c": ("06", ("05",)),
        "08w": ("08", ("07",))}
# weak disaster code -> (code, part that explains it away when named in its clause, or as the topic the
# clause comments on): 冻坏了水管 is a water problem, not a freeze disaster; so are bugs in the drinking
# water (山上接下来的水，有虫子), not a pest disaster, unless the message is about fields, crops or animals
# (田里进了水，长了虫子): parts that, seen anywhere, keep the disaster
WEAK_DISASTER: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "05f": ("05", "pipe", ()), "04b": ("04", "watersrc", ("field", "crop", "livestock"))}
# Words that may stand before the comment of a topic clause without being its own subject (水井，上个月干了).
ELIDED_SUBJECT = frozenset("""上个月 今年 去年 前年 现在 已经 早就 早 又 也 都 全 一直 好久 前几天 这几天 最近
    冬天 夏天 经常 老是 总是 还是 今天 昨天 前天 上半年 下半年 这段时间 前段时间 突然 全部 彻底 早都
    又是 从去年 年前 开春 一到 每到 一到夏天 一到冬天 一下雨 一落雨 就 有时 有时候
    里面 里头 里边 有""".split())
# The hardship reached the speaker's own home (隔壁着火烧到我家, 把我家房顶砸穿了): a neighbour or kin
# word before it names where the trouble came from, not who reports.
_REACHED_ME = re.compile(r"(?:到|进|及|累|把|了|给)(?:我|我们|俺|咱)(?:家|屋|这)")
# A negated resolved state is the hardship itself (没找到工作, 还没上学了, 井里没有水了, 房子没修好).
FLIP = {"07": "risk", "A23": "guarantee", "A24": "guarantee", "A25": "guarantee", "A26": "guarantee"}


@dataclass(slots=True)
class Match:
    start: int
    end: int
    word: str
    entries: tuple[tuple[str, str], ...]
    token: int  # index of the first token
    clause: int
    negated: bool = field(default=False)
    negator_start: int = field(default=-1)


class Parser:
    """One lexicon and one owned jieba.Tokenizer; `parse` is pure and thread-safe."""

    def __init__(self, lexicon: Lexicon | None = None, tokenizer: jieba.Tokenizer | None = None) -> None:
        self.lexicon = lexicon or load()
        self.tokenizer = tokenizer or make_tokenizer(self.lexicon.entries)
        self.first_chars = frozenset(w[0] for w in self.lexicon.entries)
        self.content = frozenset(w for w, es in self.lexicon.entries.items()
                                 if any(k in CONTENT and k != "part" for k, _ in es))
        cues = sorted(self.lexicon.words("money_cue"), key=len, reverse=True)
        self.money_cue = re.compile("|".join(re.escape(c) for c in cues)) if cues else None
        self.suffixes = self.lexicon.suffixes
        self.blockers = self.lexicon.words("blocker")
        self._names: frozenset[str] | None = None

    def dictionary_names(self) -> frozenset[str]:
        """The tokenizer dictionary's person names (nr), loaded on the first message that needs them."""
        if self._names is None:
            self._names = dictionary_names(Path(self.tokenizer.dictionary))
        return self._names

    def tokens(self, text: str) -> list[str]:
        return self.tokenizer.lcut(text, HMM=False)  # type: ignore[no-any-return]

    def match(self, text: str) -> tuple[list[str], list[Match]]:
        """Tokens and the lexicon words found, leftmost-longest, starting and ending on token edges."""
        toks = self.tokens(text)
        entries = self.lexicon.entries
        # Matches start and end on token edges, or inside a token that is itself a content phrase of
        # the lexicon (生病住院 holds the start of 住院了).
        starts: dict[int, int] = {}
        ends: set[int] = set()
        pos = 0
        for k, t in enumerate(toks):
            starts[pos] = k
            if len(t) > 1 and t in self.content:
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
                    word = text[i:j]
                    if word.isascii() and (_latin(text, i - 1) or _latin(text, j)):
                        continue  # rg, qx, 12317 inside a case number, a phone or a word are not the code
                    es = entries[word]
                    # Inside a longer word (没有 in 没有医保) only if it raises a kind of code the longer
                    # word does not (住院 inside 生病住院 still means urgent).
                    if not (out and out[-1].end >= j) or _adds_kind(out[-1].entries, es):
                        out.append(Match(i, j, word, es, k, clause))
                    break
        if self.suffixes:
            out = self._suffix_matches(toks, starts, out)
        _mark_negated(toks, out)
        for m in out:
            who = text[m.negator_start + 2:m.negator_start + 3]
            by_bushi = text.startswith("不是", m.negator_start)
            if m.negated and by_bushi and who in PEOPLE and _CORRECTION.search(text, m.end):
                m.negated = False  # 不是我生病，是我老婆: the illness stands, only the person changes
        return toks, out

    def _suffix_matches(self, toks: list[str], starts: dict[int, int], out: list[Match]) -> list[Match]:
        """Tokens the lexicon does not know but whose ending gives them away (尘肺病 -> illness)."""
        covered = {m.token for m in out}
        extra: list[Match] = []
        pos = 0
        clause = 0
        for k, t in enumerate(toks):
            if t in TURN_WORDS or (len(t) == 1 and t in CLAUSE_BREAK) or t.isspace():
                clause += 1
            elif len(t) > 1 and k not in covered and t not in self.blockers:
                for suf, kind, code in self.suffixes:
                    if t.endswith(suf) and len(t) > len(suf):
                        extra.append(Match(pos, pos + len(t), t, ((kind, code),), k, clause))
                        break
            pos += len(t)
        if not extra:
            return out
        return sorted(out + extra, key=lambda m: m.start)

    def parse(self, text: str, gazetteer: Gazetteer | None = None) -> Parse:
        norm = normalize(text)
        ids, bad_ids, legacy, phones, masked = idnum.extract(norm)
        toks, matches = self.match(masked)
        pasts = [m for m in matches if _has(m, "past")]
        habits, weather = _first_end_by_clause(matches, "habit"), _first_end_by_clause(matches, "disaster")
        resolved = Resolved([(m, code) for m in matches if not m.negated
                             for kind, code in m.entries if kind == "resolved"])
        # a debt or spending word keeps an illness or injury raised after it is over (but not urgent)
        by_part: dict[str, list[Match]] = {}
        present: set[str] = set()  # parts seen un-negated, for combo conditions
        debt = False
        for m in matches:
            for k, c in m.entries:
                if k == "part":
                    by_part.setdefault(c, []).append(m)
                    if not m.negated:
                        present.add(c)
                elif k == "debt" and not m.negated:
                    debt = True
        kept = self.lexicon.debt_keeps if debt else _NONE
        found: dict[str, dict[str, list[str]]] = {"risk": {}, "disaster": {}, "guarantee": {}, "urgent": {}}
        weak: dict[str, list[str]] = {}
        intents: dict[str, list[str]] = {}
        relation: str | None = None
        negated: list[str] = []
        intent_chars = 0

        def raise_code(kind: str, code: str, m: Match, word: str, neg: bool) -> None:
            base = WEAK[code][0] if kind == "risk" and code in WEAK else code
            over = base not in kept and _resolved_after(m, base if kind != "urgent" else "urgent", resolved)
            if neg or over:
                negated.append(word)
                return
            if kind == "risk" and code in WEAK:
                weak.setdefault(code, []).append(word)
                return
            if kind == "urgent" and any(p.clause == m.clause and p.start < m.start for p in pasts):
                return
            if kind == "urgent" and (_habitual(toks, habits, weather, m) or _COUNTED.match(masked, m.end)):
                return  # 一到冬天就住院, 今年住院两次: what recurs, not what is happening now
            found[kind].setdefault(code, []).append(word)
            if kind == "disaster":
                found["risk"].setdefault("04", []).append(word)

        for idx, m in enumerate(matches):
            for kind, code in m.entries:
                if kind == "disaster" and code in WEAK_DISASTER:
                    code, explainer, keepers = WEAK_DISASTER[code]
                    if present.isdisjoint(keepers) and any(("part", explainer) in p.entries and (
                            p.clause == m.clause or (p.start < m.start and _topic_comment(toks, p, m)))
                            for p in matches):
                        continue  # 冻坏了水管: the pipe froze
                if kind in found:
                    if kind == "risk" and code in ("01", "01w", "05", "05w"):
                        beast = _animal_before(matches, idx)
                        if beast == "crop" and code == "01" and not m.negated:
                            raise_code("disaster", "04", m, m.word, False)  # 柑橘得了溃疡病: a crop disease
                        if beast:
                            continue  # 牛得了病死了: a sick animal, not a sick person
                    raise_code(kind, code, m, m.word, m.negated)
                elif kind == "intent":
                    if code == "report" and _resolved_after(m, "*", resolved):
                        continue
                    if m.negated and code == "consent":
                        intents.setdefault("decline", []).append(m.word)
                    elif not m.negated or code in ("decline", "cancel"):
                        intents.setdefault(code, []).append(m.word)
                    if code in ("consent", "decline"):
                        intent_chars += len(m.word)
                elif kind == "resolved" and m.negated and code in FLIP:
                    raise_code(FLIP[code], code, m, m.word, False)
                elif kind == "relation" and relation is None and not m.negated:
                    if _names_reporter(toks, m, masked):
                        relation = code
        for (rkind, rcode, a, b, mode), (needs, bars) in zip(self.lexicon.combos, self.lexicon.conditions,
                                                              strict=True):
            if not present.issuperset(needs) or not present.isdisjoint(bars):
                continue
            hit = _combo(by_part, a, b, mode, toks)
            if hit is not None:
                x, y = hit
                # negated unless the only negator is the other part itself (没 + 工作 -> lost job)
                neg = (x.negated and x.negator_start != y.start) or (y.negated and y.negator_start != x.start)
                raise_code(rkind, rcode, y, x.word + "…" + y.word, neg)
        for rx, pkind, pcode in self.lexicon.patterns:
            pm = rx.search(masked)
            if pm is not None:
                if pkind == "risk" and pcode in WEAK:
                    weak.setdefault(pcode, []).append(pm.group(0))
                elif pkind in found:
                    found[pkind].setdefault(pcode, []).append(pm.group(0))
                    if pkind == "disaster":
                        found["risk"].setdefault("04", []).append(pm.group(0))
        risks = found["risk"]
        money = numbers.read_amounts(masked, [(c.start(), c.end()) for c in self.money_cue.finditer(masked)]
                                     if self.money_cue else [])
        amounts = [a.value for a in money]
        cues = [c.start() for c in self.money_cue.finditer(masked)] if self.money_cue and amounts else []
        school = next((m for m in matches if ("part", "school") in m.entries and not m.negated
                       and any(m.start < c <= m.end + SCHOOL_COST_REACH for c in cues)), None)
        if school is not None and "02" not in risks:
            raise_code("risk", "02", school, school.word, False)  # 读大专，一年要三万多
        for wcode, words in weak.items():
            code, explained_by = WEAK[wcode]
            # care words count as illness unless an accident explains them; crop losses count as a failed
            # project unless a disaster explains them
            if code in risks or any(e in risks for e in explained_by):
                continue
            if wcode == "06w" and found["disaster"]:
                continue
            risks[code] = words
        triggers: dict[str, list[str]] = {}
        for prefix, table in (("A27-", risks), ("A27a-", found["disaster"]), ("", found["guarantee"])):
            for code, words in table.items():
                triggers[prefix + code] = _unique(words)
        urgent = found["urgent"]
        if urgent:
            triggers["urgent"] = _unique([w for ws in urgent.values() for w in ws])
        has_content = bool(risks or found["guarantee"] or found["disaster"] or urgent)
        opens_reply = any(m.start == len(masked) - len(masked.lstrip()) and (
            len(m.word) >= 3 or masked[m.end:m.end + 1] in CLAUSE_BREAK) and any(
            e in m.entries for e in (("intent", "consent"), ("intent", "decline"))) for m in matches[:1])
        intent = _intent(norm, intents, has_content, intent_chars, opens_reply)
        if intents.get(intent):
            triggers["intent"] = _unique(intents[intent])
        return Parse(
            intent=intent,
            risks=sorted(risks),
            disasters=sorted(found["disaster"]),
            guarantees=sorted(found["guarantee"]),
            urgent=bool(urgent),
            amounts=amounts,
            amounts_approximate=[a.approximate for a in money],
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
            person_name=names.person_name(
                masked, [(m.start, m.end) for m in matches if any(k in _NAME_BLOCKING for k, _ in m.entries)],
                self.tokenizer.FREQ, self.dictionary_names),
        )


def _has(m: Match, kind: str) -> bool:
    return any(k == kind for k, _ in m.entries)


_NONE: frozenset[str] = frozenset()
_CODE_KINDS = frozenset({"risk", "disaster", "guarantee", "urgent"})
# A name never overlaps a word of these kinds (高血压, 老伴, 邻居).
_NAME_BLOCKING = frozenset({"risk", "disaster", "guarantee", "urgent", "relation"})


def _adds_kind(outer: tuple[tuple[str, str], ...], inner: tuple[tuple[str, str], ...]) -> bool:
    have = {k for k, _ in outer}
    return any(k == "urgent" and k not in have for k, _ in inner)


def _animal_before(matches: list[Match], idx: int) -> str:
    """'livestock' or 'crop' when one is named just before an illness or injury word, or 'livestock' when
    the illness is followed at once by death in a message about livestock (养了五百只羊，得了病死了一半)."""
    m = matches[idx]
    nxt = matches[idx + 1] if idx + 1 < len(matches) else None
    if nxt is not None and nxt.start == m.end and ("part", "died") in nxt.entries and any(
            ("part", "livestock") in p.entries for p in matches):
        return "livestock"
    for p in matches[max(0, idx - 3):idx]:
        if p.clause == m.clause and m.token - p.token <= 4:
            for kind in ("livestock", "crop"):
                if ("part", kind) in p.entries:
                    return kind
    return ""


def _first_end_by_clause(matches: list[Match], kind: str) -> dict[int, int]:
    """For each clause, where the first match of `kind` in it ends."""
    out: dict[int, int] = {}
    for p in matches:
        if p.clause not in out and _has(p, kind):
            out[p.clause] = p.end
    return out


def _habitual(toks: list[str], habits: dict[int, int], weather: dict[int, int], m: Match) -> bool:
    """What happens each time, not now: a habit word earlier in the clause (一到冬天就住院, 每年都要住院),
    or weather, then 就, then the hardship (天干就没水吃)."""
    if habits.get(m.clause, m.start + 1) <= m.start:
        return True
    return m.token > 0 and toks[m.token - 1] == "就" and weather.get(m.clause, m.start + 1) <= m.start


def _mark_negated(toks: list[str], matches: list[Match]) -> None:
    """A match is negated by a negator shortly before it in its clause, with no predicate break between."""
    last_neg: Match | None = None
    for m in matches:
        if (last_neg is not None and last_neg.clause == m.clause and last_neg.end <= m.start
                and m.token - last_neg.token <= NEGATION_REACH):
            between = toks[last_neg.token + 1:m.token]
            if not any(t in NEGATION_STOPS for t in between):
                m.negated = True
                m.negator_start = last_neg.start
        if _has(m, "negator") and not any(k in _CODE_KINDS for k, _ in m.entries):
            last_neg = m


def _combo(by_part: dict[str, list[Match]], a: str, b: str, mode: str,
           toks: list[str]) -> tuple[Match, Match] | None:
    """The first pair of a part-a and a part-b match: see the modes in lexicon.Lexicon.combos. A pair is
    near (COMBO_REACH tokens, or a topic and its comment across one break), so each part-a match looks
    only at the part-b matches in its window: linear in the text, not in the square of its matches."""
    firsts = by_part.get(a)
    seconds = by_part.get(b)
    if not firsts or not seconds:
        return None
    if mode == "~":  # anywhere: the first two distinct matches
        for x in firsts:
            for y in seconds:
                if x is not y:
                    return (x, y) if x.start < y.start else (y, x)
        return None
    tokens = [y.token for y in seconds]  # ascending: matches come in text order
    for x in firsts:
        if mode == "^":
            low, high = x.token, _topic_reach(toks, x)
        elif mode == ".":
            low, high = x.token + 1, x.token + ADJACENT_REACH
        else:
            low, high = x.token - COMBO_REACH, x.token + COMBO_REACH
        for y in seconds[bisect_left(tokens, low):bisect_right(tokens, high)]:
            if x is y:
                continue
            if mode == "^":
                if x.start < y.start and _topic_comment(toks, x, y):
                    return x, y
                continue
            if mode == "." and x.end > y.start:
                continue
            if x.clause == y.clause and (mode == "+" or x.start < y.start):
                return (x, y) if x.start < y.start else (y, x)
    return None


def _topic_reach(toks: list[str], x: Match) -> int:
    """The last token a comment on topic x can be at (_topic_comment): near it in its clause, or across
    the break right after it and the time words that follow."""
    return max(x.token + COMBO_REACH, _comment_end(toks, x))


def _comment_end(toks: list[str], x: Match) -> int:
    """The furthest token a comment in the next clause may start at: past the break right after x and
    the time words that follow it (-1 when no break follows x)."""
    brk = x.token + 1
    if not (brk < len(toks) and len(toks[brk]) == 1 and toks[brk] in CLAUSE_BREAK):
        return -1
    end = brk + 1
    while end < len(toks) and toks[end] in ELIDED_SUBJECT:
        end += 1
    return end


def _names_reporter(toks: list[str], m: Match, text: str) -> bool:
    """A relation word names who reports unless it is a place or object (住在亲戚家) or the hardship is the
    speaker's own and only came from there (隔壁着火烧到我家): the hardship's owner decides."""
    prev = toks[m.token - 1] if m.token > 0 else ""
    nxt = toks[m.token + 1] if m.token + 1 < len(toks) else ""
    return prev not in NOT_REPORTER and nxt not in NOT_REPORTER_AFTER and not _REACHED_ME.search(text, m.end)


def _topic_comment(toks: list[str], x: Match, y: Match) -> bool:
    """y in x's clause near it, or x ends its clause and y heads the next one after time words only."""
    if x.clause == y.clause:
        return y.token - x.token <= COMBO_REACH
    return y.clause == x.clause + 1 and x.token + 2 <= y.token <= _comment_end(toks, x)


class Resolved:
    """The resolved-state words of a text (病好了, 修好了), asked of each hardship match in constant time:
    where the last one of each code starts, and of the '*' ones in each clause (a walk over all of them
    for every match made a text repeating 住院了，已经好了 cost its length squared)."""

    def __init__(self, found: list[tuple[Match, str]]) -> None:
        self.last_of: dict[str, int] = {}
        self.last_any_in: dict[int, int] = {}  # clause -> where its last '*' word starts
        for r, code in found:
            self.last_of[code] = max(r.start, self.last_of.get(code, -1))
            if code == "*":
                self.last_any_in[r.clause] = max(r.start, self.last_any_in.get(r.clause, -1))


def _resolved_after(m: Match, code: str, resolved: Resolved) -> bool:
    """A resolved-state word after the match: same code anywhere later, '*' only in the same clause."""
    return (resolved.last_of.get(code, -1) >= m.end
            or resolved.last_any_in.get(m.clause, -1) >= m.end)


PEOPLE = frozenset("我他她你")
_COUNTED = re.compile(r"[一二两三四五六七八九十几好\d]{1,3}(?:次|回|趟)")
_CORRECTION = re.compile(r"[,，]\s*(?:而|就|只|其实)?是")
_STRIP = re.compile(r"[\s,.!?;:，。！？；：、~…]+")


def _latin(text: str, i: int) -> bool:
    """Whether text[i] is an ASCII letter or digit (False outside the text)."""
    return 0 <= i < len(text) and text[i].isascii() and text[i].isalnum()


def _intent(norm: str, intents: dict[str, list[str]], has_content: bool, intent_chars: int,
            opens_reply: bool) -> Intent:
    bare = _STRIP.sub("", norm)
    if bare in SHORT_CODES:
        return SHORT_CODES[bare]
    if not bare and "?" in norm:
        return "help"
    reply = bool(bare) and not has_content and (
        intent_chars / len(bare) >= CONSENT_COVER or (opens_reply and intent_chars / len(bare) >= 0.2))
    if "cancel" in intents or ("cancelw" in intents and not has_content):
        return "cancel"
    if "human" in intents:
        return "human"
    if "status" in intents and not ("report" in intents and has_content):
        return "status"
    if reply and "decline" in intents:
        return "decline"
    if reply and "consent" in intents:
        return "consent"
    if has_content:
        return "report"
    if "help" in intents:
        return "help"
    if "report" in intents:
        return "report"
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


# Answers to a prompt ("1", "同意", "4口人", a name, a village) are short, and many households send the same
# ones; longer texts tell a household's own story and rarely repeat. Short texts' parses are kept, per
# gazetteer, for the process-wide parser: parsing costs 35-65 us a short text, a kept one under 1 us.
MEMO_MAX_CHARS = 16
MEMO_SIZE = 4096  # texts per gazetteer
_memos: weakref.WeakKeyDictionary[Gazetteer, Callable[[str], Parse]] = weakref.WeakKeyDictionary()
_no_gazetteer_memo: Callable[[str], Parse] | None = None


def _memo(gazetteer: Gazetteer | None) -> Callable[[str], Parse]:
    """The kept parses of short texts for `gazetteer` (dropped with it: the memo holds it weakly)."""
    global _no_gazetteer_memo
    memo = _no_gazetteer_memo if gazetteer is None else _memos.get(gazetteer)
    if memo is not None:
        return memo
    parser = default_parser()
    ref = None if gazetteer is None else weakref.ref(gazetteer)

    @lru_cache(maxsize=MEMO_SIZE)
    def kept(text: str) -> Parse:
        return parser.parse(text, None if ref is None else ref())

    with _lock:  # two threads building one at once: the first one stored is the one both use
        if gazetteer is None:
            _no_gazetteer_memo = _no_gazetteer_memo or kept
            return _no_gazetteer_memo
        return _memos.setdefault(gazetteer, kept)


def parse(text: str, gazetteer: Gazetteer | None = None) -> Parse:
    """Parse one inbound message. Never raises on odd input; unknown text gives intent 'other'.

    A text of up to MEMO_MAX_CHARS characters may give the same Parse object as an earlier call: a Parse
    is frozen, and its lists are read, never changed, by every caller."""
    text = text or ""
    if len(text) <= MEMO_MAX_CHARS:
        return _memo(gazetteer)(text)
    return default_parser().parse(text, gazetteer)
