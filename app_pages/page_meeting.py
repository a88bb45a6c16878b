"""大屏模式: the joint meeting's projector view — the dashboard's figures, large, masked, no chrome."""

import time

import streamlit as st

from gridpulse import maps, meeting, scorecard, views
from gridpulse.safe_text import md_text
from gridpulse.strings import t
from gridpulse.ui import analysis_widgets, cache, errors, filters, mapview, session, widgets

choices = cache.view(views.filter_options)
opts = meeting.options_from_link(
    st.query_params.to_dict(),
    filters.current(),
    communities=choices.communities,
    first=choices.first_day.date() if choices.first_day else None,
    last=cache.as_of().date(),
)
f = opts.filters
widgets.meeting_style(dark=opts.dark)
st.title(t("meeting_title", street=md_text(choices.street_name)))
widgets.scope_line(f)
for problem in opts.problems:  # Chinese, with the link's own values Markdown-escaped
    st.warning(problem)


def kpis() -> None:
    figures = cache.view(views.overview_kpis, f, cache.as_of())
    widgets.kpi_cards(figures, columns=8)
    if not figures[0].value:
        st.info(t("empty"))


def heatmap(height: int = 430) -> None:
    perf = cache.view(views.grid_performance, f, cache.as_of())
    rendered, legend = mapview.cached(
        ("meeting", f, cache.as_of(), height),
        lambda: maps.grid_metric_map(
            cache.view(views.grid_shapes, f), perf, "cases_per_100", cache.view(views.heat_cells, f), height=height
        ),
    )
    mapview.show(rendered, key="meeting_map", height=height, returned_objects=[])
    st.html(legend)


def matrix() -> None:
    st.subheader(t("meeting_matrix"))
    st.table(views.labelled_matrix(cache.view(views.service_matrix_by_community, f)))


def ranking() -> None:
    st.subheader(t("meeting_ranking", n=meeting.RANKING_ROWS))
    as_of = cache.as_of()
    widgets.ranking(cache.view(views.grid_performance, f, as_of), (f, as_of), meeting.RANKING_ROWS, static=True)


def overdue() -> None:
    st.subheader(t("meeting_overdue", n=meeting.OVERDUE_ROWS))
    rows = cache.view(views.overdue_for_meeting, f, cache.as_of(), meeting.OVERDUE_ROWS)
    shown = views.labelled_cases(rows)
    st.table(shown.set_index(shown.columns[0]))  # a plain table: every row at the room's type size


def departments() -> None:
    st.subheader(t("meeting_departments"))
    if not scorecard.sees_departments(session.current_scope()):
        st.info(t("dept_none"))
        return
    card = cache.view(scorecard.department_scorecard, f, cache.as_of())
    if card.empty:
        st.info(t("dept_none"))
        return
    widgets.status_table(
        ("department_table", f, cache.as_of()),
        lambda: scorecard.department_table(card, cache.unscoped(scorecard.settings)),
        static=True,
    )
    st.caption(t("status_legend_short"))


def red_black() -> None:
    st.subheader(t("meeting_red_black"))
    lists = cache.view(scorecard.lists_frame, f, cache.as_of())
    if lists.empty:
        st.info(t("black_list_empty"))
        return
    shown, more = meeting.red_black_for_screen(lists)
    st.table(shown.set_index(shown.columns[0]))
    st.caption(t("lists_rule_short") + (t("meeting_lists_more") if more else ""))


def warnings_() -> None:
    st.subheader(t("meeting_alerts"))
    analysis_widgets.alert_section(limit=5)


@st.fragment(run_every=opts.rotate_seconds or None)
def screen() -> None:
    if session.resolve_user() is None:  # a rotating screen checks its session at every turn
        st.rerun()
    with errors.guarded():
        _screen()


def _screen() -> None:
    show = opts.section or meeting.section_at(time.time(), opts.rotate_seconds)
    if show is not None:  # rotating: one section at a time, full width
        sections = {"kpis": kpis, "heatmap": heatmap, "matrix": matrix, "ranking": ranking, "overdue": overdue,
                    "departments": departments, "red_black": red_black, "alerts": warnings_}  # fmt: skip
        if show == "heatmap":  # alone on the screen: the map takes the room (1080 px less title and legend)
            heatmap(height=meeting.SOLO_MAP_HEIGHT)
        else:
            sections[show]()
        return
    kpis()
    left, right = st.columns([3, 2])
    with left:
        heatmap()
    with right:
        ranking()
    left, right = st.columns([2, 3])
    with left:
        matrix()
    with right:
        overdue()
    left, right = st.columns([3, 2])
    with left:
        departments()
    with right:
        red_black()
    warnings_()


screen()
