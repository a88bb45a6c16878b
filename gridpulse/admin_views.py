"""What the admin pages show: users, the audit log, import history and rejected rows.

The pages check the role before calling these; the CLI calls ``gridpulse.ingest`` directly.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import pandas as pd

from geo import shapes
from gridpulse import basemap, clock, exports, targets
from gridpulse.ingest.mapping import MappingSpec
from gridpulse.scope import Scope
from gridpulse.store import Store
from gridpulse.strings import label, t


def users_table(store: Store) -> pd.DataFrame:
    users = store.users()
    users["role"] = users["role"].map(lambda r: label(f"role_{r}", r))
    cols = {"username": t("username"), "display_name": t("col_display_name"), "role": t("col_role"),
            "communities": t("community"), "grids": t("grid"), "department": t("department"),
            "disabled": t("col_disabled"), "demo": t("col_demo"), "failed_count": t("col_failed_count"),
            "locked_until": t("col_locked_until")}  # fmt: skip
    users["department"] = users["department"].fillna("")
    users["locked_until"] = users["locked_until"].astype(object).where(users["locked_until"].notna(), "")
    return users[list(cols)].rename(columns=cols)


def audit_table(store: Store) -> pd.DataFrame:
    cols = {"ts": t("col_ts"), "username": t("username"), "action": t("col_action"), "scope": t("col_scope"),
            "detail": t("col_detail")}  # fmt: skip
    log = store.audit_log()
    log["action"] = log["action"].map(lambda a: label(f"action_{a}", a))
    return log[list(cols)].rename(columns=cols)


IMPORT_CRS = ("auto", "wgs84", "cgcs2000", "gcj02", "bd09")


def mapping_json(kind: str, columns: dict[str, str], crs: str | None, date_order: str | None = None) -> bytes:
    """The columns an import used (and its date order), as a mapping file to reuse with next month's export."""
    crs = None if crs in (None, "", "auto") else crs
    spec = MappingSpec(kind=kind, columns=columns, crs=crs, date_order=date_order or None)
    return json.dumps(asdict(spec), ensure_ascii=False, indent=2).encode()


IMPORT_HISTORY_COLUMNS = {"import_id": t("col_import_id"), "ts": t("col_ts"), "username": t("username"),
                          "kind": t("col_kind"), "file_name": t("col_file"), "rows_read": t("col_rows_read"),
                          "inserted": t("col_inserted"), "updated": t("col_updated"),
                          "unchanged": t("col_unchanged"), "rejected": t("col_rejected")}  # fmt: skip


def imports_table(store: Store) -> pd.DataFrame:
    rows = store.imports()
    rows["kind"] = rows["kind"].map(lambda k: label(f"imp_kind_{k}", k))
    return rows[list(IMPORT_HISTORY_COLUMNS)].rename(columns=IMPORT_HISTORY_COLUMNS)


def import_rejects_table(store: Store, import_id: int) -> pd.DataFrame:
    cols = {"row_number": t("col_row_number"), "reasons": t("col_reasons"), "raw": t("col_raw"),
            "file_name": t("col_file")}  # fmt: skip
    return store.import_rejects(import_id)[list(cols)].rename(columns=cols)


def import_rejects_csv(store: Store, import_id: int) -> bytes:
    """Every rejected row of one import with its reasons, formula-safe for Excel."""
    return exports.to_csv(import_rejects_table(store, import_id))


def save_targets(store: Store, username: str, text: str | None) -> targets.Settings:
    """Check a targets document (None: back to the defaults), save it and audit it; ``SettingsError`` if unusable.

    Nothing is saved when the document is refused: the figures keep the targets in force.
    """
    cfg = targets.DEFAULTS if text is None else targets.from_json(text)
    store.save_targets_json(None if text is None else cfg.to_json())
    store.audit(clock.now(), username, "targets", "", "reset" if text is None else cfg.to_json()[:2000])
    return cfg


def save_basemap(store: Store, username: str, chosen: basemap.Basemap) -> basemap.Basemap:
    """Check a basemap (a PMTiles file must cover the street), save it and audit it; ``BasemapError`` if unusable.

    Nothing is saved when it is refused. The audit line names the kind and file, never the token.
    """
    grids = shapes.grids_frame(store.grid_shapes(Scope.street()))  # the bounds only: no display outlines
    checked = basemap.validate(chosen, grids.total_bounds if len(grids) else None)
    store.save_basemap_json(None if checked.kind == "none" else checked.to_json())
    store.audit(clock.now(), username, "basemap", "", describe_basemap(checked))
    return checked


def describe_basemap(b: basemap.Basemap) -> str:
    """The basemap in words (for the admin and the audit log; no token)."""
    what = t(f"basemap_kind_{b.kind}")
    if b.kind == "tianditu":
        return f"{what}：{t(f'basemap_style_{b.style}')}，{b.url}"
    if b.kind == "pmtiles":
        return f"{what}：{b.file}（最大缩放 {b.max_zoom} 级）"
    return f"{what}：{b.url}" if b.kind == "xyz" else what


def targets_frame(cfg: targets.Settings) -> pd.DataFrame:
    """The targets and weights as an editable table: metric key, name, target, weight."""
    keys = list(dict.fromkeys([*cfg.targets, *targets.SCORED]))
    return pd.DataFrame(
        {
            "metric": keys,
            t("metric_col"): [t(k) for k in keys],
            t("target_col"): [cfg.targets.get(k) for k in keys],
            t("weight_col"): [cfg.weights.get(k, 0.0) if k in targets.SCORED else None for k in keys],
        }
    )


def targets_from_frame(frame: pd.DataFrame, numbers: dict[str, float]) -> str:
    """The edited table (and the other numbers) as a targets document, for ``save_targets`` to check."""
    goals = {m: float(v) for m, v in zip(frame["metric"], frame[t("target_col")], strict=True) if pd.notna(v)}
    weights = {m: float(w) for m, w in zip(frame["metric"], frame[t("weight_col")], strict=True) if pd.notna(w) and w}
    return json.dumps({"targets": goals, "weights": weights, **numbers}, ensure_ascii=False)
