"""Numbers as people type them: 三万五, 3.5万, 两千来块, 一万多, 三五百, 十块三毛; household sizes."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6,
          "七": 7, "八": 8, "九": 9, "壹": 1, "贰": 2, "貳": 2, "叁": 3, "參": 3, "肆": 4, "伍": 5, "陆": 6,
          "陸": 6, "柒": 7, "捌": 8, "玖": 9}
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


_NUM = rf"(?:\d+(?:\.\d+)?[{NUM_CHARS}]*|[{NUM_CHARS}]+)"
_APPROX = r"(?:多|来|余|几|左右|上下)?"
# "三五百", "两三万", "五六千": two digits then a unit -> a range.
_RANGE = re.compile(r"([一二两三四五六七八九])([二两三四五六七八九])([十百千万]+)")
_AMOUNT = re.compile(
    rf"(?P<num>{_NUM}(?:{_APPROX}[{NUM_CHARS}]+)?)(?P<approx>{_APPROX})"
    r"\s*(?P<unit>块钱|块|元钱|元|圆|万元|千元|百元|毛钱|毛|角)?"
    rf"(?P<tail>(?:(?<=块)|(?<=元))[一二两三四五六七八九\d](?:毛|角))?"
)
BLOCKING_UNITS = tuple("岁口个年月日天号人次亩斤头只间层米里周级栋座户位名度楼组队克棵袋分秒点届批辆台本件")
MONEY_UNITS = ("块", "元", "圆", "万元", "千元", "百元", "毛", "角")


def amounts(text: str, cue_spans: list[tuple[int, int]]) -> list[float]:
    """Money amounts in yuan: a numeral with a money unit, or one with 万/千 near a money word."""
    out: list[float] = []
    for m in _AMOUNT.finditer(text):
        raw = m.group("num")
        unit = m.group("unit") or ""
        if not any(c.isdigit() or c in NUM_CHARS for c in raw) or (raw in ("一", "十") and not unit):
            continue
        after = text[m.end():m.end() + 2]
        if not unit and after[:1] in BLOCKING_UNITS:
            continue
        if not unit and after[:1] == "多" and after[1:2] in BLOCKING_UNITS:
            continue
        has_big = any(c in raw for c in "万萬千kw")
        near_cue = any(a <= m.start() and m.start() - b <= 6 for a, b in cue_spans)
        if not unit and not (has_big and near_cue) and not (near_cue and _is_sizeable(raw)):
            continue
        core = raw.replace("多", "").replace("来", "").replace("余", "").replace("几", "")
        rng = _RANGE.fullmatch(core)
        if rng:
            lo, hi, units = DIGITS[rng.group(1)], DIGITS[rng.group(2)], rng.group(3)
            scale = numeral("一" + units)
            if scale and lo < hi:
                out.extend([lo * scale, hi * scale])
                continue
        value = numeral(core)
        if value is None or value <= 0:
            continue
        if unit in ("毛", "毛钱", "角"):
            value /= 10
        elif unit in ("万元",):
            value *= 10_000
        elif unit == "千元":
            value *= 1000
        elif unit == "百元":
            value *= 100
        tail = m.group("tail")
        if tail:
            value += (DIGITS.get(tail[0]) or int(tail[0])) / 10
        out.append(round(value, 2))
    return out


def _is_sizeable(raw: str) -> bool:
    """A bare numeral near a money word counts if it is at least 10 (not 一, 两 ...)."""
    v = numeral(raw)
    return v is not None and v >= 10


_SIZE = re.compile(
    rf"(?:一家|全家|家里|家中|屋里|我家|我们家|他家|她家|户里|家庭)?[^\d{NUM_CHARS}]{{0,3}}?"
    rf"(?P<n>\d{{1,2}}|[{NUM_CHARS}]{{1,3}})\s*(?:口人|口之家|口|个人|人)"
)
_SIZE_CONTEXT = ("家", "屋", "户", "口")


def household_size(text: str) -> int | None:
    """家里五口人, 一家七口, 我们家4口人, 家里3个人; the first plausible one (1-30)."""
    for m in _SIZE.finditer(text):
        whole = m.group(0)
        tail = text[m.end("n"):m.end()]
        if "口" not in tail and not any(c in whole for c in ("家", "屋", "户")):
            continue
        v = numeral(m.group("n"))
        if v is not None and 1 <= v <= 30 and v == int(v):
            return int(v)
    return None
