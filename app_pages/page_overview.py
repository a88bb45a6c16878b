"""总览: KPI cards against the previous period, monthly trend, top categories."""

import altair as alt
import streamlit as st

from gridpulse import config, formats, metrics, scorecard, views
from gridpulse.filters import Filters
from gridpulse.scope import ADMIN, GRID_HEAD, LEADER, LIAISON
from gridpulse.strings import t
from gridpulse.ui import analysis_widgets, cache, filters, session, widgets

f = filters.current()
st.title(t("nav_overview"))
widgets.scope_line(f)
kpis = cache.view(views.overview_kpis, f, cache.as_of())
widgets.kpi_cards(kpis)
before = f.previous()
st.caption(t("vs_previous", start=before.start, end=before.end))
scope = session.current_scope()
if scope.role == GRID_HEAD:  # a grid head's first screen: this week's alerts for their grids
    analysis_widgets.alert_section(mine=True)
if not scope.whole_street:
    mine = {k.key: k.value for k in kpis}
    widgets.street_comparison(mine, cache.unscoped(views.street_average, f, cache.as_of()))
with st.expander(t("targets_title"), expanded=True):
    widgets.target_summary(cache.view(scorecard.headline_targets, f, cache.as_of()), (f, cache.as_of()))
    st.caption(t("status_legend"))
widgets.report_downloads(f)
if not kpis[0].value:
    st.info(t("empty"))
    st.stop()

left, right = st.columns([3, 2])
with left:
    st.subheader(t("trend_title"))
    st.caption(t("trend_note", start=f.start, end=f.end))
    st.caption(t("trend_partial_note"))

    def trend_chart() -> alt.LayerChart:
        trend = cache.view(views.monthly_trend, f)
        trend["series"] = trend["series"].map(t)
        names = [t("reported"), t("resolved")]
        series = alt.Scale(domain=names, range=list(widgets.SERIES_COLOURS))
        base = alt.Chart(trend).encode(
            x=alt.X("yearmonth(month):T", title=t("trend_month"), axis=alt.Axis(format="%Y-%m")),
            y=alt.Y("count:Q", title=t("trend_count")),
            color=alt.Color("series:N", title=None, scale=series, legend=alt.Legend(orient="top")),
        )
        # Whole months are joined by lines; a month the period holds only part of stands alone, hollow and
        # labelled, so a short last month does not read as a collapse.
        lines = (
            base.transform_filter("!datum.partial")
            .mark_line(strokeWidth=2.5)
            .encode(
                strokeDash=alt.StrokeDash(
                    "series:N", scale=alt.Scale(domain=names, range=[[1, 0], [6, 3]]), legend=None
                )
            )
        )
        points = base.mark_point(size=80, strokeWidth=2).encode(
            fill=alt.condition("datum.partial", alt.value("white"), alt.Fill("series:N", scale=series, legend=None)),
            tooltip=[
                alt.Tooltip("month_label:N", title=t("trend_month")),
                alt.Tooltip("series:N", title=t("trend_series")),
                alt.Tooltip("count:Q", title=t("trend_count")),
            ],
        )
        labels = (
            base.transform_filter(f"datum.partial && datum.series == '{names[0]}'")
            .mark_text(dy=-14, color="#555555")
            .encode(text=alt.value(t("trend_partial_short")), color=alt.value("#555555"))
        )
        return lines + points + labels

    widgets.chart(("trend", f), trend_chart)
with right:
    st.subheader(t("top_categories"))
    widgets.chart(
        ("top_categories", f),
        lambda: (
            alt.Chart(cache.view(views.top_categories, f))
            .mark_bar(color="#c0392b")
            .encode(
                x=alt.X("cases:Q", title=t("cases_count")),
                y=alt.Y("category:N", sort="-x", title=None),
                tooltip=[
                    alt.Tooltip("category:N", title=t("category")),
                    alt.Tooltip("cases:Q", title=t("cases_count")),
                ],
            )
        ),
    )

cfg = cache.unscoped(scorecard.settings)
if scope.role in (LEADER, ADMIN):  # the departments the street holds to account, at a glance
    st.subheader(t("overview_departments"))
    card = cache.view(scorecard.department_scorecard, f, cache.as_of())
    if card.empty:
        st.info(t("dept_none"))
    else:
        widgets.worst_department(card, cfg)
        widgets.status_table(("department_table", f, cache.as_of()), lambda: scorecard.department_table(card, cfg))
        st.page_link("app_pages/page_departments.py", label=t("nav_departments"), icon="➡️")

# Only the open tab is drawn (and its figures computed): choosing another reruns the page.
tab_cat, tab_src, tab_stage, tab_flow, tab_act = st.tabs(
    [t("tab_category"), t("tab_source"), t("tab_stages"), t("flow_title"), t("tab_actions")],
    key="overview_tab",
    on_change="rerun",
)


@session.section
def stage_breakdown(f: Filters) -> None:
    """Step timings by community, grid or department: switching reruns this part only."""
    by = (
        st.segmented_control(
            t("stage_by"),
            ("community", "grid_code", "department"),
            format_func=lambda u: t(u if u != "grid_code" else "grid"),
            default="community",
            key="stage_by",
        )
        or "community"
    )
    widgets.stage_table(f, by)


if tab_cat.open:
    with tab_cat:
        st.subheader(t("by_category_title"))
        widgets.rates_by(f, "category")
if tab_src.open:
    with tab_src:
        st.subheader(t("by_source_title"))
        widgets.rates_by(f, "source")
if tab_stage.open:
    with tab_stage:
        st.subheader(t("stage_title"))
        st.caption(t("stage_caption"))
        overall = cache.view(scorecard.stage_timings, f)
        slowest = scorecard.slowest_step(overall)
        if slowest is not None:
            row = overall.set_index("step").loc[slowest]
            st.warning(t("stage_slowest", step=t(f"step_{slowest}"), median=row["median"], p90=row["p90"]))
        widgets.stage_table(f)
        stage_breakdown(f)
if tab_flow.open:
    with tab_flow:
        st.subheader(t("flow_title"))
        st.caption(t("flow_caption", hours=config.ON_SPOT_HOURS))
        spot, level1 = cache.view(scorecard.on_spot, f, cache.as_of())
        st.metric(t("on_spot_share"), formats.rate(metrics.on_spot_share(spot, level1)), border=True)
        st.caption(t("on_spot_note", n=spot, total=level1, hours=config.ON_SPOT_HOURS))
        widgets.flow_chart(*scorecard.flow_links(cache.view(scorecard.level_flow, f, cache.as_of())))
if tab_act.open:
    with tab_act:
        st.subheader(t("actions_title"))
        st.caption(t("actions_caption", days=cfg.stale_days, limit=config.MAX_TABLE_ROWS))
        widgets.action_lists(f, cfg.stale_days)

if not scope.whole_street or scope.role == LIAISON:
    st.subheader(t("open_cases_title"))
    open_rows = cache.view(views.open_cases, f, cache.as_of())
    overdue = next(k.value for k in kpis if k.key == "overdue")
    backlog = next(k.value for k in kpis if k.key == "backlog")
    stamp = min(f.end, cache.as_of().date())
    st.caption(
        t(
            "open_cases_caption",
            stamp=stamp,
            n=int(backlog or 0),
            overdue=int(overdue or 0),
            limit=config.MAX_TABLE_ROWS,
        )
    )
    st.dataframe(views.labelled_cases(open_rows), hide_index=True, width="stretch")
