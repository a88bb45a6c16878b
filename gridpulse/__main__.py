"""Command line: ``python -m gridpulse <command>``."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import os
import sys
import time
from pathlib import Path

from gridpulse import auth, clock, config, dbopen, demo, exports
from gridpulse import store as store_pkg
from gridpulse.filters import Filters
from gridpulse.scope import ROLES, Scope
from gridpulse.store import Store
from gridpulse.strings import t


def _exists(target: Path | str) -> bool:
    """A database is there: a file (even one that cannot be opened), or a street on the PostgreSQL server."""
    if store_pkg.is_shared(target):
        from gridpulse.store import postgres

        return postgres.has_street(str(target))
    return not dbopen.missing(Path(target))


def _demo(args: argparse.Namespace) -> int:
    path = _db_path(args)
    if _exists(path) and not args.force:
        print(t("cli_db_exists", path=_shown(path)), file=sys.stderr)
        return 1
    started = time.perf_counter()
    try:
        counts = demo.generate(path, args.cases, args.seed, replace=args.force, planted=True)
    except OSError as err:
        raise dbopen.creation_problem(err, path) from err
    took = time.perf_counter() - started
    print(
        t(
            "cli_demo_done",
            path=_shown(path),
            grids=counts["grids"],
            cases=counts["cases"],
            planted=counts["planted"],
            resources=counts["resources"],
            seconds=took,
        )
    )
    return 0


def _read_password(args: argparse.Namespace) -> str:
    from gridpulse import serving

    given = serving.served_password.get()
    if given is not None:  # run by the dashboard for a caller, who typed it on their side
        return given
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(t("cli_password"))
    if first != getpass.getpass(t("cli_password_again")):
        raise auth.AuthError(t("cli_password_mismatch"))
    return first


def _db_path(args: argparse.Namespace) -> Path | str:
    """``--db`` or ``GRIDPULSE_DB``: a DuckDB file, or a PostgreSQL URL (``postgresql://…``)."""
    given = getattr(args, "db", None)
    if given:
        return given if store_pkg.is_shared(given) else Path(given)
    return config.db_target()


def _shown(target: Path | str) -> str:
    """The database as said to the user: a URL without its password."""
    if store_pkg.is_shared(target):
        from gridpulse.store import postgres

        return postgres.redacted(str(target))
    return str(target)


def _open_store(args: argparse.Namespace, write: bool | None = None) -> Store:
    """The store, or ``DatabaseError`` (missing, locked, damaged, read-only when ``write``: see ``dbopen``).

    Run by the dashboard for a caller (gridpulse/serving.py), the dashboard's own open store.
    """
    from gridpulse import serving

    mine = serving.served_store.get()
    if mine is not None:
        return _Borrowed(mine)  # type: ignore[return-value]
    return store_pkg.open_store(_db_path(args), write=write)


class _Borrowed:
    """The dashboard's store lent to a command: everything but ``close`` (others are using it)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def close(self) -> None:
        pass


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
                raise auth.AuthError(t("cli_user_exists", user=args.username))
            store.add_user(row)
            store.audit(now, "cli", "user_add", auth.describe_scope(auth.User.from_row(row).scope), args.username)
            print(t("cli_user_added", user=args.username, role=args.role))
        elif store.user(args.username) is None:
            raise auth.AuthError(t("cli_user_missing", user=args.username))
        elif args.action == "passwd":
            store.set_password(args.username, auth.hash_password(_read_password(args)))
            store.audit(now, "cli", "user_passwd", "", args.username)
            print(t("cli_user_passwd", user=args.username))
        elif args.action == "unlock":
            store.record_login_success(args.username)
            store.clear_throttle(args.username)
            store.audit(now, "cli", "user_unlock", "", args.username)
            print(t("cli_user_unlocked", user=args.username))
        else:
            store.set_disabled(args.username, args.action == "disable")
            store.audit(now, "cli", f"user_{args.action}", "", args.username)
            print(t("cli_user_disabled" if args.action == "disable" else "cli_user_enabled", user=args.username))
        return 0
    finally:
        store.close()


def _targets(args: argparse.Namespace) -> int:
    from gridpulse import admin_views, scorecard, targets

    store = _open_store(args, write=args.action != "show")
    try:
        if args.action == "show":
            print(scorecard.settings(store).to_json())
            return 0
        if args.action == "reset":
            admin_views.save_targets(store, "cli", None)
            print(t("targets_reset"))
            return 0
        if not args.file:
            print(t("cli_targets_need_file"), file=sys.stderr)
            return 2
        try:
            text = Path(args.file).read_text(encoding="utf-8-sig")
            admin_views.save_targets(store, "cli", text)
        except (OSError, UnicodeDecodeError) as err:
            print(t("cli_targets_unreadable", path=args.file, error=err), file=sys.stderr)
            return 2
        except targets.SettingsError as err:
            print(str(err), file=sys.stderr)
            return 2
        print(t("targets_saved"))
        return 0
    finally:
        store.close()


def _basemap(args: argparse.Namespace) -> int:
    """``basemap show``: the basemap in force (and why a saved one is not); ``convert``: MBTiles into the folder."""
    from gridpulse import admin_views, basemap

    if args.action == "convert":
        if not args.file:
            print(t("cli_basemap_need_file"), file=sys.stderr)
            return 2
        try:
            path, zoom = basemap.convert_mbtiles(Path(args.file))
        except basemap.BasemapError as err:
            print(str(err), file=sys.stderr)
            return 2
        print(t("cli_basemap_converted", path=path, zoom=zoom))
        return 0
    store = _open_store(args, write=False)
    try:
        in_force, why = basemap.current(store.basemap_json())
    finally:
        store.close()
    print(t("admin_basemap_in_force", what=admin_views.describe_basemap(in_force)))
    if why:
        print(t("admin_basemap_broken", reason=why))
    return 0


def _ask_the_dashboard(args: argparse.Namespace, argv: list[str]) -> int | None:
    """The database is held by the dashboard: run the command there (gridpulse/serving.py); None if none answers."""
    from gridpulse import serving

    info = serving.read(_db_path(args))
    if info is None or serving.served_store.get() is not None or not argv or argv[0] not in serving.SERVED_COMMANDS:
        return None
    password = None
    if args.func is _users and args.action in ("add", "passwd"):
        password = _read_password(args)
    try:
        rc, out, err = serving.ask(info, argv, password)
    except serving.NotServingError:
        return None
    print(t("serving_forwarded", port=info.port), file=sys.stderr)
    print(out, end="")
    print(err, end="", file=sys.stderr)
    return rc


def _bench_load(args: argparse.Namespace) -> int:
    from gridpulse.benchmarks import load

    counts = [int(n) for n in str(args.sessions).split(",") if n.strip()]
    print(load.table(load.run(args.cases, counts, args.seconds, args.import_rows, args.pg, args.processes)))
    return 0


def _bench_store(args: argparse.Namespace) -> int:
    from gridpulse.benchmarks import store as bench_store

    sizes = [int(n) for n in str(args.cases).split(",") if n.strip()]
    print(bench_store.table([bench_store.measure(args.pg, n) for n in sizes]))
    return 0


def _bench_alerts(args: argparse.Namespace) -> int:
    from gridpulse.benchmarks import alerts as bench_alerts

    print(bench_alerts.table(args.streets, args.grids, args.categories, args.outbreaks, args.seed))
    return 0


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
            raise auth.AuthError(t("cli_unknown_communities", names=t("list_separator").join(sorted(unknown))))
        f = Filters(start, end, communities)
        req = reports.ReportRequest(Scope.street(), f, store.as_of(), views.area_name(store, Scope.street(), f))
        name = reports.file_name(req.area, start, end, args.format)
        out = Path(args.out) if args.out else Path(args.out_dir or ".") / name
        try:
            data = reports.render(store, req, args.format, args.map_metric)
        except (ValueError, fonts.FontMissingError) as err:
            raise auth.AuthError(str(err)) from err
        out.write_bytes(data)
        store.audit(clock.now(), "cli", "export", t("whole_street"), f"report {out.name}")
        if store.write_problem is not None:  # a read-only database or a full disk: the report is still made
            print(t("cli_audit_unsaved", message=store.write_problem.message), file=sys.stderr)
    finally:
        store.close()
    print(t("cli_report_done", path=out))
    return 0


def _bench_import(args: argparse.Namespace) -> int:
    from gridpulse.benchmarks import imports as bench_import

    return bench_import.main([str(n) for n in args.rows])


def _bench_grids(args: argparse.Namespace) -> int:
    from gridpulse.benchmarks import grids as bench_grids

    return bench_grids.main([str(n) for n in args.grids])


def _yield_cpu() -> None:
    """An import from the command line runs at a lower CPU priority (``config.IMPORT_NICE``); one that the
    dashboard runs for us (gridpulse/serving.py) is in the dashboard's process, whose priority stays."""
    from gridpulse import serving

    if serving.served_store.get() is None and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(config.IMPORT_NICE)


def _import(args: argparse.Namespace) -> int:
    from gridpulse.ingest import entry, mapping, run
    from gridpulse.ingest.sources import ImportFileError

    _yield_cpu()  # first: on Linux a thread's priority passes only to the threads it starts after (the database's)
    path = _db_path(args)
    created = False
    if not _exists(path):  # only then: a file that exists but cannot be opened is never replaced
        if not args.street:
            raise auth.AuthError(t("cli_new_db_needs_street", path=_shown(path)))
        try:
            store_pkg.create_empty(path, args.street)
        except OSError as err:
            raise dbopen.creation_problem(err, path) from err
        created = True
    store = _open_store(args, write=True)
    try:
        if store.is_demo():
            reason = t("cli_demo_db_refused", path=_shown(path))
            run.audit_failure(store, args.kind, Path(args.file).name, "cli", reason)
            raise auth.AuthError(reason)
        spec = mapping.load(Path(args.mapping)) if args.mapping else mapping.MappingSpec(kind=args.kind)
        spec.date_order = args.date_order or spec.date_order
        maps = mapping.parse_map_flags(args.map or [])
        last = [0.0]

        def progress(done: int) -> None:
            if time.monotonic() - last[0] > 1:
                last[0] = time.monotonic()
                print("  " + t("imp_progress", n=done), file=sys.stderr, flush=True)

        summary = entry.import_any(store, args.kind, Path(args.file), crs=args.crs, maps=maps, spec=spec,
                                   sheet=args.sheet, username="cli", progress=progress)  # fmt: skip
        if args.save_mapping:
            spec.columns = {**spec.columns, **summary.columns}
            spec.crs = args.crs or spec.crs
            spec.save(Path(args.save_mapping))
    except ImportFileError as err:
        run.audit_failure(store, args.kind, Path(args.file).name, "cli", err)  # unless the import did
        store.close()
        if created:  # the file (or the PostgreSQL street) this command made is taken away again
            _remove_new(path)
        raise auth.AuthError(t("imp_failed", error=err)) from err
    finally:
        store.close()
    print("\n".join(summary.lines()))
    if summary.record.get("rejected"):
        print(t("cli_rejects_hint", import_id=summary.record["import_id"]))
    return 0


def _remove_new(target: Path | str) -> None:
    if store_pkg.is_shared(target):
        from gridpulse.store import postgres

        postgres.clear(str(target))
    else:
        Path(target).unlink(missing_ok=True)


def _copy(args: argparse.Namespace) -> int:
    """A street's DuckDB file into the PostgreSQL server (a street that outgrew one process)."""
    from gridpulse.store import postgres

    target = args.to or config.db_target()
    if not store_pkg.is_shared(target):
        raise auth.AuthError(t("cli_copy_needs_pg"))
    source = Store(Path(args.source), write=False)
    try:
        counts = postgres.copy_street(source, str(target), replace=args.force)
    finally:
        source.close()
    print(t("cli_copy_done", url=_shown(target), **counts))
    return 0


def _backup(args: argparse.Namespace) -> int:
    from gridpulse import backup

    print(backup.backup(_db_path(args), Path(args.out), lambda: _open_store(args)))
    return 0


def _restore(args: argparse.Namespace) -> int:
    from gridpulse import backup

    print(backup.restore(_db_path(args), Path(args.file), force=args.force))
    return 0


def _rejects(args: argparse.Namespace) -> int:
    store = _open_store(args)
    try:
        rows = store.import_rejects(args.import_id)
    finally:
        store.close()
    if args.out:
        Path(args.out).write_bytes(exports.to_csv(rows))
        print(t("cli_rejects_written", n=len(rows), path=args.out))
    else:
        print(rows.to_string(index=False, max_colwidth=60) if len(rows) else t("cli_no_rejects"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gridpulse", description=t("cli_description"))
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help=t("cli_help_demo"))
    p.add_argument("--cases", type=int, default=config.DEMO_CASES, help=t("cli_help_demo_cases"))
    p.add_argument("--seed", type=int, default=config.DEMO_SEED, help=t("cli_help_seed"))
    p.add_argument("--db", help=t("cli_help_db_default"))
    p.add_argument("--force", action="store_true", help=t("cli_help_force"))
    p.set_defaults(func=_demo)

    u = sub.add_parser("users", help=t("cli_help_users"))
    u.add_argument("action", choices=["add", "passwd", "disable", "enable", "unlock", "list"])
    u.add_argument("username", nargs="?")
    u.add_argument("--name", help=t("cli_help_name"))
    u.add_argument("--role", choices=ROLES, help=t("cli_help_role"))
    u.add_argument("--community", action="append", help=t("cli_help_community"))
    u.add_argument("--grid", action="append", help=t("cli_help_grid"))
    u.add_argument("--department", help=t("cli_help_department"))
    u.add_argument("--password-stdin", action="store_true", help=t("cli_help_password_stdin"))
    u.add_argument("--db", help=t("cli_help_db"))
    u.set_defaults(func=_users)
    b = sub.add_parser("bench", help=t("cli_help_bench"))
    b.add_argument("--quick", action="store_true", help=t("cli_help_bench_quick"))
    b.add_argument("--full", action="store_true", help=t("cli_help_bench_full"))
    b.add_argument("--one", type=int, help=argparse.SUPPRESS)
    b.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    b.add_argument("--workdir", help=argparse.SUPPRESS)
    b.set_defaults(func=_bench)
    bl = sub.add_parser("bench-load", help=t("cli_help_bench_load"))
    bl.add_argument("--cases", type=int, default=200_000, help=t("cli_help_demo_cases"))
    bl.add_argument("--sessions", default="1,10,20,50", help=t("cli_help_bench_sessions"))
    bl.add_argument("--seconds", type=float, default=60.0, help=t("cli_help_bench_seconds"))
    bl.add_argument("--import-rows", type=int, default=100_000, help=t("cli_help_bench_import_rows"))
    bl.add_argument("--pg", help=t("cli_help_bench_pg"))
    bl.add_argument("--processes", type=int, help=t("cli_help_bench_processes"))
    bl.set_defaults(func=_bench_load)

    ba = sub.add_parser("bench-alerts", help=t("cli_help_bench_alerts"))
    ba.add_argument("--streets", type=int, default=10, help=t("cli_help_bench_streets"))
    ba.add_argument("--grids", type=int, default=30, help=t("cli_help_bench_grids"))
    ba.add_argument("--categories", type=int, default=8, help=t("cli_help_bench_categories"))
    ba.add_argument("--outbreaks", type=int, default=10, help=t("cli_help_bench_outbreaks"))
    ba.add_argument("--seed", type=int, default=1)
    ba.set_defaults(func=_bench_alerts)
    bs = sub.add_parser("bench-store", help=t("cli_help_bench_store"))
    bs.add_argument("--pg", required=True, help=t("cli_help_bench_pg"))
    bs.add_argument("--cases", default="200000,1000000", help=t("cli_help_bench_store_cases"))
    bs.set_defaults(func=_bench_store)

    bc = sub.add_parser("bench-cache", help=t("cli_help_bench_cache"))
    bc.add_argument("--cases", type=int, default=config.DEMO_CASES, help=t("cli_help_bench_cases"))
    bc.add_argument("--users", type=int, default=10, help=t("cli_help_bench_users"))
    bc.add_argument("--minutes", type=int, default=10, help=t("cli_help_bench_minutes"))
    bc.add_argument("--every", type=int, default=10, help=t("cli_help_bench_every"))
    bc.set_defaults(func=_bench_cache)
    r = sub.add_parser("report", help=t("cli_help_report"))
    r.add_argument("--period", required=True, help=t("cli_help_period"))
    r.add_argument("--community", action="append", help=t("cli_help_report_community"))
    r.add_argument("--format", default="xlsx", choices=["xlsx", "pdf", "pptx"])
    r.add_argument("--out", help=t("cli_help_report_out"))
    r.add_argument(
        "--map-metric",
        default="resolution_rate",
        help=t("cli_help_map_metric"),
    )
    r.add_argument("--out-dir", help=argparse.SUPPRESS)  # a served command writes to its caller's folder
    r.add_argument("--db", help=t("cli_help_db"))
    r.set_defaults(func=_report)
    bi = sub.add_parser("bench-import", help=t("cli_help_bench_import"))
    bi.add_argument("rows", nargs="*", type=int, help=t("cli_help_bench_rows"))
    bi.set_defaults(func=_bench_import)
    bg = sub.add_parser("bench-grids", help=t("cli_help_bench_grid_import"))
    bg.add_argument("grids", nargs="*", type=int, help=t("cli_help_bench_grid_sizes"))
    bg.set_defaults(func=_bench_grids)
    i = sub.add_parser("import", help=t("cli_help_import"))
    i.add_argument("kind", choices=["cases", "grids", "resources"])
    i.add_argument("file", help=t("cli_help_import_file"))
    i.add_argument("--db", help=t("cli_help_db_default"))
    i.add_argument("--street", help=t("cli_help_street"))
    i.add_argument("--crs", help=t("cli_help_crs"))
    i.add_argument("--date-order", choices=["ymd", "dmy", "mdy"], help=t("cli_help_date_order"))
    i.add_argument("--map", action="append", metavar=t("cli_metavar_map"), help=t("cli_help_map"))
    i.add_argument("--mapping", help=t("cli_help_mapping"))
    i.add_argument("--save-mapping", help=t("cli_help_save_mapping"))
    i.add_argument("--sheet", help=t("cli_help_sheet"))
    i.set_defaults(func=_import)
    tg = sub.add_parser("targets", help=t("cli_help_targets"))
    tg.add_argument("action", choices=["show", "set", "reset"])
    tg.add_argument("file", nargs="?", help=t("cli_help_targets_file"))
    tg.add_argument("--db", help=t("cli_help_db"))
    tg.set_defaults(func=_targets)

    bm = sub.add_parser("basemap", help=t("cli_help_basemap"))
    bm.add_argument("action", choices=["show", "convert"])
    bm.add_argument("file", nargs="?", help=t("cli_help_basemap_file"))
    bm.add_argument("--db", help=t("cli_help_db"))
    bm.set_defaults(func=_basemap)

    cp = sub.add_parser("copy", help=t("cli_help_copy"))
    cp.add_argument("source", help=t("cli_help_copy_source"))
    cp.add_argument("--to", help=t("cli_help_copy_to"))
    cp.add_argument("--force", action="store_true", help=t("cli_help_copy_force"))
    cp.set_defaults(func=_copy)
    bk = sub.add_parser("backup", help=t("cli_help_backup"))
    bk.add_argument("--out", required=True, help=t("cli_help_backup_out"))
    bk.add_argument("--db", help=t("cli_help_db"))
    bk.set_defaults(func=_backup)
    rs = sub.add_parser("restore", help=t("cli_help_restore"))
    rs.add_argument("file", help=t("cli_help_restore_file"))
    rs.add_argument("--db", help=t("cli_help_db"))
    rs.add_argument("--force", action="store_true", help=t("cli_help_restore_force"))
    rs.set_defaults(func=_restore)

    rj = sub.add_parser("rejects", help=t("cli_help_rejects"))
    rj.add_argument("--import-id", type=int, help=t("cli_help_import_id"))
    rj.add_argument("--out", help=t("cli_help_rejects_out"))
    rj.add_argument("--db", help=t("cli_help_db"))
    rj.set_defaults(func=_rejects)
    from gridpulse import cli_analysis  # alerts, hotspots, repeats

    cli_analysis.add_parsers(sub, _open_store)
    args = parser.parse_args(argv)
    quiet = logging.getLogger("gridpulse")  # users read the Chinese messages below, not log lines
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    if args.func is _users and args.action != "list" and not args.username:
        parser.error(t("cli_need_username"))
    if args.func is _users and args.action == "add" and not args.role:
        parser.error(t("cli_need_role"))
    try:
        return int(args.func(args))
    except auth.AuthError as err:
        print(str(err), file=sys.stderr)
        return 2
    except dbopen.DatabaseError as err:  # the database missing, locked, damaged, read-only, on a full disk
        forwarded = (
            _ask_the_dashboard(args, list(sys.argv[1:] if argv is None else argv)) if err.kind == "locked" else None
        )
        if forwarded is not None:
            return forwarded
        print(f"{err.message}\n{err.hint}", file=sys.stderr)
        return 2
    except store_pkg.StoreError as err:  # met after opening, e.g. a damaged block the first read missed
        found = dbopen.problem("other", _shown(_db_path(args)), str(err)[:300])
        print(f"{found.message}\n{found.hint}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
