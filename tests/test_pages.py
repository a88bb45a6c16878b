"""Every page through AppTest on the fixture street: no exception, the right figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests import apps

PAGES = [f"app_pages/page_{p}.py" for p in ("overview", "heatmap", "service_matrix", "resolution", "meeting")]


def app_as(username: str) -> AppTest:
    """The app logged in as ``username`` (the documented session key), period March 2026."""
    at = apps.app(username)
    assert not at.exception, at.exception
    at = apps.in_march(at)
    assert not at.exception, at.exception
    return at


@pytest.fixture
def app(db_env: Path) -> AppTest:
    return app_as("leader")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(app: AppTest, page: str) -> None:
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert app.title[0].value
    assert any("2026-03-01 至 2026-03-31" in c.value for c in app.caption)


def test_overview_figures(app: AppTest) -> None:
    m = _metrics(app)
    assert m["受理诉求"] == "10"
    assert m["已办结"] == "8"
    assert m["办结率"] == "80.0%"
    assert m["按期办结率"] == "87.5%"
    assert m["满意率"] == "66.7%"
    assert m["在办积压"] == "3"
    assert m["超期未办结"] == "2"
    assert m["未落网格"] == "2"


def test_overview_community_filter(app: AppTest) -> None:
    app.multiselect(key="flt_community").set_value(["甲社区"]).run()
    assert not app.exception
    m = _metrics(app)
    assert (m["受理诉求"], m["未落网格"]) == ("6", "0")
    assert any("甲社区" in c.value for c in app.caption)


def test_heatmap_drill_into_a_grid(app: AppTest) -> None:
    app.switch_page("app_pages/page_heatmap.py").run()
    drill = app.selectbox[0]
    drill.select("370602005001001").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert sorted(table["工单编号"]) == ["c01", "c02", "c03"]
    assert "待派单" not in set(table["状态"])
    assert "办理中" in set(table["状态"])


def test_service_matrix_figures(app: AppTest) -> None:
    app.switch_page("app_pages/page_service_matrix.py").run()
    by_community = app.dataframe[0].value
    assert by_community.loc["合计"].tolist() == [1, 1, 3, 3, 0, 1]
    assert by_community.columns[-2:].tolist() == ["议事角", "志愿服务队"]
    warning = app.warning[0].value
    assert warning.startswith("6 个网格缺少三级微格民情驿站，8 个网格")


def test_resolution_ranking(app: AppTest) -> None:
    app.switch_page("app_pages/page_resolution.py").run()
    ranking = app.dataframe[0].value
    first = ranking.iloc[0]
    assert first["网格名称"] == "第2网格"
    assert first["受理件数"] == "2"
    assert first["全街道排名"] == "1/5"
    assert first["满意率"] == "○ 100.0%（1.03×）"  # c04: 4 stars, 1 of 1 against 97 %
    assert first["按期办结率"] == "○ 100.0%（1.11×）"


@pytest.mark.parametrize("page", PAGES)
def test_page_with_nothing_selected_says_so(app: AppTest, page: str) -> None:
    # 网格巡查 reported only a noise case in March: with 环境卫生 nothing is left.
    app.multiselect(key="flt_source").set_value(["网格巡查"]).run()
    app.multiselect(key="flt_category").set_value(["环境卫生"]).run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    if not page.endswith("service_matrix.py"):  # service points do not depend on cases
        assert app.info[0].value == "当前筛选条件下没有诉求数据，请放宽时段或区域。"


@pytest.mark.parametrize("user", ["leader", "head"])
@pytest.mark.parametrize("section", ["alerts", "hotspots", "emerging", "repeats"])
def test_analysis_sections_render_for_leader_and_grid_head(db_env: Path, user: str, section: str) -> None:
    """研判预警 on the fixture street: every section, for the street and for one grid head's grids."""
    at = app_as(user)
    at.switch_page("app_pages/page_analysis.py").run()
    at.segmented_control(key="ana_section").set_value(section).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "研判预警"
    if section == "alerts":  # ten cases in a month: nothing is over a threshold of at least 3 a week
        assert any("没有" in s.value for s in at.success)
    if section == "hotspots":  # the grid head sees their own grids' rows, never another grid's
        shown = set(at.dataframe[0].value["网格名称"]) if at.dataframe else set()
        assert user == "leader" or shown <= {"第1网格", "第2网格"}


@pytest.mark.parametrize("static", [False, True])
def test_a_cached_shaded_table_draws_as_streamlit_would_draw_it_fresh(static: bool) -> None:
    """widgets._shaded computes a Styler's styles once; drawn again (any number of times), the table,
    its shading and its text are what Streamlit makes of the same Styler built anew."""
    import pandas as pd
    from streamlit.elements.lib.pandas_styler_utils import marshall_styler
    from streamlit.proto.ArrowData_pb2 import ArrowData

    from gridpulse.ui import widgets

    text = pd.DataFrame({"网格": ["甲<b>1</b>", "乙", "丙"], "办结率": ["✔ 96.9%", "✖ 61.0%", "—"]})
    status = pd.DataFrame({"网格": [None] * 3, "办结率": ["green", "red", None]})
    assert set(status["办结率"].dropna()) <= set(widgets.STATUS_BACKGROUND)

    fresh = text.style.apply(
        lambda _: status.map(
            lambda s: f"background-color: {widgets.STATUS_BACKGROUND[s]}" if s in widgets.STATUS_BACKGROUND else ""
        ).to_numpy(),
        axis=None,
    )
    if static:
        fresh = fresh.hide(axis="index")
    cached = widgets._shaded(text, status, static)
    fresh.set_uuid("t")
    cached.set_uuid("t")
    want = ArrowData()
    marshall_styler(want, fresh, "t")
    for _ in range(2):
        got = ArrowData()
        marshall_styler(got, cached, "t")
        assert got.styler.styles == want.styler.styles
        assert "background-color" in got.styler.styles
        assert got.styler.display_values == want.styler.display_values


def test_a_cached_chart_spec_sends_the_data_streamlit_would_send() -> None:
    """widgets._chart_spec turns a chart's datasets into Arrow once; Streamlit sends those bytes as it would
    have made them from the rows (and the spec it sends is the same)."""
    import altair as alt
    import pandas as pd
    from streamlit.elements.vega_charts import _marshall_chart_data
    from streamlit.proto.VegaLiteChart_pb2 import VegaLiteChart

    from gridpulse.ui import widgets

    rows = pd.DataFrame({"类别": ["噪音<i>", "停车"], "件数": [12, 7], "按时率": [0.91, None]})
    chart = alt.Chart(rows).mark_bar().encode(x="类别:N", y="件数:Q")
    want, got = VegaLiteChart(), VegaLiteChart()
    fresh = chart.to_dict()
    _marshall_chart_data(want, fresh)
    cached = widgets._chart_spec(chart)
    _marshall_chart_data(got, cached)
    assert [(d.name, d.data.data) for d in got.datasets] == [(d.name, d.data.data) for d in want.datasets]
    assert len(got.datasets) == 1
    assert cached == fresh  # the datasets moved out of both
