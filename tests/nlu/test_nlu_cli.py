"""`python -m nlu parse | eval`: the command-line contract other checks rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared_data

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["intent", "risks", "disasters", "guarantees", "urgent", "amounts", "household_size", "id_numbers",
        "phones", "place"]


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "nlu", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", env=env, cwd=ROOT, check=True, timeout=120)


def test_parse_lines_to_json_lines() -> None:
    out = _run("parse", stdin="我老伴生病住院了，花了三万五\nCX\n\n房子漏雨\n").stdout.splitlines()
    rows = [json.loads(line) for line in out]
    assert len(rows) == 4
    assert all(list(r) == KEYS for r in rows)
    assert rows[0]["risks"] == ["01"] and rows[0]["amounts"] == [35000] and rows[0]["urgent"] is True
    assert rows[1]["intent"] == "status"
    assert rows[2]["intent"] == "other" and rows[2]["place"] is None
    assert rows[3]["guarantees"] == ["A23"]


def test_parse_with_villages_gazetteer() -> None:
    villages = shared_data("hunan-villages.csv")
    stdin = "衡南县松江镇和平村\n和平村\n"
    out = _run("parse", "--gazetteer", str(villages), stdin=stdin).stdout.splitlines()
    one, many = (json.loads(line)["place"] for line in out)
    assert one["code"] == "430422122245" and one["township"] == "松江镇" and one["county"] == "衡南县"
    assert isinstance(many, list) and len(many) > 1


def test_eval_reports_scores_and_misses(tmp_path: Path) -> None:
    data = tmp_path / "set.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"text": "老伴生病了", "intent": "report", "risks": ["01"]},
        {"text": "房子漏雨", "intent": "report", "guarantees": ["A23"]},
        {"text": "你好", "intent": "status"},
    ]) + "\n", encoding="utf-8")
    report = json.loads(_run("eval", str(data), "--json").stdout)
    assert report["messages"] == 3
    assert report["intent_accuracy"] == round(2 / 3, 3)
    assert report["labels"]["A27-01"]["f1"] == 1.0
    assert [w["text"] for w in report["wrong"]] == ["你好"]
    text = _run("eval", str(data)).stdout
    assert "intent accuracy" in text and "你好" in text
