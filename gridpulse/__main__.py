"""Command line: ``python -m gridpulse <command>``."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
import time
from pathlib import Path

from gridpulse import auth, clock, config, dbopen, demo, exports
from gridpulse import store as store_pkg
from gridpulse.filters import Filters
from gridpulse.scope import ROLES, Scope
from gridpulse.store import Store


def _demo(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else config.db_path()
    if not dbopen.missing(path) and not args.force:
        print(f"数据库已存在：{path}。如需覆盖，请加 --force。", file=sys.stderr)
        return 1
    started = time.perf_counter()
    try:
        counts = demo.generate(path, args.cases, args.seed)
    except OSError as err:
        raise dbopen.creation_problem(err, path) from err
    took = time.perf_counter() - started
    print(
        f"已生成演示街道 {path}：网格 {counts['grids']} 个，诉求 {counts['cases']} 件，"
        f"资源 {counts['resources']} 个，用时 {took:.1f} 秒。"
    )
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码：")
    if first != getpass.getpass("再次输入密码："):
        raise auth.AuthError("两次输入的密码不一致。")
    return first


def _db_path(args: argparse.Namespace) -> Path:
    return Path(args.db) if getattr(args, "db", None) else config.db_path()


def _open_store(args: argparse.Namespace, write: bool | None = None) -> Store:
    """The store, or ``DatabaseError`` (missing, locked, damaged, read-only when ``write``: see ``dbopen``)."""
    return Store(_db_path(args), write=write)


def _users(args: argparse.Namespace) -> int:
    store = _open_store(args, write=args.action != "list")
    now = clock.now()
    try:
        if args.action == "list":
            print(store.users().drop(columns=["created_at"]).to_string(index=False))
            return 0
        if args.action == "add":
            row = auth.new_user(
                args.username, args.name or args.username, args.role, _read_password(args),
                tuple(args.community or ()), tuple(args.grid or ()), args.department,
            )  # fmt: skip
            if store.user(args.username) is not None:
                raise auth.AuthError(f"用户 {args.username} 已存在。")
            store.add_user(row)
            store.audit(now, "cli", "user_add", auth.describe_scope(auth.User.from_row(row).scope), args.username)
            print(f"已添加用户 {args.username}（{args.role}）。")
        elif store.user(args.username) is None:
            raise auth.AuthError(f"用户 {args.username} 不存在。")
        elif args.action == "passwd":
            store.set_password(args.username, auth.hash_password(_read_password(args)))
            store.audit(now, "cli", "user_passwd", "", args.username)
            print(f"已重设 {args.username} 的密码，解除登录限制，并结束其所有登录会话。")
        elif args.action == "unlock":
            store.record_login_success(args.username)
            store.clear_throttle(args.username)
            store.audit(now, "cli", "user_unlock", "", args.username)
            print(f"已解除 {args.username} 的登录限制。")
        else:
            store.set_disabled(args.username, args.action == "disable")
            store.audit(now, "cli", f"user_{args.action}", "", args.username)
            print(f"已{'停用' if args.action == 'disable' else '启用'}用户 {args.username}。")
        return 0
    finally:
        store.close()


def _bench(args: argparse.Namespace) -> int:
    from gridpulse.benchmarks import pages as bench

    if args.one:
        print(json.dumps(bench.measure_one(args.one, Path(args.workdir))))
        return 0
    if args.generate:
        print(json.dumps(bench.generate_one(args.generate, Path(args.workdir))))
        return 0
    sizes = bench.QUICK_SIZES if args.quick else bench.SIZES + (bench.FULL_EXTRA if args.full else ())
    print(bench.table(bench.run(sizes)))
    return 0


def _bench_cache(args: argparse.Namespace) -> int:
    from gridpulse.benchmarks import cache as bench_cache

    print(bench_cache.main(args.cases, args.users, args.minutes, args.every))
    return 0


def _report(args: argparse.Namespace) -> int:
    from gridpulse import reports, views
    from gridpulse.reports import fonts

    try:
        start, end = reports.parse_period(args.period)
    except ValueError as err:
        raise auth.AuthError(str(err)) from err
    store = _open_store(args)
    try:
        communities = tuple(args.community or ())
        unknown = set(communities) - set(store.communities(Scope.street()))
        if unknown:
            raise auth.AuthError(f"没有这些社区：{'、'.join(sorted(unknown))}。")
        f = Filters(start, end, communities)
        req = reports.ReportRequest(Scope.street(), f, store.as_of(), views.area_name(store, Scope.street(), f))
        out = Path(args.out) if args.out else Path(reports.file_name(req.area, start, end, args.format))
        try:
            data = reports.render(store, req, args.format, args.map_metric)
        except (ValueError, fonts.FontMissingError) as err:
            raise auth.AuthError(str(err)) from err
        out.write_bytes(data)
        store.audit(clock.now(), "cli", "export", "全街道", f"report {out.name}")
        if store.write_problem is not None:  # a read-only database or a full disk: the report is still made
            print(f"注意：审计记录未能保存。{store.write_problem.message}", file=sys.stderr)
    finally:
        store.close()
    print(f"已生成报告 {out}")
    return 0


def _bench_import(args: argparse.Namespace) -> int:
    from gridpulse.benchmarks import imports as bench_import

    return bench_import.main([str(n) for n in args.rows])


def _import(args: argparse.Namespace) -> int:
    from gridpulse.ingest import entry, mapping, run
    from gridpulse.ingest.sources import ImportFileError

    path = _db_path(args)
    created = False
    if dbopen.missing(path):  # only then: a file that exists but cannot be opened is never replaced
        if not args.street:
            raise auth.AuthError(f"数据库 {path} 不存在：新建时请加 --street 街道名称。")
        try:
            store_pkg.create_empty(path, args.street)
        except OSError as err:
            raise dbopen.creation_problem(err, path) from err
        created = True
    store = _open_store(args, write=True)
    try:
        if store.is_demo():
            reason = (
                f"{path} 是演示数据库，不接收真实数据：请用 --db data/街道名.duckdb --street 街道名 新建一个数据库。"
            )
            run.audit_failure(store, args.kind, Path(args.file).name, "cli", reason)
            raise auth.AuthError(reason)
        spec = mapping.load(Path(args.mapping)) if args.mapping else mapping.MappingSpec(kind=args.kind)
        maps = mapping.parse_map_flags(args.map or [])
        last = [0.0]

        def progress(done: int) -> None:
            if time.monotonic() - last[0] > 1:
                last[0] = time.monotonic()
                print(f"  已读取 {done:,} 行…", file=sys.stderr, flush=True)

        summary = entry.import_any(store, args.kind, Path(args.file), crs=args.crs, maps=maps, spec=spec,
                                   sheet=args.sheet, username="cli", progress=progress)  # fmt: skip
        if args.save_mapping:
            spec.columns = {**spec.columns, **summary.columns}
            spec.crs = args.crs or spec.crs
            spec.save(Path(args.save_mapping))
    except ImportFileError as err:
        run.audit_failure(store, args.kind, Path(args.file).name, "cli", err)  # unless the import did
        store.close()
        if created:  # the file this command made is taken away again
            path.unlink(missing_ok=True)
        raise auth.AuthError(f"导入失败，数据库未改动：{err}") from err
    finally:
        store.close()
    print("\n".join(summary.lines()))
    if summary.record.get("rejected"):
        print(f"拒收的行：python -m gridpulse rejects --import-id {summary.record['import_id']} --out 拒收.csv")
    return 0


def _rejects(args: argparse.Namespace) -> int:
    store = _open_store(args)
    try:
        rows = store.import_rejects(args.import_id)
    finally:
        store.close()
    if args.out:
        Path(args.out).write_bytes(exports.to_csv(rows))
        print(f"已写出 {len(rows)} 行拒收记录到 {args.out}")
    else:
        print(rows.to_string(index=False, max_colwidth=60) if len(rows) else "没有拒收的行。")
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

    u = sub.add_parser("users", help="管理登录用户：add | passwd | disable | enable | unlock | list")
    u.add_argument("action", choices=["add", "passwd", "disable", "enable", "unlock", "list"])
    u.add_argument("username", nargs="?")
    u.add_argument("--name", help="显示名称")
    u.add_argument("--role", choices=ROLES, help="角色")
    u.add_argument("--community", action="append", help="社区书记负责的社区（可重复）")
    u.add_argument("--grid", action="append", help="网格长负责的网格编码（可重复）")
    u.add_argument("--department", help="部门联络员所属部门")
    u.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行）")
    u.add_argument("--db", help="数据库路径")
    u.set_defaults(func=_users)
    b = sub.add_parser("bench", help="性能基准：2万、20万、100万件（--full 加 500万）")
    b.add_argument("--quick", action="store_true", help="短跑：2万与10万件")
    b.add_argument("--full", action="store_true", help="另加 500万件")
    b.add_argument("--one", type=int, help=argparse.SUPPRESS)
    b.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    b.add_argument("--workdir", help=argparse.SUPPRESS)
    b.set_defaults(func=_bench)
    bc = sub.add_parser("bench-cache", help="缓存基准：无固定统计时点的街道上视图缓存的命中率（对比按秒为键的基线）")
    bc.add_argument("--cases", type=int, default=config.DEMO_CASES, help="街道诉求件数")
    bc.add_argument("--users", type=int, default=10, help="同时使用的人数")
    bc.add_argument("--minutes", type=int, default=10, help="模拟的分钟数")
    bc.add_argument("--every", type=int, default=10, help="每人每隔几秒点击一次")
    bc.set_defaults(func=_bench_cache)
    r = sub.add_parser("report", help="生成联席会议报告（Excel / PDF / PPTX）")
    r.add_argument("--period", required=True, help="统计时段，如 2026-01..2026-06")
    r.add_argument("--community", action="append", help="只含这些社区（可重复）")
    r.add_argument("--format", default="xlsx", choices=["xlsx", "pdf", "pptx"])
    r.add_argument("--out", help="输出文件（默认：区域_时段_网格治理报告.<格式>）")
    r.add_argument(
        "--map-metric",
        default="resolution_rate",
        help="PDF/PPTX 地图按此指标着色：resolution_rate（默认）、cases_per_100、on_time_rate、satisfaction、"
        "self_resolved_share、rework_rate、median_hours",
    )
    r.add_argument("--db", help="数据库路径")
    r.set_defaults(func=_report)
    bi = sub.add_parser("bench-import", help="导入基准：12345 式 CSV 的导入速度与内存（默认 10 万与 100 万行）")
    bi.add_argument("rows", nargs="*", type=int, help="行数，如 100000 1000000")
    bi.set_defaults(func=_bench_import)
    i = sub.add_parser("import", help="导入真实数据：诉求（cases）、网格边界（grids）、服务阵地（resources）")
    i.add_argument("kind", choices=["cases", "grids", "resources"])
    i.add_argument("file", help="CSV（UTF-8/GBK）、XLSX、Open311 JSON；网格：GeoJSON、Shapefile（.zip）、KML")
    i.add_argument("--db", help="数据库路径（默认 GRIDPULSE_DB 或 data/gridpulse.duckdb）")
    i.add_argument("--street", help="新建数据库时的街道名称")
    i.add_argument("--crs", help="坐标系：wgs84（默认）、cgcs2000、gcj02（高德/腾讯）、bd09（百度）或 EPSG:4547 等")
    i.add_argument(
        "--map", action="append", metavar="目标列=文件列", help="指定列对应，如 --map case_id=流水号（可重复）"
    )
    i.add_argument("--mapping", help="映射文件（JSON）：列对应、状态与类别对照、坐标系")
    i.add_argument("--save-mapping", help="把本次用到的列对应存为映射文件，下月导入可复用")
    i.add_argument("--sheet", help="XLSX 的工作表名（默认第一张）")
    i.set_defaults(func=_import)
    rj = sub.add_parser("rejects", help="列出某次导入拒收的行及原因")
    rj.add_argument("--import-id", type=int, help="导入编号（默认最近一次）")
    rj.add_argument("--out", help="写成 CSV 文件")
    rj.add_argument("--db", help="数据库路径")
    rj.set_defaults(func=_rejects)
    args = parser.parse_args(argv)
    quiet = logging.getLogger("gridpulse")  # users read the Chinese messages below, not log lines
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    if args.func is _users and args.action != "list" and not args.username:
        parser.error("请给出用户名")
    if args.func is _users and args.action == "add" and not args.role:
        parser.error("添加用户需要 --role")
    try:
        return int(args.func(args))
    except auth.AuthError as err:
        print(str(err), file=sys.stderr)
        return 2
    except dbopen.DatabaseError as err:  # the database missing, locked, damaged, read-only, on a full disk
        print(f"{err.message}\n{err.hint}", file=sys.stderr)
        return 2
    except store_pkg.StoreError as err:  # met after opening, e.g. a damaged block the first read missed
        found = dbopen.problem("other", _db_path(args), str(err)[:300])
        print(f"{found.message}\n{found.hint}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
