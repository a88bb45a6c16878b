"""我的网格: a grid head's first screen, made for a phone: open cases as cards, this week's alerts, figures, the map."""

import streamlit as st

from gridpulse import maps, views
from gridpulse.strings import t
from gridpulse.ui import analysis_widgets, cache, filters, mapview, widgets

CARDS_PER_GROUP = 20

f = filters.current()
as_of = cache.as_of()
st.title(t("my_title"))
widgets.scope_line(f)

cases = cache.view(views.my_open_cases, as_of)
st.subheader(t("my_cases_title"))
st.caption(t("my_cases_caption", as_of=f"{as_of:%Y-%m-%d %H:%M}", hours=views.DUE_SOON_HOURS))
if cases.empty:
    st.success(t("my_cases_none"))
for group in views.CARD_GROUPS:
    rows = cases[cases["group"] == group]
    if rows.empty:
        continue
    st.markdown(f"**{t(f'my_group_{group}', n=len(rows))}**")
    for i, r in enumerate(rows.head(CARDS_PER_GROUP).itertuples()):
        with st.container(border=True):
            # Case texts, names and addresses are residents' words: plain text, never Markdown or HTML.
            st.text(f"{r.category} · {r.grid_name}")
            st.caption(
                t("my_card_times", reported=f"{r.reported_at:%m-%d %H:%M}", deadline=f"{r.deadline_at:%m-%d %H:%M}")
            )
            st.text(str(r.description or ""))
            if isinstance(r.address, str) and r.address:
                st.text(t("my_card_address", address=r.address))
            if r.phone_digits:
                st.text(t("my_card_reporter", name=r.reporter_name or ""))
                st.link_button(
                    t("my_card_call", phone=r.phone_digits), f"tel:{r.phone_digits}", key=f"call_{group}_{i}"
                )
    if len(rows) > CARDS_PER_GROUP:
        st.caption(t("my_more", n=len(rows) - CARDS_PER_GROUP))

analysis_widgets.alert_section(mine=True, limit=4, table=False)

st.subheader(t("my_figures_title"))
widgets.kpi_cards(cache.view(views.overview_kpis, f, as_of), card_width=165)  # two a row on a phone
st.caption(t("my_kpi_caption", start=f.start, end=f.end))

st.subheader(t("my_map_title"))
st.caption(t("my_map_caption"))
rendered = mapview.cached(
    ("my_grids", f, as_of),
    lambda: maps.my_grids_map(cache.view(views.grid_shapes, f), cases.groupby("grid_name").size()),
)
mapview.show(rendered, key="my_map", height=360, returned_objects=[])
