"""The shared filter component: period, community, grid, category, source.

Rendered once in the sidebar by ``app.py`` so every page shares the same selection;
pages read it with ``current()``.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from gridpulse import views
from gridpulse.filters import Filters, default_period
from gridpulse.safe_text import md_text
from gridpulse.strings import t
from gridpulse.ui import cache

STATE_KEY = "gp_filters"


def sidebar(key: str = "flt") -> Filters:
    """Draw the filters in the sidebar and remember the resulting ``Filters``."""
    opts = cache.view(views.filter_options)
    as_of = cache.as_of().date()
    first = opts.first_day.date() if opts.first_day else as_of
    with st.sidebar:
        st.markdown(f"### {md_text(opts.street_name)}")  # an imported name: Markdown-escaped
        st.caption(t("data_as_of", as_of=cache.as_of().strftime("%Y-%m-%d %H:%M")))
        if cache.updating():
            st.caption(t("data_updating"))
        st.markdown(f"**{t('filters')}**")
        period = st.date_input(
            t("period"),
            value=default_period(as_of, first),
            min_value=first,
            max_value=as_of,
            help=t("period_help"),
            key=f"{key}_period",
        )
        communities = st.multiselect(t("community"), opts.communities, placeholder=t("all"), key=f"{key}_community")
        grid_names = {code: f"{name}（{code[-6:]}）" for code, name, comm in opts.grids
                      if not communities or comm in communities}  # fmt: skip
        grids = st.multiselect(
            t("grid"), list(grid_names), format_func=grid_names.get, placeholder=t("all"), key=f"{key}_grid"
        )
        categories = st.multiselect(t("category"), opts.categories, placeholder=t("all"), key=f"{key}_category")
        sources = st.multiselect(t("source"), opts.sources, placeholder=t("all"), key=f"{key}_source")
    start, end = _period_or_default(period, default_period(as_of, first))
    f = Filters(start, end, tuple(communities), tuple(g for g in grids if g in grid_names),
                tuple(categories), tuple(sources))  # fmt: skip
    st.session_state[STATE_KEY] = f
    return f


def _period_or_default(value: object, fallback: tuple[date, date]) -> tuple[date, date]:
    """A half-picked range (one date while the user is choosing) keeps the fallback."""
    if isinstance(value, tuple | list) and len(value) == 2:
        return value[0], value[1]
    return fallback


def current() -> Filters:
    """The selection made in the sidebar (drawn by ``app.py`` before the page runs)."""
    f = st.session_state.get(STATE_KEY)
    return f if isinstance(f, Filters) else sidebar()
