"""Command line: `parse` (stdin lines -> JSON lines), `eval FILE` (labelled JSONL), `bench`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def _parse_cmd(args: argparse.Namespace) -> int:
    from nlu.gazetteer import Gazetteer
    from nlu.parser import parse

    gaz = Gazetteer.from_csv(args.gazetteer) if args.gazetteer else None
    out = sys.stdout
    for line in sys.stdin:
        p = parse(line.rstrip("\r\n"), gaz)
        out.write(json.dumps(p.contract(), ensure_ascii=False) + "\n")
        out.flush()
    return 0


def _eval_cmd(args: argparse.Namespace) -> int:
    from nlu.evaluate import evaluate, render

    report = evaluate(args.file, gazetteer=args.gazetteer)
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else render(report))
    return 0


def _bench_cmd(args: argparse.Namespace) -> int:
    from nlu.bench import run

    print(json.dumps(run(seconds=args.seconds, villages=args.gazetteer), ensure_ascii=False, indent=1))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nlu", description="Shenbao message parser")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("parse", help="stdin lines -> one JSON object per line")
    p.add_argument("--gazetteer", help="CSV of divisions (hunan-villages.csv format or code,name,parent)")
    p.set_defaults(func=_parse_cmd)
    e = sub.add_parser("eval", help="precision/recall/F1 on a labelled JSONL file")
    e.add_argument("file")
    e.add_argument("--gazetteer")
    e.add_argument("--json", action="store_true", help="machine-readable report")
    e.set_defaults(func=_eval_cmd)
    b = sub.add_parser("bench", help="throughput, cold start, peak memory, ratio to a bare jieba cut")
    b.add_argument("--seconds", type=float, default=3.0, help="CPU seconds per measurement")
    b.add_argument("--gazetteer", help="villages CSV for the gazetteer figures (default ../shared/data)")
    b.set_defaults(func=_bench_cmd)
    args = ap.parse_args(argv)
    return int(args.func(args))
