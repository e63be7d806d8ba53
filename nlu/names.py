"""Person names from self-introductions (我叫张三, 户主是赵六, 本人刘明) and hotline notes (来电人王五,
张建国来电): a family name from nlu/data/surnames.txt plus one or two given characters.

Only a full name counts: a family name with an honorific or a kin word (张大爷, 李奶奶, 孙女士) or alone
(我姓刘) gives None, because the name fills the head-of-household field, where a family name alone is wrong.
jieba.posseg is not used: loading it costs ~0.8 s and it splits names after place names (梅花村张建国 ->
村张/建国); the family-name table, the patterns and the owned tokenizer's dictionary decide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from nlu.spans import Spans

SURNAMES = Path(__file__).parent / "data" / "surnames.txt"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Strong cues introduce a name (我叫, 户主是, 来电人); weak ones need more checks (我是 李四 / 我是 马上...).
_STRONG = re.compile(
    r"(?:我|本人)(?:的名字|名字)?(?:叫做|叫|名叫)|(?:名字|姓名)(?:是|叫)?[:：]?\s*|"
    r"户主(?:的)?(?:姓名|名字)?(?:是|叫|[:：])\s*|户主(?:的)?(?:姓名|名字)[:：]?\s*|本人(?:姓名|[:：])[:：]?\s*|"
    r"来电(?:人|者)(?:是|叫|姓名|[:：])[:：]?\s*")
# Weak cues: 我是 (李四 / 马上...), 本人, 户主 and 来电人 without 是/叫 (本人刘明 / 本人常年...) and labels a
# note puts before a name (村民彭德怀, but 五保户房子要倒了).
_WEAK = re.compile(r"我是|本人|户主|来电人|来电者|(?:村民|农户|群众|脱贫户|监测户|低保户|五保户)[:：]?\s*")
# 张建国来电, 张建国打电话说: the name ends where the verb starts.
_CALLED = re.compile(r"来电|打来电话|打电话|打来的电话|致电|来访")
_SURNAME_GIVEN = re.compile(
    r"我姓(?P<s>[\u4e00-\u9fff]{1,2})[,，]?\s*(?:叫|名叫|名字叫)(?P<n>[\u4e00-\u9fff]{1,4})")
# Cheap gate: a message without any of these has no name the rules can find.
_GATE = re.compile(r"叫|我是|户主|本人|来电|电话|姓|村民|农户|群众|脱贫户|监测户|低保户|五保户|致电|来访")
# Characters that end a name: what usually follows it (张三今年, 王小红家里, 李四两口子) or cannot be in it.
_AFTER = frozenset("今家的是在住来打说电身年岁村镇乡县组因得患现和跟带我他她要想有没冇屋去从也都就还又这那"
                   "啊呀呢吧哦嘛了着过被把给对问找反申报求等一二两三四五六七八九十")
# A name followed by one of these was a place (向阳村, 王家坪组).
_PLACE_AFTER = tuple("村 镇 乡 县 组 屯 庄 坪 湾 冲 岭 垸 铺 桥 社区 市 区 山 塘 寨 坡 洞 溪 街".split())
# Titles, honorifics and kin words: a family name with one of these is no full name (张大爷, 孙女士).
_TITLES = tuple("""大爷 大娘 大妈 大伯 大叔 大婶 大哥 大姐 大嫂 奶奶 爷爷 婆婆 阿姨 师傅 老师 书记 主任 支书
    村长 组长 会计 医生 女士 先生 小姐 老汉 老头 老太 嫂子 姐姐 哥哥 叔叔 伯伯 婶婶 某某 嫂 姐 哥 叔 伯
    婶 娘 爹 妈 婆 爷 某 家 氏 总 工""".split())
# Kin words that begin with a family name character (孙子 is a grandson, not Mr Sun).
_KIN = ("孙子", "孙女", "孙儿", "孙媳", "孙崽", "孙伢")
COMMON_WORD_FREQ = 300  # a weak-cue candidate that is a common dictionary word (马上, 向阳, 黎明) is no name


@lru_cache(maxsize=1)
def surnames() -> tuple[frozenset[str], frozenset[str]]:
    """(single-character family names, compound family names) from the reference table."""
    single: set[str] = set()
    compound: set[str] = set()
    with SURNAMES.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            for w in line.split():
                (single if len(w) == 1 else compound).add(w)
    return frozenset(single), frozenset(compound)


def _family(text: str, i: int) -> int:
    """Length of the family name starting at i (2 for 欧阳, 1 for 王), or 0."""
    single, compound = surnames()
    if text[i:i + 2] in compound:
        return 2
    return 1 if text[i:i + 1] in single else 0


# Characters a given name does not start with (王，..., 我姓刘的, 刘在家).
_NOT_FIRST = frozenset("的是在了着过我他她你您们个些老说和跟也都就还又这那啊呀呢吧哦嘛被把给村镇乡县组")


def _read_name(text: str, i: int) -> tuple[str, bool] | None:
    """The name starting at i: (name, True) for a full name, ('', False) for a titled family name (张大爷)."""
    fam = _family(text, i)
    if not fam:
        return None
    j = i + fam
    if text.startswith(_TITLES, j) or text[j:j + 1] == "*":
        return "", False
    given = ""
    while len(given) < 2 and j < len(text) and CJK.match(text[j]):
        if text[j] in (_AFTER if given else _NOT_FIRST):
            break
        given += text[j]
        j += 1
    if not given or text.startswith(_PLACE_AFTER, j) or text.startswith(_KIN, i):
        return None
    return text[i:j], True


def _common_word(name: str, freq: Mapping[str, int], known: Callable[[], frozenset[str]]) -> bool:
    """Starts with a common word (马上, 房子, 常年, 成年人) and is no name the dictionary knows (彭德怀)."""
    return freq.get(name[:2], 0) >= COMMON_WORD_FREQ and name not in known()


def _no_names() -> frozenset[str]:
    return frozenset()


def person_name(text: str, spans: Iterable[tuple[int, int]] = (), freq: Mapping[str, int] | None = None,
                known: Callable[[], frozenset[str]] = _no_names) -> str | None:
    """The first full name a self-introduction or a hotline note gives; `spans` are lexicon matches (a name
    never overlaps 高血压), `freq` the tokenizer's dictionary and `known` its person names (a weak cue skips
    common words that are no names)."""
    if _GATE.search(text) is None:
        return None
    taken = Spans(spans)
    freq = freq or {}
    sg = _SURNAME_GIVEN.search(text)
    if sg is not None:
        fam, rest = sg.group("s"), sg.group("n")
        if _family(fam, 0) == len(fam):
            read = _read_name(rest if rest.startswith(fam) else fam + rest, 0)
            if read is not None and read[1]:
                return read[0]
    found: list[tuple[int, str]] = []
    for m in _STRONG.finditer(text):
        read = _read_name(text, m.end())
        if read is not None and read[1] and not taken.overlaps(m.end(), m.end() + len(read[0])):
            found.append((m.end(), read[0]))
            break
    for m in _WEAK.finditer(text):
        read = _read_name(text, m.end())
        if read is None or not read[1]:
            continue
        name = read[0]
        end = m.end() + len(name)
        nxt = text[end:end + 1]
        if (nxt and CJK.match(nxt) and nxt not in _AFTER) or nxt == "的":
            continue
        if not taken.overlaps(m.end(), end) and not _common_word(name, freq, known):
            found.append((m.end(), name))
            break
    for m in _CALLED.finditer(text):
        called = _before(text, m.start(), taken, freq, known)
        if called is not None:
            found.append((m.start() - len(called), called))
            break
    return min(found)[1] if found else None


def _before(text: str, end: int, taken: Spans, freq: Mapping[str, int],
            known: Callable[[], frozenset[str]]) -> str | None:
    """The name that ends right before a call verb (梅花村张建国来电 -> 张建国; 张大爷打电话 -> None)."""
    for size in (4, 3, 2):
        i = end - size
        if i < 0:
            continue
        fam = _family(text, i)
        if not fam or fam >= size:
            continue
        read = _read_name(text[:end], i)
        if read is None:
            continue
        name, full = read
        if not full:
            return None  # 张大爷打电话: titled, and no shorter name hides in it
        if len(name) == size and not taken.overlaps(i, end) and not _common_word(name, freq, known):
            return name
    return None
