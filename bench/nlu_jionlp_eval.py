"""Compare JioNLP with nlu's extractors on the dev set: money, phones, ID cards, place; speed, cold start.

Run: /work/venv/bin/python bench/nlu_jionlp_eval.py  (needs jionlp installed; it is not a dependency).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "tests" / "nlu" / "devset.jsonl"


def _cold(stmt: str) -> float:
    code = f"import time; t=time.perf_counter(); {stmt}; print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def _text(x: Any) -> str:
    return str(x["text"] if isinstance(x, dict) else x)


def _jio_amounts(jio: Any, text: str) -> list[float]:
    out: list[float] = []
    for item in jio.ner.extract_money(text, with_parsing=True):
        detail = item.get("detail") or {} if isinstance(item, dict) else {}
        num = detail.get("num")
        values = num if isinstance(num, list) else [num]
        for v in values:
            if v is None:
                continue
            try:
                out.append(float(v))
            except (TypeError, ValueError):
                pass
    return sorted(out)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    import jionlp as jio

    import nlu

    nlu.parse("花了三万五")  # build the tokenizer before timing
    _jio_amounts(jio, "花了三万五元")
    jio.extract_phone_number("13907345678")
    jio.extract_id_card("11010519491231002X")
    rows = [json.loads(line) for line in DEVSET.read_text(encoding="utf-8").splitlines() if line]
    score: dict[str, list[int]] = {k: [0, 0] for k in ("amounts", "phones", "id_numbers")}
    jio_score: dict[str, list[int]] = {k: [0, 0] for k in score}
    t_nlu = t_jio = 0.0
    for r in rows:
        text = r["text"]
        t = time.perf_counter()
        p = nlu.parse(text)
        t_nlu += time.perf_counter() - t
        t = time.perf_counter()
        j_amounts = _jio_amounts(jio, text)
        j_phones = sorted(
            {
                _text(x).replace("-", "").replace(" ", "").removeprefix("+86")
                for x in jio.extract_phone_number(text)
            }
        )
        j_ids = sorted({_text(x).upper() for x in jio.extract_id_card(text)})
        t_jio += time.perf_counter() - t
        gold = {
            "amounts": sorted(map(float, r["amounts"])),
            "phones": sorted(r["phones"]),
            "id_numbers": sorted(r["id_numbers"]),
        }
        mine = {
            "amounts": sorted(map(float, p.amounts)),
            "phones": sorted(p.phones),
            "id_numbers": sorted(p.id_numbers),
        }
        theirs = {"amounts": j_amounts, "phones": j_phones, "id_numbers": j_ids}
        for k in score:
            score[k][0] += mine[k] == gold[k]
            score[k][1] += 1
            jio_score[k][0] += theirs[k] == gold[k]
            jio_score[k][1] += 1
    report = {
        "messages": len(rows),
        "exact_match_nlu": {k: round(a / b, 3) for k, (a, b) in score.items()},
        "exact_match_jionlp": {k: round(a / b, 3) for k, (a, b) in jio_score.items()},
        "ms_per_message_nlu_full_parse": round(t_nlu / len(rows) * 1000, 3),
        "ms_per_message_jionlp_money_phone_id": round(t_jio / len(rows) * 1000, 3),
        "cold_import_s_jionlp": round(_cold("import jionlp"), 3),
        "cold_import_s_nlu_with_first_parse": round(_cold("import nlu; nlu.parse('花了三万五')"), 3),
        "cold_s_jionlp_first_location": round(
            _cold("import jionlp; jionlp.parse_location('衡南县松江镇')"), 3
        ),
    }
    t = time.perf_counter()
    loc = jio.parse_location("湖南省衡阳市衡南县松江镇和平村", town_village=True)
    report["jionlp_parse_location_first_call_s"] = round(time.perf_counter() - t, 3)
    report["jionlp_parse_location_example"] = {
        k: loc.get(k) for k in ("province", "city", "county", "town", "village")
    }
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report["peak_rss_mb_after_jionlp_location"] = round(peak, 1)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
