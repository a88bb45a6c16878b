"""Small drawing helpers shared by pages: formatting, KPI cards, the scope line."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gridpulse import formats, reports, views
from gridpulse.filters import Filters
from gridpulse.reports import fonts
from gridpulse.safe_text import md_join, md_text
from gridpulse.strings import t
from gridpulse.ui import cache, session


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


def kpi_cards(kpis: list[views.Kpi], columns: int = 4) -> None:
    """KPI cards; rates show their change in percentage points."""
    cols = st.columns(columns)
    for i, k in enumerate(kpis):
        value, delta = formats.kpi(k.key, k.value, k.delta, k.is_rate)
        cols[i % columns].metric(
            t(f"kpi_{k.key}"),
            value,
            delta,
            delta_color="inverse" if k.key in formats.WORSE_WHEN_UP else "normal",
            help=t(f"kpi_help_{k.key}"),
            border=True,
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


def ranking(perf: pd.DataFrame, rows: int | None = None) -> None:
    """The per-grid ranking table (sample sizes beside the rates), optionally its top rows."""
    table = views.ranking_table(perf)
    st.dataframe(
        table if rows is None else table.head(rows),
        hide_index=True,
        width="stretch",
        column_config={
            t(c): st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)
            for c in ("resolution_rate", "resolution_lower_bound")
        },
    )


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
