"""Imports and grid replacement: many rows in one transaction, rejects kept with their reasons.

Rows are staged in a scratch DuckDB file beside the database (a million-row file does not
sit in memory); the street is written in one transaction; every import is numbered,
summarised, audited and bumps the data version, all inside that transaction.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import duckdb
import pandas as pd

from gridpulse.store import schema
from gridpulse.store.connection import BUMP_DATA_VERSION, Connection
from gridpulse.strings import t


class Imports(Connection):
    """Upserts of cases and resources, and a new grid layer in place of the old."""

    # ---- imports (gridpulse.ingest) ---------------------------------------

    def import_rows(
        self,
        kind: str,
        batches: Iterable[tuple[pd.DataFrame, pd.DataFrame]],
        columns: list[str],
        info: Mapping[str, Any],
        warnings: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        """Upsert rows into ``cases`` or ``resources`` in one transaction; rejects kept with reasons.

        ``batches`` yields (rows with ``row_number``, rejects); ``columns`` are the columns the
        file provides: an existing row is updated in those only, so a later export without,
        say, ratings does not erase them. Within the file the last row of an id wins, the
        earlier ones are rejected. Any error rolls everything back.
        """
        with self._import_lock, self.cursor() as cur:  # one import at a time: two admins' uploads queue
            return self._import_rows(cur, kind, batches, columns, info, warnings)

    def _import_rows(
        self,
        cur: Any,
        kind: str,
        batches: Iterable[tuple[pd.DataFrame, pd.DataFrame]],
        columns: list[str],
        info: Mapping[str, Any],
        warnings: Mapping[str, int] | None,
    ) -> dict[str, Any]:
        table, key = IMPORT_TABLES[kind]
        # The file's rows are staged in a scratch database on disk, committed chunk by chunk, so a
        # million-row file does not sit in memory; the import itself is one transaction on ours.
        scratch = self.path.with_name(f"{self.path.name}.import-{uuid.uuid4().hex}.tmp")
        scratch.unlink(missing_ok=True)
        try:
            cur.execute("ATTACH $path AS scratch", {"path": str(scratch)})
            cur.execute(f"CREATE TABLE scratch.stage AS SELECT 0::BIGINT AS row_number, * FROM {table} LIMIT 0")
            cur.execute("CREATE TABLE scratch.stage_rejects (row_number BIGINT, raw VARCHAR, reasons VARCHAR)")
            for rows, rejects in batches:
                if len(rows):
                    cur.register("incoming", rows)
                    cur.execute("INSERT INTO scratch.stage BY NAME SELECT * FROM incoming")
                    cur.unregister("incoming")
                if len(rejects):
                    cur.register("incoming", rejects)
                    cur.execute("INSERT INTO scratch.stage_rejects BY NAME SELECT * FROM incoming")
                    cur.unregister("incoming")
            cur.execute(f"""
                CREATE TABLE scratch.stage_last AS
                SELECT {key}, max(row_number) AS keep FROM scratch.stage GROUP BY {key} HAVING count(*) > 1""")
            duplicates = int(cur.execute(f"""
                INSERT INTO scratch.stage_rejects
                SELECT s.row_number, to_json(s)::VARCHAR, replace($reason, '{{row}}', l.keep::VARCHAR)
                FROM scratch.stage s JOIN scratch.stage_last l USING ({key}) WHERE s.row_number < l.keep""",
                {"reason": t("rej_duplicate_id", row="{row}")}).fetchone()[0])  # fmt: skip
            cur.execute(f"""
                DELETE FROM scratch.stage
                WHERE row_number < (SELECT keep FROM scratch.stage_last l WHERE l.{key} = scratch.stage.{key})""")
            cur.begin()
            changed = " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in columns if c != key) or "FALSE"
            counts = cur.execute(f"""
                SELECT count(*) FILTER (WHERE t.{key} IS NULL),
                       count(*) FILTER (WHERE t.{key} IS NOT NULL AND ({changed})),
                       count(*) FILTER (WHERE t.{key} IS NOT NULL AND NOT ({changed}))
                FROM scratch.stage s LEFT JOIN {table} t USING ({key})""").fetchone()
            inserted, updated, unchanged = (int(v) for v in counts)
            cur.execute(f"""
                INSERT INTO {table} BY NAME
                SELECT * EXCLUDE (row_number) FROM scratch.stage s
                WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = s.{key})""")
            assignments = ", ".join(f"{c} = s.{c}" for c in columns if c != key)
            if assignments and updated:
                cur.execute(f"""
                    UPDATE {table} t SET {assignments} FROM scratch.stage s
                    WHERE t.{key} = s.{key} AND ({changed})""")
            rejected = int(cur.execute("SELECT count(*) FROM scratch.stage_rejects").fetchone()[0])
            record = rows_record(info, kind, (inserted, updated, unchanged, rejected), duplicates, warnings)
            self._log_import(cur, record, "scratch.stage_rejects")
            cur.commit()
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # nothing begun yet, or already rolled back
                cur.rollback()
            raise
        finally:
            with contextlib.suppress(duckdb.Error):
                cur.execute("DETACH scratch")
            scratch.unlink(missing_ok=True)
            scratch.with_name(scratch.name + ".wal").unlink(missing_ok=True)
        self._exec("CHECKPOINT")  # fold the import into the file now, not at some later write
        return record

    def replace_grids(
        self,
        grids: pd.DataFrame,
        rejects: pd.DataFrame,
        info: Mapping[str, Any],
        assign: Callable[[Any, Any], Any],
        chunk: int = 500_000,
    ) -> dict[str, Any]:
        """A new grid layer in place of the old, every case and resource joined to it again, atomically.

        Takes the import lock, like ``import_rows``.

        ``assign(lon, lat)`` gives the new grid code of each point. A case placed by name keeps
        its grid if the new layer still has that code, or a grid of the same name in the same
        community (a new layer that renumbered the grids but kept their names).
        """
        with self._import_lock, self.cursor() as cur:
            return self._replace_grids(cur, grids, rejects, info, assign, chunk)

    def _replace_grids(
        self,
        cur: Any,
        grids: pd.DataFrame,
        rejects: pd.DataFrame,
        info: Mapping[str, Any],
        assign: Callable[[Any, Any], Any],
        chunk: int,
    ) -> dict[str, Any]:
        try:
            cur.begin()
            old = cur.execute("SELECT grid_code, grid_name, community FROM grids").df()
            existing = set(old["grid_code"])
            cur.execute("DELETE FROM grids")
            cur.register("incoming", grids[schema.GRID_COLUMNS])
            cur.execute("INSERT INTO grids BY NAME SELECT * FROM incoming")
            cur.unregister("incoming")
            moved = 0
            for table, key in (("cases", "case_id"), ("resources", "resource_id")):
                moved += self._rejoin(cur, table, key, assign, chunk)
            renamed = renumbered(old, grids)
            if len(renamed):
                cur.register("renumbered", renamed)
                cur.execute("""
                    UPDATE cases c SET grid_code = r.new_code FROM renumbered r
                    WHERE c.placement = 'name' AND c.grid_code = r.old_code""")
                cur.unregister("renumbered")
            cur.execute("""
                UPDATE cases SET grid_code = NULL, placement = NULL
                WHERE placement = 'name' AND grid_code NOT IN (SELECT grid_code FROM grids)""")
            record = grids_record(info, grids, rejects, existing, moved)
            cur.register("incoming", rejects.reindex(columns=["row_number", "raw", "reasons"]))
            self._log_import(cur, record, "incoming")
            cur.unregister("incoming")
            cur.commit()
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                cur.rollback()
            raise
        self._exec("CHECKPOINT")
        return record

    @staticmethod
    def _log_import(cur: Any, record: dict[str, Any], rejects_from: str, bump: bool = True) -> None:
        """Number the import, and write its summary, its rejects (from ``rejects_from``) and the audit line.

        Inside the import's transaction: they are kept exactly when its rows are.
        """
        record["import_id"] = int(cur.execute("SELECT nextval('import_ids')").fetchone()[0])
        cur.execute(_IMPORT_INSERT, {k: record[k] for k in _IMPORT_FIELDS})
        cur.execute(
            f"INSERT INTO import_rejects SELECT $id, $file, row_number, raw, reasons FROM {rejects_from}",
            {"id": record["import_id"], "file": record["file_name"]},
        )
        if bump:  # the PostgreSQL store bumps first: its rows are stamped with the new version
            cur.execute(BUMP_DATA_VERSION)
        detail = f"{record['kind']} {record['file_name']} #{record['import_id']}"
        cur.execute(
            "INSERT INTO audit VALUES ($ts, $u, 'import', $scope, $d)",
            {"ts": record["ts"], "u": record.get("username"), "scope": t("whole_street"), "d": detail},
        )

    @staticmethod
    def _rejoin(cur: Any, table: str, key: str, assign: Callable[[Any, Any], Any], chunk: int) -> int:
        """Join every located row of ``table`` to the current grids again; returns how many changed grid."""
        extra = ", placement" if table == "cases" else ""
        rows = cur.execute(f"SELECT {key}, lon, lat, grid_code{extra} FROM {table} WHERE lon IS NOT NULL").df()
        moved = 0
        for start in range(0, len(rows), chunk):
            part = rows.iloc[start : start + chunk]
            new = pd.DataFrame(
                {key: part[key].to_numpy(), "grid_code": assign(part["lon"].to_numpy(), part["lat"].to_numpy())}
            )
            moved += count_moved(part["grid_code"], new["grid_code"])
            cur.register("incoming", new)
            placement = ", placement = CASE WHEN n.grid_code IS NULL THEN NULL ELSE 'point' END" if extra else ""
            cur.execute(
                f"UPDATE {table} t SET grid_code = n.grid_code{placement} FROM incoming n WHERE t.{key} = n.{key}"
            )
            cur.unregister("incoming")
        return moved

    def imports(self, limit: int = 50) -> pd.DataFrame:
        return self.records_query("SELECT * FROM imports ORDER BY import_id DESC LIMIT $n", {"n": limit})

    def import_rejects(self, import_id: int | None = None) -> pd.DataFrame:
        """Rejected rows of one import (the latest when None), in file order."""
        sql = """SELECT import_id, file_name, row_number, reasons, raw FROM import_rejects
                 WHERE import_id = coalesce($id, (SELECT max(import_id) FROM imports))
                 ORDER BY row_number"""
        return self.records_query(sql, {"id": import_id})


def rows_record(
    info: Mapping[str, Any],
    kind: str,
    counts: tuple[int, int, int, int],
    duplicates: int,
    warnings: Mapping[str, int] | None,
) -> dict[str, Any]:
    """An import's summary: what ``info`` says of the file, and its counts (inserted, updated, unchanged, rejected)."""
    inserted, updated, unchanged, rejected = counts
    return {
        **info, "kind": kind, "inserted": inserted, "updated": updated,
        "unchanged": unchanged, "rejected": rejected, "rows_read": inserted + updated + unchanged + rejected,
        "duplicates": duplicates,
        "warnings": json.dumps(dict(warnings or {}), ensure_ascii=False),
    }  # fmt: skip


def grids_record(
    info: Mapping[str, Any], grids: pd.DataFrame, rejects: pd.DataFrame, existing: set[str], moved: int
) -> dict[str, Any]:
    """A grid layer's summary: codes new and kept against the ``existing`` layer, and the rows that changed grid."""
    new_codes = set(grids["grid_code"])
    return {
        **info, "kind": "grids", "rows_read": len(grids) + len(rejects),
        "inserted": len(new_codes - existing), "updated": len(new_codes & existing),
        "unchanged": 0, "rejected": len(rejects), "replaced": len(existing), "rejoined": moved,
    }  # fmt: skip


_IMPORT_FIELDS = ("import_id", "ts", "username", "kind", "file_name", "format", "encoding", "rows_read", "inserted",
                  "updated", "unchanged", "rejected", "warnings")  # fmt: skip
IMPORT_TABLES = {"cases": ("cases", "case_id"), "resources": ("resources", "resource_id")}
_IMPORT_INSERT = """
    INSERT INTO imports (import_id, ts, username, kind, file_name, format, encoding, rows_read, inserted, updated,
                         unchanged, rejected, warnings)
    VALUES ($import_id, $ts, $username, $kind, $file_name, $format, $encoding, $rows_read, $inserted, $updated,
            $unchanged, $rejected, $warnings)
"""


def count_moved(before: pd.Series, after: pd.Series) -> int:
    """Rows whose grid changed; outside every grid before and after is no move (unlike NaN != NaN)."""
    b, a = before.reset_index(drop=True), after.reset_index(drop=True)
    return int((~(b.eq(a) | (b.isna() & a.isna()))).sum())


def renumbered(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Old code -> new code for grids that kept their name and community but changed code (unique names only)."""
    key = ["grid_name", "community"]
    old = old.dropna(subset=["grid_name"]).drop_duplicates(key, keep=False)
    new = new[["grid_code", *key]].dropna(subset=["grid_name"]).drop_duplicates(key, keep=False)
    both = old.merge(new, on=key, suffixes=("_old", "_new"))
    both = both[both["grid_code_old"] != both["grid_code_new"]]
    return pd.DataFrame({"old_code": both["grid_code_old"].astype(str), "new_code": both["grid_code_new"].astype(str)})
