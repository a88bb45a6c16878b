"""Command line: ``python -m gridpulse <command>``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gridpulse import config, demo


def _demo(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else config.db_path()
    if path.exists() and not args.force:
        print(f"数据库已存在：{path}。如需覆盖，请加 --force。", file=sys.stderr)
        return 1
    started = time.perf_counter()
    counts = demo.generate(path, args.cases, args.seed)
    took = time.perf_counter() - started
    print(
        f"已生成演示街道 {path}：网格 {counts['grids']} 个，诉求 {counts['cases']} 件，"
        f"资源 {counts['resources']} 个，用时 {took:.1f} 秒。"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gridpulse", description="GridPulse 网格治理驾驶舱")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="生成演示街道数据库")
    p.add_argument("--cases", type=int, default=config.DEMO_CASES, help="诉求件数")
    p.add_argument("--seed", type=int, default=config.DEMO_SEED, help="随机种子（相同种子生成相同数据）")
    p.add_argument("--db", help="数据库路径（默认 GRIDPULSE_DB 或 data/gridpulse.duckdb）")
    p.add_argument("--force", action="store_true", help="覆盖已有数据库")
    p.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
