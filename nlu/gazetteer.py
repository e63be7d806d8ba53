"""Administrative divisions matched in text: names, stems and suffixes, ambiguous names as candidates."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nlu.types import Place

Row = tuple[str, str, str, str | None]  # code, name, level, parent code

LEVELS = ("province", "city", "county", "township", "village")
# Suffixes stripped to get a name's stem, longest first, per level. People write the stem, the stem plus
# a short suffix (衡阳县, 龙潭镇, 和平村) or, for villages, 村 where the register says 村委会/村民委员会.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "province": ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市"),
    "city": ("土家族苗族自治州", "自治州", "地区", "市", "州", "盟"),
    "county": ("土家族苗族自治县", "苗族侗族自治县", "苗族自治县", "侗族自治县", "瑶族自治县", "土家族自治县",
               "自治县", "林区", "新区", "县", "市", "区", "旗"),
    "township": ("民族乡", "街道办事处", "办事处", "街道", "镇", "乡", "管理区", "开发区", "农场", "林场",
                 "场"),
    "village": ("社区居民委员会", "社区居委会", "村民委员会", "居民委员会", "村村委会", "村委会", "居委会",
                "委员会", "社区", "生活区", "管理区", "村", "居"),
}
# What a person may type after a stem; for villages any of the village-type or community-type words.
TYPED: dict[str, tuple[str, ...]] = {
    "province": ("省", "市", "自治区"),
    "city": ("自治州", "地区", "市", "州"),
    "county": ("自治县", "县", "市", "区"),
    "township": ("街道办事处", "街道", "办事处", "镇", "乡", "农场", "林场", "管理区", "开发区"),
    "village": ("村民委员会", "社区居委会", "村委会", "居委会", "社区", "村", "生活区", "管理区"),
}
_VILLAGE_KIND = {"村民委员会": "v", "村委会": "v", "村": "v", "社区居委会": "c", "居委会": "c", "社区": "c",
                 "生活区": "o", "管理区": "o"}
# 镇 and 乡 are confused (many 乡 became 镇); 街道 and its 办事处 are one kind.
_TOWN_KIND = {"镇": "town", "乡": "town", "民族乡": "town", "街道": "street", "街道办事处": "street",
              "办事处": "street"}
ALL_TYPED = tuple(sorted({s for v in TYPED.values() for s in v}, key=len, reverse=True))
MAX_CANDIDATES = 50


def level_of(code: str) -> str:
    """Level from a statistical code, padded (12 digits) or not (2/4/6/9/12)."""
    c = code.strip()
    parts = (c[0:2], c[2:4], c[4:6], c[6:9], c[9:12])
    last = 0
    for i, p in enumerate(parts):
        if p and p.strip("0"):
            last = i
    return LEVELS[last]


def stem_of(name: str, level: str) -> tuple[str, str]:
    """(stem, suffix) of an official name; the stem keeps at least one character."""
    for suf in SUFFIXES.get(level, ()):
        if name.endswith(suf) and len(name) > len(suf):
            stem = name[: -len(suf)]
            if level == "village" and stem.endswith("村") and len(stem) > 1 and suf != "村":
                return stem[:-1], "村" + suf
            return stem, suf
    return name, ""


def spoken_name(name: str) -> str:
    """A village as people say it: 梅花村委会 / 梅花村民委员会 -> 梅花村, 壕塘社区居委会 -> 壕塘社区;
    any other name as it is."""
    stem, suffix = stem_of(name, "village")
    if _kind(suffix) == "v":
        return stem + "村"
    if suffix.startswith("社区"):
        return stem + "社区"
    return name


def _kind(suffix: str) -> str:
    for k, v in _VILLAGE_KIND.items():
        if suffix.startswith(k) or suffix.endswith(k):
            return v
    return "?"


@dataclass(frozen=True, slots=True)
class Node:
    code: str
    name: str
    level: str
    parent: int  # index into Gazetteer.nodes, -1 for none
    suffix: str


class Gazetteer:
    """An index of division names by stem; `find(text)` returns a Place, candidates, or None."""

    def __init__(self, rows: Iterable[tuple[str, str, str, str | None]]) -> None:
        self.nodes: list[Node] = []
        index: dict[str, int] = {}
        pending: list[tuple[str, str, str, str | None]] = []
        for code, name, level, parent in rows:
            if level not in LEVELS:
                raise ValueError(f"unknown level {level!r} for {code}")
            if code in index:
                continue
            index[code] = len(self.nodes)
            _stem, suffix = stem_of(name, level)
            self.nodes.append(Node(code, name, level, -1, suffix))
            pending.append((code, name, level, parent))
        self.stems: dict[str, list[int]] = {}
        self._index = index
        self._kids: dict[int, list[int]] = {}  # parent index (-1: the top) -> children, in code order
        for i, (_code, name, level, parent) in enumerate(pending):
            node = self.nodes[i]
            if parent is not None and parent in index:
                self.nodes[i] = Node(node.code, node.name, level, index[parent], node.suffix)
            self._kids.setdefault(self.nodes[i].parent, []).append(i)
            stem = name[: len(name) - len(node.suffix)] if node.suffix else name
            self.stems.setdefault(stem, []).append(i)
        self.prefixes: dict[str, int] = {}  # first two characters -> longest stem starting so
        for s in self.stems:
            if len(s) >= 2 and len(s) > self.prefixes.get(s[:2], 0):
                self.prefixes[s[:2]] = len(s)
        self.singles = {s for s in self.stems if len(s) == 1}
        self.max_len = max((len(s) for s in self.stems), default=0)
        for kids in self._kids.values():
            kids.sort(key=lambda k: self.nodes[k].code)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_areas(cls, rows: Iterable[tuple[str, str, str, str | None]]) -> Gazetteer:
        """Rows of (code, name, level, parent_code) with level province|city|county|township|village."""
        return cls(rows)

    @classmethod
    def from_csv(cls, path: str | Path) -> Gazetteer:
        """hunan-villages.csv (village_code,...,town,village) or `code,name,parent` rows (level from code)."""
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader, [])]
            if "village_code" in header:
                return cls(_village_rows(header, reader))
            return cls(_generic_rows(header, reader))

    # -- matching -----------------------------------------------------------------------------------
    def mentions(self, text: str) -> list[tuple[int, int, list[int]]]:
        """(start, end, node indices) of each division name found, leftmost-longest, non-overlapping."""
        out: list[tuple[int, int, list[int]]] = []
        n = len(text)
        i = 0
        while i < n:
            best = None
            if text[i:i + 2] in self.prefixes or text[i] in self.singles:
                ctx = out[-1][2] if out and i - out[-1][1] <= 1 else []
                best = self._longest_at(text, i, ctx)
            if best is None:
                i += 1
                continue
            end, cands = best
            out.append((i, end, cands))
            i = end
        return out

    def _longest_at(self, text: str, i: int, context: list[int]) -> tuple[int, list[int]] | None:
        longest = max(self.prefixes.get(text[i:i + 2], 0), 1 if text[i] in self.singles else 0)
        for j in range(min(len(text), i + longest), i, -1):
            cands = self.stems.get(text[i:j])
            if not cands:
                continue
            suffix = _typed_suffix(text, j)
            kept = [c for c in cands if self._suffix_fits(c, suffix)] if suffix else []
            if not kept:
                suffix = ""
                kept = list(cands)
            if not suffix:
                # A bare stem stands alone only for cities and counties of two or more characters, for
                # names without any suffix, or right after a parent that was named.
                kids = self._children_of(kept, context) if context else []
                if kids:
                    kept = kids
                elif j - i >= 2:
                    kept = [c for c in kept if self.nodes[c].level in ("city", "county") or
                            (not self.nodes[c].suffix and j - i >= 3)]
                else:
                    kept = []
                if not kept:
                    continue
            elif context:
                kept = self._children_of(kept, context) or kept
            return j + len(suffix), kept
        return None

    def _suffix_fits(self, idx: int, typed: str) -> bool:
        node = self.nodes[idx]
        if not typed or typed not in TYPED.get(node.level, ()):
            return False
        if node.level == "village":
            return _kind(typed) == _kind(node.suffix)
        if node.level in ("county", "city", "province"):
            return node.suffix.endswith(typed) or typed.endswith(node.suffix)
        return _TOWN_KIND.get(typed, typed) == _TOWN_KIND.get(node.suffix, node.suffix)

    def _children_of(self, cands: list[int], context: list[int]) -> list[int]:
        ctx = set(context)
        return [c for c in cands if any(a in ctx for a in self._ancestors(c))]

    def _ancestors(self, idx: int) -> list[int]:
        out = []
        p = self.nodes[idx].parent
        while p >= 0:
            out.append(p)
            p = self.nodes[p].parent
        return out

    def find(self, text: str) -> Place | list[Place] | None:
        """The deepest division the text names, consistent with the other names in it."""
        found = self.mentions(text)
        if not found:
            return None
        chosen: list[int] = []
        for _s, _e, cands in found:
            if chosen:
                narrowed = self._children_of(cands, chosen)
                if narrowed:
                    chosen = narrowed
                    continue
                above = set()
                for c in cands:
                    above.update(self._ancestors(c))
                if any(c in above for c in chosen):
                    chosen = cands
                    continue
                # an unrelated place: keep the more specific reading seen so far
                if _depth(self.nodes[cands[0]].level) > _depth(self.nodes[chosen[0]].level):
                    chosen = cands
                continue
            chosen = cands
        chosen = sorted(set(chosen), key=lambda c: self.nodes[c].code)[:MAX_CANDIDATES]
        places = [self.place(c) for c in chosen]
        return places[0] if len(places) == 1 else places

    def children(self, code: str | None) -> list[Place]:
        """The divisions directly under `code` (None: the top ones), in code order; [] for an unknown code
        or a village. For choosing from a list when a name was not found."""
        parent = -1 if code is None else self._index.get(code)
        if parent is None:
            return []
        return [self.place(k) for k in self._kids.get(parent, [])]

    def place(self, idx: int) -> Place:
        node = self.nodes[idx]
        names: dict[str, tuple[str, str]] = {}
        for i in [idx, *self._ancestors(idx)]:
            n = self.nodes[i]
            names[n.level] = (n.name, n.code)
        return Place(
            code=node.code, level=node.level, name=node.name,
            city=names.get("city", (None, None))[0], city_code=names.get("city", (None, None))[1],
            county=names.get("county", (None, None))[0], county_code=names.get("county", (None, None))[1],
            township=names.get("township", (None, None))[0],
            township_code=names.get("township", (None, None))[1],
            village=names.get("village", (None, None))[0], village_code=names.get("village", (None, None))[1],
        )

    def __len__(self) -> int:
        return len(self.nodes)


def _depth(level: str) -> int:
    return LEVELS.index(level)


def _typed_suffix(text: str, j: int) -> str:
    for s in ALL_TYPED:
        if text.startswith(s, j):
            return s
    return ""


def _village_rows(header: list[str], reader: Iterable[list[str]]) -> Iterable[Row]:
    col = {h: k for k, h in enumerate(header)}
    seen: set[str] = set()
    province_code = None
    for r in reader:
        if not r:
            continue
        vcode = r[col["village_code"]]
        if "province" in col and province_code is None:
            province_code = vcode[:2]
            yield province_code, r[col["province"]], "province", None
        for code, name, level, parent in (
            (r[col["city_code"]], r[col["city"]], "city", province_code),
            (r[col["county_code"]], r[col["county"]], "county", r[col["city_code"]]),
            (r[col["town_code"]], r[col["town"]], "township", r[col["county_code"]]),
        ):
            if code not in seen:
                seen.add(code)
                yield code, name, level, parent
        yield vcode, r[col["village"]], "village", r[col["town_code"]]


_PARENT_COLUMNS = ("parent", "parent_code", "areaCode", "cityCode", "provinceCode")


def _generic_rows(header: list[str], reader: Iterable[list[str]]) -> Iterable[Row]:
    col = {h: k for k, h in enumerate(header)}
    if "code" not in col or "name" not in col:
        raise ValueError(f"gazetteer CSV needs code,name[,parent] or the villages format; got {header}")
    pcol = next((col[c] for c in _PARENT_COLUMNS if c in col), None)
    lcol = col.get("level")
    for r in reader:
        if not r:
            continue
        code = r[col["code"]].strip()
        parent = r[pcol].strip() if pcol is not None and pcol < len(r) and r[pcol].strip() else None
        level = r[lcol].strip() if lcol is not None else level_of(code)
        yield code, r[col["name"]].strip(), level, parent
