"""The one clock: Beijing time, whatever zone the server is set to.

Case times are stored as naive Beijing time (what 12345 platforms export), so "now"
must be naive Beijing time too: on a server set to UTC, ``datetime.now()`` would put
backlog, overdue, session expiry and lock-outs eight hours off.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The current moment as naive Beijing time, to the second."""
    return datetime.now(BEIJING).replace(tzinfo=None, microsecond=0)


def now_aware() -> datetime:
    """The current moment with its zone (for file metadata such as a PDF's creation date)."""
    return datetime.now(BEIJING).replace(microsecond=0)


def this_minute() -> datetime:
    """Now, cut to the minute: figures taken "as of now" change (and are cached) per minute."""
    return now().replace(second=0)
