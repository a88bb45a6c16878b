"""Settings an admin changes while the street runs: the accountability targets and weights (JSON in ``meta``)."""

from __future__ import annotations

from gridpulse.store.connection import BUMP_DATA_VERSION as BUMP
from gridpulse.store.connection import Connection

TARGETS_KEY = "targets"


class Settings(Connection):
    """The targets document as saved (validated by ``gridpulse.targets`` before it gets here)."""

    def targets_json(self) -> str | None:
        return self.meta().get(TARGETS_KEY)

    def save_targets_json(self, text: str | None) -> None:
        """Save (or with None, drop: back to the defaults) and bump the data version: cached figures change."""
        with self.records_transaction() as cur:
            cur.execute("DELETE FROM meta WHERE key = $key", {"key": TARGETS_KEY})
            if text is not None:
                cur.execute("INSERT INTO meta VALUES ($key, $value)", {"key": TARGETS_KEY, "value": text})
            cur.execute(BUMP)
