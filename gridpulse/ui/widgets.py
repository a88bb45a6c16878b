"""Small drawing helpers shared by pages: formatting, KPI cards, the scope line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd
import streamlit as st
from streamlit import dataframe_util

from gridpulse import formats, reports, scorecard, targets, views
from gridpulse.filters import Filters
from gridpulse.reports import fonts
from gridpulse.safe_text import html_text, md_join, md_text
from gridpulse.strings import t
from gridpulse.ui import cache, session

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler


def scope_line(f: Filters) -> None:
    """Say which period, area and cases the figures on the page cover."""
    covered = cache.view(views.area, f)
    # Names are imported data and this is Markdown: each is escaped (safe_text.md_text).
    if covered.own_grids:
        area = t("scope_grids", grids=md_join(covered.grids))
    elif covered.grids:
        area = md_join(covered.grids)
    elif covered.communities:
        area = md_join(covered.communities)
    else:
        area = f"{md_text(covered.street)}{t('whole_street')}"
    if covered.department is not None:
        area += "，" + t("scope_department", department=md_text(covered.department))
    cases = t("cases_some") if (f.categories or f.sources) else t("cases_all")
    st.caption(t("scope_line", area=area, start=f.start, end=f.end, days=f.days, cases=cases))


def kpi_cards(kpis: list[views.Kpi], columns: int = 4, card_width: int | None = None) -> None:
    """KPI cards; rates show their change in percentage points.

    Rows of ``columns`` cards that share the row's width; each row wraps on a narrow screen, so a
    phone shows two a row (Streamlit's columns would stack them one per row below 640 px).
    ``card_width``: cards of that width in one wrapping row instead.
    """
    if card_width is not None:
        row = st.container(horizontal=True, gap="small")
        places = [row] * len(kpis)
    else:
        rows = [st.container(horizontal=True, gap="small") for _ in range(0, len(kpis), columns)]
        places = [rows[i // columns] for i in range(len(kpis))]
    for place, k in zip(places, kpis, strict=True):
        value, delta = formats.kpi(k.key, k.value, k.delta, k.is_rate)
        place.metric(
            t(f"kpi_{k.key}"),
            value,
            delta,
            delta_color="inverse" if k.key in formats.WORSE_WHEN_UP else "normal",
            help=t(f"kpi_help_{k.key}"),
            border=True,
            width=card_width if card_width is not None else "stretch",
        )


def street_comparison(mine: dict[str, float | None], street: dict[str, float | None]) -> None:
    """This scope's rates beside the whole street's, as numbers only."""
    st.markdown(f"**{t('street_compare')}**")
    cols = st.columns(len(street))
    for col, key in zip(cols, street, strict=True):
        diff = None if mine.get(key) is None or street[key] is None else mine[key] - street[key]
        col.metric(
            f"{t(key)}：{t('mine')} / {t('street')}",
            f"{formats.rate(mine.get(key))} / {formats.rate(street[key])}",
            None if diff is None else t("kpi_delta_points", points=diff * 100),
            border=True,
        )


def meeting_style(dark: bool) -> None:
    """Projector layout: no sidebar or editing chrome, large type, optional dark theme."""
    css = [
        "[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl'],header,"
        "[data-testid='stToolbar'],[data-testid='stElementToolbar']{display:none !important}",
        ".block-container{max-width:100% !important;padding:1rem 2rem !important}",
        "h1{font-size:2.6rem !important} h3{font-size:1.6rem !important}",
        "[data-testid='stMetricValue']{font-size:2.6rem !important}",
        "[data-testid='stMetricLabel'] p{font-size:1.2rem !important}",
        # Read from the back of a room: tables at 18 px (1.125rem) at least, no "?" help icons.
        "[data-testid='stTable'] table{font-size:1.125rem !important}",
        "[data-testid='stTable'] th,[data-testid='stTable'] td{padding:0.3rem 0.6rem !important}",
        "[data-testid='stTooltipIcon'],[data-testid='stTooltipHoverTarget'] svg{display:none !important}",
        "[data-testid='stCaptionContainer']{font-size:1rem !important}",
        "[data-testid='stHtml']{font-size:1.125rem !important}",
        "[data-testid='stHtml'] div{font-size:inherit !important}",
    ]
    if dark:
        css += [
            ".stApp{background:#0b1622 !important;color:#f2f5f8 !important}",
            ".stApp h1,.stApp h3,.stApp label,[data-testid='stCaptionContainer'],"
            "[data-testid='stMetricLabel'] p,[data-testid='stMetricValue'],"
            "[data-testid='stHtml']{color:#f2f5f8 !important}",
            "[data-testid='stMetric']{background:#13263a !important;border-color:#2c4a68 !important}",
            ".leaflet-container{background:#0b1622 !important}",
        ]
    st.html(f"<style>{''.join(css)}</style>")


def ranking(perf: pd.DataFrame, what: tuple[Any, ...], rows: int | None = None, static: bool = False) -> None:
    """The per-grid ranking table (sample sizes beside the rates), optionally its top rows.

    ``what`` names what ``perf`` was computed from (the filters and the as-of): the table's text and
    target states (a test against chance per cell) are built once for it, not at every page run.
    """

    def build() -> tuple[pd.DataFrame, pd.DataFrame]:
        text, status = views.ranking_table(perf, cache.unscoped(scorecard.settings))
        return (text, status) if rows is None else (text.head(rows), status.head(rows))

    status_table(("ranking", *what, rows), build, static=static)


def report_downloads(f: Filters) -> None:
    """Excel, PDF and PPTX reports of the filtered figures; each is built when its button is clicked."""
    area = cache.view(views.area_name, f)
    with st.expander(t("report_section")):
        metric = st.selectbox(t("report_map_metric"), reports.MAP_METRICS, format_func=t, key="report_map_metric")
        try:
            fonts.cjk_font()
            formats_ = list(reports.FORMATS)
        except fonts.FontMissingError as err:
            st.warning(t("report_font_missing", error=err))
            formats_ = ["xlsx"]
        for fmt, col in zip(formats_, st.columns(len(reports.FORMATS)), strict=False):
            build = cache.deferred(reports.render_for, f, cache.as_of(), area, fmt, metric)
            col.download_button(
                t("report_download", fmt=t(f"report_fmt_{fmt}")),
                session.audited_export(build, f"report {fmt} {area} {f.start}..{f.end}"),
                file_name=reports.file_name(area, f.start, f.end, fmt, filtered=bool(f.categories or f.sources)),
                mime=reports.MIME[fmt],
                key=f"report_{fmt}",
                width="stretch",
            )


# Two series side by side (reported solid, resolved dashed): Okabe-Ito blue and vermillion.
SERIES_COLOURS = ("#0072b2", "#d55e00")

STATUS_BACKGROUND = {
    "green": "#d1e5f0",
    "amber": "#fee8c8",
    "red": "#fcbba1",
}  # met: blue, not green (colour-blind readers)


def status_table(
    what: tuple[Any, ...],
    build: Callable[[], tuple[pd.DataFrame, pd.DataFrame]],
    height: int | None = None,
    static: bool = False,
) -> None:
    """A table of figures written as text, each cell shaded by its target status (marks ✔ △ ✖ say it too).

    ``build`` gives the text and the status of each cell; ``what`` names everything it depends on besides
    the data version and the scope (as ``cache.built``): the shaded table is made once for it.
    ``static``: a plain table, all rows drawn at the page's type size (the meeting screen), no scrolling grid.
    """
    styled = cache.built(("shaded", static, *what), lambda: _shaded(*build(), static))
    if static:
        st.table(styled)
        return
    st.dataframe(styled, hide_index=True, width="stretch", height=height or "auto")


def _shaded(text: pd.DataFrame, status: pd.DataFrame, static: bool) -> Styler:
    """A Styler of ``text`` shaded by ``status``, with its styles computed once.

    Streamlit computes and translates a Styler's styles at every draw (about 10 ms for a street's
    ranking, with the shading below it a sixth of a loaded server's time). This one has done both when
    it was built: drawn again from the cache, it gives the same styles, the ones Streamlit would work
    out (tests/test_pages.py checks the two are the same).
    """
    css = status.map(lambda s: f"background-color: {STATUS_BACKGROUND[s]}" if s in STATUS_BACKGROUND else "")
    styled = text.style.apply(lambda _: css.to_numpy(), axis=None)
    if static:
        styled = styled.hide(axis="index")
    styled._compute()
    translated = styled._translate(False, False)
    if all(text[c].map(lambda v: isinstance(v, str)).all() for c in text):
        # Every cell is text already, so the display value Streamlit would set from each body cell is the
        # cell itself: without the body it skips setting them one by one (a tenth of a loaded server's time).
        translated = {**translated, "body": []}
    styled._compute = lambda: styled  # type: ignore[method-assign]
    styled._translate = lambda *_args, **_kwargs: translated  # type: ignore[method-assign]
    return styled


def target_summary(rows: pd.DataFrame, what: tuple[Any, ...]) -> None:
    """The selection's figures against their targets: value, target, ratio and status, as a table.

    ``what`` names what ``rows`` were computed from (the filters and the as-of).
    """

    def build() -> tuple[pd.DataFrame, pd.DataFrame]:
        text = pd.DataFrame(
            {
                t("metric_col"): [t(m) for m in rows["metric"]],
                t("value_col"): [formats.value(m, v) for m, v in zip(rows["metric"], rows["value"], strict=True)],
                t("target_col"): [
                    scorecard.target_text(m, v) for m, v in zip(rows["metric"], rows["target"], strict=True)
                ],
                t("ratio_col"): [t("no_data") if formats.missing(r) else f"{r:.2f}×" for r in rows["ratio"]],
                t("status_col"): [t(f"status_{s}") if isinstance(s, str) else t("status_none") for s in rows["status"]],
                t("sample"): [formats.count(n) for n in rows["sample"]],
            }
        )
        status = pd.DataFrame(
            {c: rows["status"].tolist() if c == t("status_col") else [None] * len(rows) for c in text}
        )
        return text, status

    status_table(("targets", *what), build)


def worst_department(card: pd.DataFrame, cfg: targets.Settings) -> None:
    """One sentence naming the department that misses a target worst, and by which rate."""
    found = scorecard.worst_department(card)
    if found is None:
        st.success(t("dept_all_green"))
        return
    worst, metric = found
    den = targets.RATE_TARGETS[metric][1]
    st.error(
        t(
            "dept_worst",
            department=md_text(worst["key"]),
            metric=t(metric),
            value=formats.value(metric, worst[metric]),
            target=scorecard.target_text(metric, cfg.targets[metric]),
            ratio=worst[f"{metric}_ratio"],
            n=int(worst[den]),
        )
    )


def stage_table(f: Filters, by: str | None = None) -> None:
    """Median and p90 hours per step (rows: units, or the whole selection), one column pair per step."""
    wide = cache.built(("stage_wide", f, by), lambda: scorecard.stage_wide(cache.view(scorecard.stage_timings, f, by)))
    if wide.empty:
        st.info(t("empty"))
        return
    st.dataframe(wide, hide_index=True, width="stretch")


def chart(what: tuple[object, ...], build: Callable[[], alt.TopLevelMixin]) -> None:
    """An Altair chart drawn full width; its Vega-Lite spec is built (and validated) once per data version,
    scope and ``what`` (everything the chart depends on besides them), not on every run of the page."""
    st.vega_lite_chart(cache.built(("chart", *what), lambda: _chart_spec(build())), width="stretch")


def _chart_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec with its datasets already in Arrow, as Streamlit sends them.

    Streamlit converts each dataset of a spec (rows as dicts) to Arrow at every draw, unless it is
    bytes already; here that is done once, with Streamlit's own conversion, when the spec is built.
    """
    spec = chart.to_dict()
    if "datasets" in spec:
        spec["datasets"] = {
            name: rows if isinstance(rows, dict) else dataframe_util.convert_anything_to_arrow_bytes(rows)
            for name, rows in spec["datasets"].items()
        }
    return spec


RATES_BY_COLUMNS = ("cases", "resolved", "on_time_rate", "satisfaction", "rework_rate", "accept_in_time_rate",
                    "on_spot_share", "median_hours", "p90_hours")  # fmt: skip


def rates_by(f: Filters, by: str) -> None:
    """Cases and rates per category or source: a chart of cases (bars) and on-time rate (labels), and the table."""
    what = (f, cache.as_of(), by)
    rows = cache.view(scorecard.rates_by, *what)
    if rows.empty:
        st.info(t("empty"))
        return
    chart(("rates_by", *what), lambda: _rates_bars(rows, by))
    st.dataframe(cache.built(("rates_by", *what), lambda: _rates_table(rows, by)), hide_index=True, width="stretch")
    st.caption(t("by_caption"))


def _rates_bars(rows: pd.DataFrame, by: str) -> alt.Chart:
    shown = rows.assign(name=rows["key"].astype(str), on_time=rows["on_time_rate"].astype(float))
    return alt.Chart(shown).mark_bar(color="#4c78a8").encode(
        x=alt.X("cases:Q", title=t("cases")),
        y=alt.Y("name:N", sort="-x", title=None),
        tooltip=[alt.Tooltip("name:N", title=t(by)), alt.Tooltip("cases:Q", title=t("cases")),
                 alt.Tooltip("on_time:Q", title=t("on_time_rate"), format=".1%"),
                 alt.Tooltip("satisfaction:Q", title=t("satisfaction"), format=".1%")],
    ).properties(height=max(160, 26 * len(shown)))  # fmt: skip


def _rates_table(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    table = pd.DataFrame({t(by): rows["key"].astype(str)})
    for col in RATES_BY_COLUMNS:
        table[t(col)] = [formats.value(col, v) for v in rows[col]]
    return table


def flow_chart(nodes: list[str], links: pd.DataFrame) -> None:
    """The three-level linkage as a Sankey diagram (plotly.js bundled with Streamlit: no CDN)."""
    import plotly.graph_objects as go

    if links.empty:
        st.info(t("empty"))
        return
    fig = go.Figure(
        go.Sankey(
            # plotly.js reads <b>, <a href> … in labels: names from data are escaped to show literally.
            node={"label": [html_text(n) for n in nodes], "pad": 14, "thickness": 14, "color": "#9ecae1"},
            link={"source": links["source"], "target": links["target"], "value": links["value"]},
        )
    )
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10}, font={"size": 13})
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False})


def action_lists(f: Filters, stale_days: int) -> None:
    """The lists a leader acts on, one tab each, masked as the role requires."""
    kinds = ("oldest_open", "stale", "dissatisfied", "reopened")
    tabs = st.tabs([t(f"action_{k}", days=stale_days) for k in kinds], key="action_tab", on_change="rerun")
    for tab, kind in zip(tabs, kinds, strict=True):
        if not tab.open:  # only the open list is drawn; choosing another reruns the page
            continue
        what = (f, cache.as_of(), kind)
        table = cache.built(
            ("action_list", *what), lambda w=what: views.labelled_cases(cache.view(scorecard.action_list, *w))
        )
        tab.dataframe(table, hide_index=True, width="stretch")
