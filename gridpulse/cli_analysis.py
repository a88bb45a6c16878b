"""``python -m gridpulse alerts | hotspots | repeats``: the 研判预警 figures for scripts, over ``GRIDPULSE_DB``.

The same functions as the page (``analysis_views``); with ``--user NAME`` the user's scope applies.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pandas as pd

from gridpulse import analysis_views, auth, repeats
from gridpulse.filters import Filters
from gridpulse.scope import Scope
from gridpulse.store import Store
from gridpulse.strings import t

OpenStore = Callable[[argparse.Namespace], Store]


def add_parsers(sub: Any, open_store: OpenStore) -> None:
    a = sub.add_parser("alerts", help=t("cli_help_alerts"))
    a.add_argument("--as-of", help=t("cli_help_as_of"))
    a.add_argument("--format", default="json", choices=["json", "csv"])
    p = sub.add_parser("hotspots", help=t("cli_help_hotspots"))
    p.add_argument("--period", required=True, help=t("cli_help_period"))
    p.add_argument("--unit", default="grid", choices=["grid", "cell"], help=t("cli_help_hotspot_unit"))
    p.add_argument("--category", action="append", help=t("cli_help_category"))
    p.add_argument("--format", default="csv", choices=["csv", "geojson"])
    r = sub.add_parser("repeats", help=t("cli_help_repeats"))
    r.add_argument("--period", required=True, help=t("cli_help_period"))
    r.add_argument("--radius", type=float, default=repeats.Rule.radius_m, help=t("cli_help_repeat_radius"))
    r.add_argument("--days", type=float, default=repeats.Rule.days, help=t("cli_help_repeat_days"))
    r.add_argument("--min-cases", type=int, default=repeats.Rule.min_cases, help=t("cli_help_repeat_min"))
    r.add_argument("--format", default="csv", choices=["csv", "json"])
    for parser, run in ((a, _alerts), (p, _hotspots), (r, _repeats)):
        parser.add_argument("--user", help=t("cli_help_as_user"))
        parser.add_argument("--db", help=t("cli_help_db"))
        parser.set_defaults(func=lambda args, run=run: _with_store(args, open_store, run))


def _with_store(args: argparse.Namespace, open_store: OpenStore, run: Callable[..., pd.DataFrame | str]) -> int:
    store = open_store(args)
    try:
        scope = _scope(store, args.user)
        out = run(store, scope, args)
    finally:
        store.close()
    sys.stdout.write(out if isinstance(out, str) else "")
    return 0


def _scope(store: Store, username: str | None) -> Scope:
    if not username:
        return Scope.street()
    row = store.user(username)
    if row is None:
        raise auth.AuthError(t("cli_no_such_user", username=username))
    return auth.User.from_row(row).scope


def _period(text: str) -> tuple[date, date]:
    from gridpulse.reports import parse_period

    try:
        return parse_period(text)
    except ValueError as err:
        raise auth.AuthError(str(err)) from err


def _alerts(store: Store, scope: Scope, args: argparse.Namespace) -> str:
    if args.as_of:
        try:
            as_of = datetime.fromisoformat(args.as_of)
        except ValueError as err:
            raise auth.AuthError(t("cli_bad_as_of", text=args.as_of)) from err
    else:
        as_of = store.as_of()
    found = analysis_views.alert_list(store, scope, as_of).drop(columns="ratio")
    return _write(found, args.format)


# Figures as they are meaningful: a permutation p-value has 3 decimals (999 permutations), z and rates 3.
ROUNDED = {"rate": 3, "z": 3, "p": 3}


def _hotspots(store: Store, scope: Scope, args: argparse.Namespace) -> str:
    start, end = _period(args.period)
    f = Filters(start, end, categories=tuple(args.category or ()))
    if args.unit == "grid":
        found = analysis_views.grid_hotspots(store, scope, f).round(ROUNDED)
        if args.format == "geojson":
            shapes = analysis_views.grid_shapes_of(store, scope)
            return shapes[["grid_code", "geometry"]].merge(found, on="grid_code").to_json(ensure_ascii=False) + "\n"
        return found.to_csv(index=False)
    found = analysis_views.cell_hotspots(store, scope, f).round(ROUNDED)
    if args.format == "geojson":
        return analysis_views.cells_geojson(found) + "\n"
    return found.to_csv(index=False)


def _repeats(store: Store, scope: Scope, args: argparse.Namespace) -> str:
    start, end = _period(args.period)
    rule = repeats.Rule(args.radius, args.days, args.min_cases)
    found = analysis_views.repeat_places(store, scope, Filters(start, end), rule)
    return _write(found, args.format)


def _write(frame: pd.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return frame.to_csv(index=False)
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return json.dumps(rows, ensure_ascii=False, indent=1, default=str) + "\n"
