"""Numbers as people type them: 三万五, 3.5万, 两千来块, 一万多, 三五百, 十块三毛; household sizes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from nlu.spans import Spans

DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "仨": 3, "四": 4, "五": 5,
          "六": 6, "七": 7, "八": 8, "九": 9, "壹": 1, "贰": 2, "貳": 2, "叁": 3, "參": 3, "肆": 4, "伍": 5,
          "陆": 6, "陸": 6, "柒": 7, "捌": 8, "玖": 9}
SMALL = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "k": 1000}
BIG = {"万": 10_000, "萬": 10_000, "w": 10_000, "亿": 100_000_000, "億": 100_000_000}
NUM_CHARS = "".join(DIGITS) + "".join(SMALL) + "".join(BIG)
_TOKEN = re.compile(r"\d+(?:\.\d+)?|.", re.S)


def cn_number(s: str) -> float | None:
    """A numeral (Chinese, Arabic or mixed) to a number, or None. Spoken tails: 三万五 = 35000."""
    s = s.strip().lower()
    if not s:
        return None
    toks = _TOKEN.findall(s)
    if all(t in DIGITS for t in toks) and len(toks) > 1:
        return float("".join(str(DIGITS[t]) for t in toks))  # 二〇二三 read digit by digit
    total = 0.0
    section = 0.0
    num: float | None = None
    last_unit = 0
    zero_seen = False
    for t in toks:
        if t[0].isdigit():
            if num is not None:
                return None
            num = float(t)
            zero_seen = zero_seen or (len(t) > 1 and t[0] == "0" and "." not in t)
        elif t in DIGITS:
            if num is not None and t != "零" and t != "〇":
                return None
            if DIGITS[t] == 0:
                zero_seen = True
                num = None
                continue
            num = float(DIGITS[t])
        elif t in SMALL:
            unit = SMALL[t]
            if num is None:
                if unit != 10 or section or total:
                    if unit == 10 and (section or total):
                        num = 1.0
                    else:
                        return None
                else:
                    num = 1.0
            section += num * unit
            num = None
            last_unit = unit
            zero_seen = False
        elif t in BIG:
            unit = BIG[t]
            if num is None and not section and not total:
                return None
            section += num or 0.0
            if unit == 100_000_000:
                total = (total + section) * unit
            else:
                total += section * unit
            section = 0.0
            num = None
            last_unit = unit
            zero_seen = False
        else:
            return None
    if num is not None:
        if last_unit >= 100 and not zero_seen and num < 10 and num == int(num) and toks[-2] not in DIGITS:
            num *= last_unit // 10  # 三万五 -> 5 * 1000; 一百二 -> 2 * 10
        section += num
    return total + section


@lru_cache(maxsize=4096)
def numeral(s: str) -> float | None:
    """cn_number, then cn2an (imported on first need: ~0.35 s) for forms the fast path refuses."""
    value = cn_number(s)
    if value is not None or not any(c in s for c in "点负零〇"):
        return value
    try:
        cn2an: Any = __import__("cn2an")
        out = cn2an.cn2an(s, "smart")
    except Exception:  # cn2an raises ValueError and others on what it cannot read
        return None
    return float(out) if isinstance(out, int | float) else None


_NUM = rf"(?:[\d{NUM_CHARS}]|\.(?=\d)|,(?=\d{{3}}))+"  # one character class: linear, validated by numeral()
_APPROX = r"(?:多|来|余|几|左右|上下)?"
# A range said as one numeral: two digits in a row, the second larger, after nothing or a unit and before
# the units they share: 五六万, 三五百, 十七八万, 一万七八千, 一百二三十, 三万五六.
_RANGE = re.compile(r"(?P<head>(?:[一二两三四五六七八九十百千万]*[十百千万])?)"
                    r"(?P<lo>[一二两三四五六七八九])(?P<hi>[二两三四五六七八九])(?P<units>[十百千万]*)")
# Two digits alone before a money unit are a range when people say them so: neighbours or 三五 (一两块,
# 三五块, 七八块钱); others are a figure read digit by digit (二五块 25), and 三五 with no unit stays 35.
_PAIR = re.compile(r"一[二两]|[二两]三|三四|三五|四五|五六|六七|七八|八九")
# 几 and a smaller unit after a figure (三万几千, 一千几百) is 多: the figure said.
_FEW_AFTER = re.compile(r"(?:(?<=万)几[千百十]|(?<=千)几[百十]|(?<=百)几十)$")
_AMOUNT = re.compile(
    rf"(?P<num>(?:几(?=[十百千万]))?{_NUM}(?:{_APPROX}[十百千万亿]+)?)(?P<approx>{_APPROX})"
    r"\s*(?P<unit>块钱|块|元钱|元|圆|万元|千元|百元|毛钱|毛|角)?"
    rf"(?P<tail>(?:(?<=块)|(?<=元))[一二两三四五六七八九\d](?:毛|角))?"
)
# The lower end of a range said with 到 (两万到三万, 3到5万, 1万-5万元, 10~15k元), right before the upper end.
_LOWER_END = re.compile(rf"{_NUM}{_APPROX}\s*(?:块钱|块|元钱|元)?\s*(?:到|至|-{{1,2}}|—{{1,2}}|~|～)\s*$")
# Words before a figure that say it is a guess (大概两万, 差不多花了三千): not 近 alone (最近花了三千).
_ABOUT_BEFORE = re.compile(rf"(?:大概|大约|约莫|约|差不多|将近|接近|估计|大致)"
                           rf"[^\d{NUM_CHARS}，。,.!?！？；;\s]{{0,3}}$")
BLOCKING_UNITS = tuple("岁口个年月日天号人次亩斤头只间层米里周级栋座户位名度楼组队克棵袋分秒点届批辆台本件")
UNIT_SCALE = {"毛": 0.1, "毛钱": 0.1, "角": 0.1, "万元": 10_000.0, "千元": 1000.0, "百元": 100.0}
MONEY_UNITS = ("块", "元", "圆", "万元", "千元", "百元", "毛", "角")


@dataclass(frozen=True, slots=True)
class Amount:
    """A sum in yuan; approximate for a range (its upper bound) or a figure said with 多, 左右, 大概..."""

    value: float
    approximate: bool = False


_ABOUT_ONE = re.compile(r"(?<![\d一二两三四五六七八九十])([万千])把(?:块|元)")  # 万把块钱: about ten thousand
# Digits grouped with a space: by ten-thousands as Chinese counts (2 0000, 12 5000) or by thousands (20 000,
# 1 200 000). Only regular groups of a figure below a hundred million, standing alone (a phone or ID number
# typed in groups is blanked before this; a card number's first group has four digits): never 1000 2000.
_SPACE = "[ \u00a0\u2009\u202f]"
_GROUPED = re.compile(rf"(?<![\d.,])(?<!\d{_SPACE})[1-9]\d{{0,2}}"
                      rf"(?:{_SPACE}\d{{4}}|(?:{_SPACE}\d{{3}}){{1,2}})(?!\d|{_SPACE}\d|[.,]\d)")


def _ungroup(text: str) -> str:
    """The space in grouped digits as a comma, which the amount pattern reads (same length: offsets hold)."""
    if " " not in text and not any(c in text for c in "\u00a0\u2009\u202f"):
        return text
    return _GROUPED.sub(lambda m: re.sub(_SPACE, ",", m.group(0)), text)


def amounts(text: str, cue_spans: list[tuple[int, int]]) -> list[float]:
    """Money amounts in yuan: a numeral with a money unit, or one with 万/千 near a money word."""
    return [a.value for a in read_amounts(text, cue_spans)]


def read_amounts(text: str, cue_spans: list[tuple[int, int]]) -> list[Amount]:
    """The amounts of `amounts`, in text order, each marked approximate or not. A range is one amount,
    its upper bound (五六万, 两万到三万, 三五块 -> 60000, 30000, 5); 三万多, 两千来块, 三万左右, 大概两万,
    十几万 keep the figure said; 几万, 好几千, 几十万 the least they can mean (20000, 2000, 200000)."""
    text = _ungroup(text)
    found: list[tuple[int, Amount]] = [
        (m.start(), Amount(float(BIG.get(m.group(1)) or SMALL[m.group(1)]), True))
        for m in _ABOUT_ONE.finditer(text)]
    cues = Spans(cue_spans)
    for m in _AMOUNT.finditer(text):
        raw = m.group("num")
        unit = m.group("unit") or ""
        if not any(c.isdigit() or c in NUM_CHARS for c in raw) or (raw in ("一", "十") and not unit):
            continue
        after = text[m.end():m.end() + 2]
        if not unit and (after[:1] in BLOCKING_UNITS or (after[:1] == "多" and after[1:2] in BLOCKING_UNITS)):
            continue
        read = _value(raw, unit)
        if read is None:
            continue
        value, approximate = read
        if not unit:
            has_big = any(c in raw for c in "万萬千kw")
            if not cues.ended_near(m.start(), 6) or not (has_big or value >= 10):
                continue
        before = text[max(0, m.start() - 24):m.start()]
        lower = _LOWER_END.search(before)
        if lower is not None:  # the upper end of a range: the lower end is no amount of its own
            lower_start = m.start() - len(before) + lower.start()
            found = [f for f in found if f[0] < lower_start]
        approximate = (approximate or bool(m.group("approx")) or lower is not None
                       or _ABOUT_BEFORE.search(before[-8:]) is not None)
        scale = UNIT_SCALE.get(unit, 1.0)
        tail = m.group("tail")
        extra = (DIGITS.get(tail[0]) or int(tail[0])) / 10 if tail else 0.0
        found.append((m.start(), Amount(round(value * scale + extra, 2), approximate)))
    return [a for _, a in sorted(found, key=lambda f: f[0])]


def _value(raw: str, unit: str = "") -> tuple[float, bool] | None:
    """(value, approximate): a range gives its upper bound (三五百, 三五块 -> 500, 5); 多, 来, 余, 几 the
    figure said; 几 or 好几 with no figure before it (几万, 好几千, 几十万) the least it can mean."""
    if len(raw) > 24:  # no amount is written that long; keeps odd input cheap
        return None
    core = raw.replace(",", "")
    approximate = any(c in core for c in "多来余几")
    if core.startswith("几"):  # no figure said: the least 几 (or 好几) is two: 几万 20000, 几十万 200000
        core = "二" + core[1:]
    core = _FEW_AFTER.sub("", core)
    core = core.replace("多", "").replace("来", "").replace("余", "").replace("几", "")
    rng = _RANGE.fullmatch(core)
    said = rng is not None and (rng.group("head") or rng.group("units")
                                or (unit and _PAIR.fullmatch(rng.group("lo") + rng.group("hi"))))
    if rng and said and DIGITS[rng.group("lo")] < DIGITS[rng.group("hi")]:
        upper = numeral(rng.group("head") + rng.group("hi") + rng.group("units"))
        if upper:
            return upper, True
    value = numeral(core)
    return (value, approximate) if value is not None and value > 0 else None


_COUNT = rf"\d{{1,2}}|[{NUM_CHARS}]{{1,3}}"
_N = rf"(?P<n>{_COUNT})"
_GE = "(?:个|(?<=[俩仨]))"  # the measure word after a count, held in 俩 and 仨 (俩人 is 两个人)
_SIZE_RULES = (
    # 五口人, 一家七口, 五口之家: 口 after a number is specific enough
    re.compile(rf"{_N}口(?:人|之家)"),
    re.compile(rf"(?:一家|全家|家里|家中|屋里|我家|我们家|他家|她家|一户)(?:有|共|一共|总共|就|只有)?{_N}口"),
    # 家里3个人, 屋里就我跟孙子两个人, 家里只有我和老伴两个老人
    re.compile(rf"(?:家|屋|户)[^,.!?;，。！？；靠]{{0,8}}?{_N}{_GE}人"),
    re.compile(rf"(?:就|只有|只剩|就剩)[^,.!?;，。！？；靠]{{0,6}}?{_N}{_GE}(?:人|老人|老的)"),
    # 就我们俩, 屋里就我们仨: 俩 and 仨 stand for the people themselves, at the end of what is said
    re.compile(r"(?:就|只有|只剩|就剩)[^,.!?;，。！？；靠]{0,6}?(?P<n>俩|仨)"
               r"(?=$|[,.!?;，。！？；\s]|过|住|生活|在家|相依为命)"),
    # a cadre's note: 该户2人, 全户共5口; 家里有老人孩子共6人
    re.compile(rf"(?:该户|此户|全户|本户|户内|户籍)(?:共|有|共有|人口)?{_N}(?:人|口)"),
    re.compile(rf"(?:家|户)[^,.!?;，。！？；]{{0,8}}?(?:共|一共|总共|共计|合计){_N}个?(?:人|口)(?![民工])"),
)
# 只剩我和两个孙子 -> 3
_WITH = re.compile(rf"(?:只剩|就剩|只有|就)(?:下)?我(?:和|跟|带着){_N}{_GE}"
                   r"(?:孙子|孙女|孩子|小孩|伢子|崽|儿子|女儿|老人)")
# Who lives together, counted: 我一个人带两个孙子 (3), 我和老伴带着三个孙子 (5), 剩个堂客带两个伢子 (3),
# 两个孙子跟着我和老伴 (4). A head (who speaks) plus the people brought along.
_SPOUSE = "(?:老伴|老婆|老公|堂客|老倌子|男人|女人|媳妇|爱人|老头子?|老太婆)"
_KIN = ("(?:孙子|孙女|外孙女?|孙儿|孩子|小孩|伢子|细伢子|崽|儿子|女儿|娃|娃娃|老人|老娘|老母亲|"
        "老父亲|妈|爸|娘|弟弟|妹妹|侄子|侄女)")
_HEADS = (
    (rf"我(?:和|跟){_SPOUSE}|我们两口子|我们夫妻(?:俩|两个)?|(?:^|我们)老两口|两公婆", 2),
    (r"我一个人|剩(?:个|下一个|下)(?:堂客|女人|男人|老人|娘|我)|我(?=和|跟)", 1),
)
_BRING = (rf"(?:还)?(?:带着?|和|跟|还有|养着?|拉扯着?|守着)(?P<m>{_COUNT}){_GE}"
          rf"[^，。,.!?！？；;]{{0,4}}?{_KIN}")
_COMPOSE = tuple((re.compile(rf"(?:{head})[^。.!?！？；;]{{0,8}}?{_BRING}"), base) for head, base in _HEADS)
# One person named without a count (我妈, 老母亲, 儿子) in a list of who lives with the speaker.
_ONE = ("(?:我的?)?(?:妈妈?|老妈|母亲|老母亲|老娘|娘|爸爸?|父亲|老父亲|老爹|爹|婆婆|公公|奶奶|爷爷|儿子|女儿|"
        "孙子|孙女|外孙女?|崽|伢子|老伴|老婆|老公|丈夫|妻子|媳妇|儿媳妇?|弟弟|妹妹|哥哥|姐姐)")
_MEMBER = rf"(?:(?:{_COUNT}){_GE}[^，。,.!?！？；;和跟]{{0,4}}?{_KIN}|{_ONE})"
_MEMBER_RX = re.compile(rf"(?P<n>{_COUNT}){_GE}[^，。,.!?！？；;和跟]{{0,4}}?{_KIN}|{_ONE}")
# 我带着我妈和两个孩子过 (4): the speaker (and spouse), then the people listed, then a verb of living together
# (without it, 我带着我妈去医院 is an errand, not a household).
_LIVES_WITH = re.compile(
    rf"(?P<h>我和{_SPOUSE}|我们两口子|我们老两口|我(?:一个人)?)(?:带着?|领着|养着?|守着|和|跟)"
    rf"(?P<list>{_MEMBER}(?:(?:和|跟|、|还有|，还有){_MEMBER}){{0,4}})"
    r"(?:一起|一块|在家里?)?(?:过日子|过(?![来去])|生活|住(?![院进到医])|相依为命)")
_FOLLOW = re.compile(rf"{_N}{_GE}{_KIN}(?:跟着|跟|靠)(?P<h>我和{_SPOUSE}|我们两口子|我们老两口|我们两个|我)")
_COUNTED = re.compile(rf"(?:^|[^\d一二两三四五六七八九十]){_N}{_GE}人(?:过|生活|住|相依为命|过日子)|"
                      rf"(?P<old>[一二两三四五六七八九\d])个老的[和跟，,、]?(?P<young>[一二两三四五六七八九\d])个小的")
_ALONE = re.compile(r"(?:^|[^\d一二两三四五六七八九十])一个人(?:住|过|生活|在家)|独居|孤身一人|"
                    r"(?:就|只)剩(?:下)?我一个|就我一个人|只有我一个")
# The speaker alone at the farm or the house (一个人种两亩田, 我现在一个人守着老屋, 我是一个人): a
# household of one, unless someone else is said to be there (我一个人种田，老伴身体不好); kin who died or
# are away do not count (老伴走了以后我一个人种田). Not what one person cannot do (一个人种不了地) or
# does for others (就靠我一个人种地, 我一个人在外面打工).
_ALONE_AT = re.compile(r"(?:^|(?<![靠让叫跟和给帮替])我|[，,。.!！?？;；\s])(?:现在|如今|平时|这些年|从此)?"
                       r"一个人(?:种|守|喂|在屋)(?!不)|(?<![靠让叫跟和给帮替])我(?:是|就是)一个人(?=$|[，,。.!！?？;；])")
_GONE = r"(?:走了|走的|走得早|去世|过世|不在了|死了|没了|过身|病故|离了|跑了|在外|外面|外地|打工|出去)"
_OTHERS_HERE = re.compile(rf"(?:{_SPOUSE}|{_KIN})(?![^，。,.!?！？；;]{{0,6}}?{_GONE})")
_COUPLE = re.compile(r"老[两俩]口|(?:^|就|就我们|屋里|家里)[两俩]口子|两公婆|(?:就|只有|只剩)我(?:跟|和)"
                     r"(?:老伴|老婆|老公|堂客|老倌子|孙子|孙女|儿子|女儿|崽|妈|爸|娘|老头|老太婆)(?![和跟、与及])")


def household_size(text: str) -> int | None:
    """家里五口人, 一家七口, 我们家4口人, 家里3个人, 一个人住 (1), 老两口 (2); the first plausible one."""
    best: tuple[int, int] | None = None
    for rule in _SIZE_RULES:
        for m in rule.finditer(text):
            if "不是" in (text[max(0, m.start() - 2):m.start()], text[max(0, m.start("n") - 2):m.start("n")]):
                continue  # 不是五口人是六口人: the corrected figure follows
            v = numeral(m.group("n"))
            if v is not None and 1 <= v <= 30 and v == int(v):
                if best is None or m.start("n") < best[0]:
                    best = (m.start("n"), int(v))
                break
    if best is not None:
        return best[1]
    composed = _composed(text)
    if composed is not None:
        return composed
    w = _WITH.search(text)
    if w is not None:
        v = numeral(w.group("n"))
        if v is not None and 1 <= v <= 20 and v == int(v):
            return int(v) + 1
    if _ALONE.search(text):
        return 1
    if _ALONE_AT.search(text) and not _OTHERS_HERE.search(text):
        return 1
    if _COUPLE.search(text):
        return 2
    return None


def _count(raw: str) -> int | None:
    v = numeral(raw)
    return int(v) if v is not None and 1 <= v <= 20 and v == int(v) else None


def _composed(text: str) -> int | None:
    """A household told by who lives with whom: the speaker (and spouse) plus the people named."""
    for rule, base in _COMPOSE:
        m = rule.search(text)
        if m is not None and (n := _count(m.group("m"))) is not None:
            return base + n
    f = _FOLLOW.search(text)
    if f is not None and (n := _count(f.group("n"))) is not None:
        return n + (1 if f.group("h") == "我" else 2)
    lw = _LIVES_WITH.search(text)
    if lw is not None:
        counts = [_count(x.group("n")) if x.group("n") else 1 for x in _MEMBER_RX.finditer(lw.group("list"))]
        if counts and all(counts):
            head = lw.group("h")
            return sum(c or 0 for c in counts) + (2 if head.startswith("我和") or "两口" in head else 1)
    c = _COUNTED.search(text)
    if c is not None:
        if c.group("old"):
            old, young = _count(c.group("old")), _count(c.group("young"))
            return old + young if old and young else None
        return _count(c.group("n"))
    return None
