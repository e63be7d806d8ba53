"""Floors on the batches written after the dev set (tests/nlu/data): heldout_b (168, written before the
rules it led to), heldout_c (88, written after the first round and measured before the second), heldout_d
(60, written after the second round and measured before the third)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nlu.evaluate import evaluate
from nlu.gazetteer import Gazetteer
from tests.conftest import shared_data

DATA = Path(__file__).parent / "data"
# name: (intent accuracy, codes micro precision, codes micro recall, all fields exact, each entity field)
FLOORS = {
    "heldout_b": (0.98, 0.98, 0.98, 0.97, 0.97),
    "heldout_c": (0.97, 0.95, 0.95, 0.92, 0.95),
    "heldout_d": (0.98, 0.95, 0.97, 0.95, 0.95),
}


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.from_csv(shared_data("hunan-villages.csv"))


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_heldout_floors(name: str, gazetteer: Gazetteer) -> None:
    report: dict[str, Any] = evaluate(DATA / f"{name}.jsonl", gazetteer=gazetteer)
    intent, precision, recall, exact, entity = FLOORS[name]
    assert report["intent_accuracy"] >= intent
    assert report["codes_micro"]["precision"] >= precision
    assert report["codes_micro"]["recall"] >= recall
    assert report["all_fields_exact"] >= exact
    for field, score in report["entity_exact_match"].items():
        assert score >= entity, field
