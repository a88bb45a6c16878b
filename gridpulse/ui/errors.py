"""An unexpected error: a short Chinese message with a reference for the user, the details in the server log."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator

import streamlit as st

from gridpulse.strings import t

_log = logging.getLogger("gridpulse")


@contextlib.contextmanager
def guarded(who: str = "") -> Iterator[None]:
    """Run a page (or a fragment) so that no traceback ever reaches the screen.

    ``st.stop()`` and ``st.rerun()`` are not ``Exception``s and pass through.
    """
    try:
        yield
    except Exception:
        ref = uuid.uuid4().hex[:8]
        _log.exception("unexpected error %s (user %s)", ref, who or "-")
        st.error(t("unexpected_error", ref=ref))
