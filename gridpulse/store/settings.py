"""Settings an admin changes while the street runs: targets and weights, the basemap (JSON in ``meta``)."""

from __future__ import annotations

from gridpulse.store.connection import BUMP_DATA_VERSION as BUMP
from gridpulse.store.connection import Connection

TARGETS_KEY = "targets"
BASEMAP_KEY = "basemap"


class Settings(Connection):
    """The targets document as saved (validated by ``gridpulse.targets`` before it gets here)."""

    def targets_json(self) -> str | None:
        return self.meta().get(TARGETS_KEY)

    def save_targets_json(self, text: str | None) -> None:
        """Save (or with None, drop: back to the defaults) and bump the data version: cached figures change."""
        self._save_meta(TARGETS_KEY, text)

    def basemap_json(self) -> str | None:
        return self.meta().get(BASEMAP_KEY)

    def save_basemap_json(self, text: str | None) -> None:
        """Save the basemap (validated by ``gridpulse.basemap``); the bump makes every process redraw its maps."""
        self._save_meta(BASEMAP_KEY, text)

    def _save_meta(self, key: str, text: str | None) -> None:
        with self.records_transaction() as cur:
            cur.execute("DELETE FROM meta WHERE key = $key", {"key": key})
            if text is not None:
                cur.execute("INSERT INTO meta VALUES ($key, $value)", {"key": key, "value": text})
            cur.execute(BUMP)
