"""The alert section: on 研判预警, on a grid head's first screen and on the meeting screen."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from gridpulse import alerts, analysis_views
from gridpulse.strings import t
from gridpulse.ui import cache


def alert_section(*, mine: bool = False, limit: int = 8, table: bool = True) -> None:
    """This week's alerts for the user's grids: what is counted, a sentence per alert, and the table."""
    as_of = cache.as_of()
    found = cache.view(analysis_views.alert_list, as_of)
    if mine:
        st.subheader(t("alerts_mine_title"))
    start = as_of - timedelta(days=alerts.WEEK_DAYS)
    st.caption(
        t(
            "alerts_caption",
            as_of=f"{as_of:%Y-%m-%d %H:%M}",
            start=f"{start:%m-%d %H:%M}",
            end=f"{as_of:%m-%d %H:%M}",
            min_cases=alerts.MIN_CASES,
        )
    )
    if found.empty:
        st.success(t("alerts_mine_none") if mine else t("alerts_none"))
        return
    st.markdown(f"**{t('alerts_count', n=len(found))}**")
    for sentence in analysis_views.alert_sentences(found.head(limit)):
        st.text(f"⚠ {sentence}")  # names are imported data: plain text, never Markdown
    if table:  # a phone shows the sentences only
        st.dataframe(analysis_views.alert_table_shown(found), hide_index=True, width="stretch")
