"""Static charts and maps for reports, drawn on the server with matplotlib (no browser, no internet).

Each function takes the same frames the pages draw from and returns a PNG. Colours and
classes of the grid map are those of the interactive map (``maps.classify``). Names from
the data (communities, categories) pass through ``safe_text.plot_text``: a ``$`` in them
would otherwise be typeset as mathematics (and a malformed formula stops the drawing).
"""

from __future__ import annotations

import io
import math

import geopandas as gpd
import pandas as pd
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gridpulse import formats, maps
from gridpulse.reports import fonts
from gridpulse.safe_text import plot_text
from gridpulse.strings import t

DPI = 200
ACCENT = "#c0392b"
SERIES_COLOURS = {"reported": "#2166ac", "resolved": ACCENT}
# Grid labels only while they stay readable.
MAX_LABELLED_GRIDS = 80
LABEL_CHARS = 12  # longer category names are cut so the bars keep their room
HALO = [patheffects.withStroke(linewidth=1.6, foreground="white")]


def _figure(width_in: float, height_in: float) -> Figure:
    return Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white", bbox_inches="tight", pad_inches=0.05)
    return buf.getvalue()


def _style() -> dict[str, object]:
    return {"font.family": fonts.matplotlib_families(), "font.size": 9, "axes.spines.top": False,
            "axes.spines.right": False, "axes.unicode_minus": False}  # fmt: skip


def grid_map(
    shapes_: gpd.GeoDataFrame, perf: pd.DataFrame, metric: str, size: tuple[float, float] = (7.5, 5.6)
) -> bytes:
    """Grids coloured by ``metric`` (the interactive map's classes), community borders, a legend."""
    return _png(grid_map_figure(shapes_, perf, metric, size))


def grid_map_figure(
    shapes_: gpd.GeoDataFrame, perf: pd.DataFrame, metric: str, size: tuple[float, float] = (7.5, 5.6)
) -> Figure:
    import matplotlib as mpl

    frame = shapes_[["grid_code", "community", "geometry"]].merge(
        perf.drop(columns=["community"], errors="ignore"), on="grid_code", how="left"
    )
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=shapes_.crs)
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]  # a grid with no area cannot be drawn
    fill, entries = maps.grid_fill(frame, metric)
    with mpl.rc_context(_style()):
        fig = _figure(*size)
        ax = fig.subplots()
        frame.plot(ax=ax, color=fill, edgecolor="#666666", linewidth=0.4)
        communities = frame.dissolve(by="community")
        communities.boundary.plot(ax=ax, color="#222222", linewidth=1.4)
        if len(frame) <= MAX_LABELLED_GRIDS:
            for geom, v in zip(frame.geometry, frame[metric], strict=True):
                p = geom.representative_point()
                ax.annotate(formats.value(metric, v), (p.x, p.y), ha="center", va="center", fontsize=5.5,
                            color="#111111", path_effects=HALO)  # fmt: skip
        for name, geom in zip(communities.index, communities.geometry, strict=True):
            p = geom.representative_point()
            ax.annotate(plot_text(name), (p.x, p.y), xytext=(0, 9), textcoords="offset points", ha="center", fontsize=8,
                        fontweight="bold", color="#111111",
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.7})  # fmt: skip
        _, miny, _, maxy = frame.total_bounds
        ax.set_aspect(1 / math.cos(math.radians((miny + maxy) / 2)))  # metres look square
        ax.set_axis_off()
        handles = [Patch(facecolor=c, edgecolor="#666666", label=text) for text, c in entries]
        ax.legend(handles=handles, title=t(metric), loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False,
                  fontsize=8, title_fontsize=9)  # fmt: skip
        return fig


def trend_chart(trend: pd.DataFrame, size: tuple[float, float] = (6.0, 3.4)) -> bytes:
    """Cases reported and resolved per month (``views.monthly_trend``); bars for a single month."""
    import matplotlib as mpl

    with mpl.rc_context(_style()):
        fig = _figure(*size)
        ax = fig.subplots()
        ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        ax.set_ylabel(t("trend_count"))
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        if trend["month"].nunique() == 1:
            names = [t(str(s)) for s in trend["series"]]
            bars = ax.bar(names, trend["count"], color=[SERIES_COLOURS.get(str(s)) for s in trend["series"]], width=0.5)
            ax.bar_label(bars, labels=[formats.count(v) for v in trend["count"]], padding=2)
            ax.set_xlabel(f"{pd.Timestamp(trend['month'].iloc[0]):%Y-%m}")
            return _png(fig)
        for k, (series, rows) in enumerate(trend.groupby("series", sort=False)):
            months = pd.to_datetime(rows["month"])
            colour = SERIES_COLOURS.get(str(series))
            ax.plot(months, rows["count"], marker="o", markersize=4, color=colour, linestyle=("-", "--")[k % 2],
                    label=t(str(series)))  # fmt: skip
            if "partial" in rows:  # a month the period holds only part of: a hollow point, not a collapse
                part = rows["partial"].to_numpy(dtype=bool)
                ax.plot(months[part], rows["count"][part], linestyle="none", marker="o", markersize=6,
                        markerfacecolor="white", markeredgecolor=colour)  # fmt: skip
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_locator(mpl.dates.MonthLocator(interval=max(1, trend["month"].nunique() // 8)))
        ax.xaxis.set_major_formatter(mpl.dates.DateFormatter("%Y-%m"))
        ax.legend(frameon=False, loc="lower left", ncols=2)
        return _png(fig)


def category_chart(cats: pd.DataFrame, size: tuple[float, float] = (6.0, 3.4)) -> bytes:
    """Most frequent categories (``views.top_categories``), largest on top, counts written on bars."""
    import matplotlib as mpl

    with mpl.rc_context(_style()):
        fig = _figure(*size)
        ax = fig.subplots()
        rows = cats.iloc[::-1]
        names = [plot_text(c if len(c) <= LABEL_CHARS else c[: LABEL_CHARS - 1] + "…")
                 for c in rows["category"].astype(str)]  # fmt: skip
        bars = ax.barh(names, rows["cases"], color=ACCENT)
        ax.bar_label(bars, labels=[formats.count(v) for v in rows["cases"]], padding=2, fontsize=7)
        ax.set_xlabel(t("cases_count"))
        ax.margins(x=0.12)
        return _png(fig)


def level_chart(levels: pd.DataFrame, size: tuple[float, float] = (6.0, 3.4)) -> bytes:
    """Three-level linkage shares per community, 100 % stacked bars (``reports.level_table``)."""
    import matplotlib as mpl

    with mpl.rc_context(_style()):
        fig = _figure(*size)
        ax = fig.subplots()
        rows = levels.iloc[::-1]
        left = pd.Series(0.0, index=rows.index)
        for lv, colour in zip((1, 2, 3), maps.LEVEL_SHARE_COLOURS, strict=True):
            share = rows[f"level{lv}_share"].fillna(0.0)
            names = [plot_text(c) for c in rows["community"]]
            label = t("report_level_solved", level=t(f"level_{lv}"))
            bars = ax.barh(names, share, left=left, color=colour, label=label)
            ax.bar_label(bars, labels=[formats.rate(v, 0) if v >= 0.06 else "" for v in share],
                         label_type="center", fontsize=7)  # fmt: skip
            left += share
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
        ax.legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3)
        return _png(fig)
