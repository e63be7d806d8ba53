"""Scoring the parser on a labelled JSONL file: per-label P/R/F1, intent accuracy, entity exact match."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from nlu.gazetteer import Gazetteer
from nlu.parser import parse
from nlu.types import Parse, Place

SET_FIELDS = ("risks", "disasters", "guarantees")
ENTITY_FIELDS = ("amounts", "household_size", "id_numbers", "invalid_id_numbers", "phones", "relation",
                 "place", "person_name")
OPTIONAL_FIELDS = frozenset({"place", "person_name"})  # scored only on rows that label them


def load(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _place_value(place: Place | list[Place] | None) -> Any:
    if place is None:
        return None
    if isinstance(place, list):
        return "many"
    return place.code


def predicted(p: Parse, field: str) -> Any:
    if field == "place":
        return _place_value(p.place)
    if field == "amounts":
        return sorted(float(a) for a in p.amounts)
    value = getattr(p, field)
    return sorted(value) if isinstance(value, list) else value


LIST_FIELDS = frozenset({"amounts", "id_numbers", "invalid_id_numbers", "phones"})


def expected(row: dict[str, Any], field: str) -> Any:
    """The labelled value; a missing list field means none, a missing scalar means null."""
    value = row.get(field, [] if field in LIST_FIELDS else None)
    if field == "amounts":
        return sorted(float(a) for a in value or [])
    if isinstance(value, list):
        return sorted(value)
    return value


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "support": tp + fn}


def evaluate(path: str | Path, gazetteer: str | Path | Gazetteer | None = None) -> dict[str, Any]:
    """Score every row; `place` (with a gazetteer) and `person_name` only on rows that label them."""
    gaz = Gazetteer.from_csv(gazetteer) if isinstance(gazetteer, str | Path) else gazetteer
    rows = load(path)
    counts: dict[str, Counter[str]] = {}
    intent_ok = 0
    entity_ok: Counter[str] = Counter()
    entity_n: Counter[str] = Counter()
    wrong: list[dict[str, Any]] = []

    def count(label: str, key: str) -> None:
        counts.setdefault(label, Counter())[key] += 1

    for row in rows:
        p = parse(row["text"], gaz)
        diffs: dict[str, Any] = {}
        if p.intent == row.get("intent", "other"):
            intent_ok += 1
        else:
            diffs["intent"] = [row.get("intent"), p.intent]
        count(f"intent:{row.get('intent', 'other')}", "support")
        for label in {f"intent:{row.get('intent', 'other')}", f"intent:{p.intent}"}:
            gold, got = label == f"intent:{row.get('intent', 'other')}", label == f"intent:{p.intent}"
            count(label, "tp" if gold and got else "fn" if gold else "fp")
        for field in SET_FIELDS:
            gold_set, got_set = set(row.get(field) or []), set(getattr(p, field))
            prefix = {"risks": "A27-", "disasters": "A27a-", "guarantees": ""}[field]
            for code in gold_set | got_set:
                kind = "tp" if code in gold_set & got_set else "fn" if code in gold_set else "fp"
                count(prefix + code, kind)
            if gold_set != got_set:
                diffs[field] = [sorted(gold_set), sorted(got_set)]
        gold_u, got_u = bool(row.get("urgent")), p.urgent
        if gold_u or got_u:
            count("urgent", "tp" if gold_u and got_u else "fn" if gold_u else "fp")
        if gold_u != got_u:
            diffs["urgent"] = [gold_u, got_u]
        for field in ENTITY_FIELDS:
            if field in OPTIONAL_FIELDS and (field not in row or (field == "place" and gaz is None)):
                continue
            entity_n[field] += 1
            if predicted(p, field) == expected(row, field):
                entity_ok[field] += 1
            else:
                diffs[field] = [expected(row, field), predicted(p, field)]
        if diffs:
            wrong.append({"text": row["text"], "diff": diffs, "triggers": p.triggers})
    labels = {label: _prf(c["tp"], c["fp"], c["fn"]) for label, c in sorted(counts.items())}
    codes = [v for k, v in labels.items() if not k.startswith("intent:") and k != "urgent"]
    micro = Counter[str]()
    for k, c in counts.items():
        if not k.startswith("intent:") and k != "urgent":
            micro.update({"tp": c["tp"], "fp": c["fp"], "fn": c["fn"]})
    return {
        "messages": len(rows),
        "intent_accuracy": round(intent_ok / len(rows), 3) if rows else 0.0,
        "codes_micro": _prf(micro["tp"], micro["fp"], micro["fn"]),
        "codes_macro_f1": round(sum(v["f1"] for v in codes) / len(codes), 3) if codes else 0.0,
        "labels": labels,
        "entity_exact_match": {f: round(entity_ok[f] / entity_n[f], 3) for f in ENTITY_FIELDS if entity_n[f]},
        "all_fields_exact": round((len(rows) - len(wrong)) / len(rows), 3) if rows else 0.0,
        "wrong": wrong,
    }


def render(report: dict[str, Any]) -> str:
    """A plain-text report for people."""
    lines = [f"messages: {report['messages']}   intent accuracy: {report['intent_accuracy']}   "
             f"codes micro: {report['codes_micro']}   codes macro F1: {report['codes_macro_f1']}   "
             f"all fields exact: {report['all_fields_exact']}", "", f"{'label':<18} P      R      F1     n"]
    for label, v in report["labels"].items():
        lines.append(f"{label:<18} {v['precision']:<6} {v['recall']:<6} {v['f1']:<6} {v['support']}")
    lines += ["", "entity exact match: " + json.dumps(report["entity_exact_match"], ensure_ascii=False), "",
              f"wrong ({len(report['wrong'])}):"]
    for w in report["wrong"]:
        lines.append(f"  {w['text']}\n      {json.dumps(w['diff'], ensure_ascii=False)}")
    return "\n".join(lines)
