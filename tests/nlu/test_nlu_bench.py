"""`python -m nlu bench` runs and reports every figure the issue asks for (figures are printed, never
asserted: timings belong in the closing note, not in tests)."""

from __future__ import annotations

import json

from tests.nlu.test_nlu_cli import _run

FIGURES = ("parse_msgs_per_s", "bare_jieba_lcut_msgs_per_s", "parse_cost_vs_bare_lcut", "cold_start_s",
           "cold_import_s", "cold_first_parse_s", "peak_rss_mb_parser_only", "messages", "mean_chars")


def test_bench_reports_throughput_ratio_cold_start_and_memory() -> None:
    report = json.loads(_run("bench", "--seconds", "0.2", "--gazetteer", "/nonexistent.csv").stdout)
    for key in FIGURES:
        assert isinstance(report[key], int | float) and report[key] > 0, key
    assert report["messages"] >= 100 and 20 <= report["mean_chars"] <= 60  # typical messages, as specified
    assert set(report["targets"]) == {"parse_msgs_per_s", "parse_cost_vs_bare_lcut", "cold_start_s",
                                      "peak_rss_mb"}
