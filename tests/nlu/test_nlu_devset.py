"""The labelled development set (tests/nlu/devset.jsonl): floors on every score `python -m nlu eval` gives."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from nlu.evaluate import evaluate
from nlu.gazetteer import Gazetteer
from tests.conftest import shared_data

INTENTS = {"report", "status", "consent", "decline", "cancel", "help", "human", "greeting", "other"}
DEVSET = Path(__file__).parent / "devset.jsonl"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    gaz = Gazetteer.from_csv(shared_data("hunan-villages.csv"))
    return evaluate(DEVSET, gazetteer=gaz)


def test_devset_is_large_and_varied() -> None:
    rows = [json.loads(line) for line in DEVSET.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) >= 200
    tags = Counter(t for r in rows for t in r["tags"])
    for tag in ("elderly", "dialect", "typo", "negation", "traditional", "multi", "proxy", "numbers",
                "resolved", "place", "shortcode", "urgent"):
        assert tags[tag] >= 3, tag
    assert len({r["text"] for r in rows}) == len(rows)
    for code in [f"{i:02d}" for i in range(1, 10)]:
        assert any(code in r["risks"] for r in rows), code
    for code in [f"{i:02d}" for i in range(1, 8)]:
        assert any(code in r["disasters"] for r in rows), code
    for code in ("A23", "A24", "A25", "A26"):
        assert any(code in r["guarantees"] for r in rows), code
    intents = {r["intent"] for r in rows}
    assert intents == INTENTS


def test_intent_floor(report: dict[str, Any]) -> None:
    assert report["intent_accuracy"] >= 0.97


def test_code_floors(report: dict[str, Any]) -> None:
    assert report["codes_micro"]["precision"] >= 0.97
    assert report["codes_micro"]["recall"] >= 0.97
    for label, v in report["labels"].items():
        assert v["f1"] >= 0.85, label


def test_entity_floors(report: dict[str, Any]) -> None:
    em = report["entity_exact_match"]
    for field in ("amounts", "household_size", "id_numbers", "invalid_id_numbers", "phones", "relation",
                  "place"):
        assert em[field] >= 0.97, field


def test_all_fields_floor(report: dict[str, Any]) -> None:
    assert report["all_fields_exact"] >= 0.95
