"""The accountability pages through AppTest on the department fixture: no exception, the right figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests import apps


@pytest.fixture
def dept_env(dept_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRIDPULSE_DB", str(dept_db))
    return dept_db


def page_as(username: str, page: str) -> AppTest:
    at = apps.in_march(apps.app(username))
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _cells(at: AppTest) -> str:
    return " ".join(df.value.to_string() for df in at.dataframe)


def test_department_page_for_the_leader(dept_env: Path) -> None:
    at = page_as("leader", "app_pages/page_departments.py")
    assert at.title[0].value == "部门考核"
    card = at.dataframe[0].value
    data = card.data if hasattr(card, "data") else card  # a Styler carries its frame
    rows = data.set_index("承办单位")
    assert rows.loc["区住建局", "派单件数"].endswith("2")
    assert rows.loc["区住建局", "及时签收率"] == "△ 50.0%（0.53×）"  # 1 of 2: P = 0.0975, could be chance
    assert rows.loc["热力公司", "满意率"] == "× 0.0%（0.00×）"
    assert any("最需关注" in e.value for e in at.error)
    assert at.selectbox(key="dept_pick").options == ["区住建局", "热力公司"]  # the leader drills anywhere
    at.selectbox(key="dept_pick").set_value("热力公司").run()
    assert "c02" in _cells(at)  # its dissatisfied case
    assert "13912345678" not in _cells(at)  # masked for the leader


def test_department_page_for_the_liaison(dept_env: Path) -> None:
    at = page_as("liaison", "app_pages/page_departments.py")
    card = at.dataframe[0].value
    data = card.data if hasattr(card, "data") else card
    assert set(data["承办单位"]) == {"区住建局", "热力公司"}  # every department, as figures
    assert at.selectbox(key="dept_pick").options == ["区住建局"]  # cases: only their own
    assert "c02" not in _cells(at)  # 热力公司's dissatisfied case
    assert [tab.label for tab in at.tabs] == ["超期未办结", "不满意（评价 ≤ 2 星）"]


def test_accountability_page_ranks_and_lists(dept_env: Path) -> None:
    at = page_as("leader", "app_pages/page_accountability.py")
    assert at.title[0].value == "考核排名与红黑榜"
    assert any("综合得分（0–100）" in c.value for c in at.caption)
    for unit in ("community", "department"):
        at.segmented_control(key="acc_unit").set_value(unit).run()
        assert not at.exception, at.exception


def test_grid_head_sees_street_ranks_of_their_grids(dept_env: Path) -> None:
    at = page_as("head", "app_pages/page_accountability.py")
    ranking = next(df.value for df in at.dataframe if "全街道排名" in df.value.columns and "满意率" in df.value.columns)
    assert set(ranking["网格"]) == {"第1网格", "第2网格"}
    assert all(r.endswith("/5") for r in ranking["全街道排名"])  # of the street's five ranked grids


def test_overview_shows_targets_departments_and_tabs(dept_env: Path) -> None:
    at = page_as("leader", "app_pages/page_overview.py")
    tables = [df.value.data if hasattr(df.value, "data") else df.value for df in at.dataframe]
    targets_table = next(tb for tb in tables if "达成比" in tb.columns).set_index("指标")
    assert targets_table.loc["满意率", "目标"] == "≥ 97.0%"
    assert targets_table.loc["满意率", "实际值"] == "66.7%"  # the headline's: 4 of 6
    assert targets_table.loc["满意率", "样本量"] == "6"
    assert any("承办单位" in tb.columns for tb in tables)  # the leader's department summary
    assert [tab.label for tab in at.tabs][:5] == ["分类别", "分来源", "环节用时", "三级联动流向", "待办清单"]
    assert not any("等待最久的环节" in w.value for w in at.warning)  # only the open tab is drawn
    at.session_state["overview_tab"] = "环节用时"  # the user opens the tab: the page runs again
    at.run()
    assert not at.exception
    assert any("等待最久的环节：办理(签收→办结)" in w.value for w in at.warning)
    at.session_state["overview_tab"] = "待办清单"
    at.run()
    assert [tab.label for tab in at.tabs][5:] == ["最久未办结", "停滞 7 天以上", "不满意（≤2 星）", "返工"]
    assert any("工单编号" in df.value.columns for df in at.dataframe)  # the open list


def test_overview_for_a_grid_head_has_no_department_summary(dept_env: Path) -> None:
    at = page_as("head", "app_pages/page_overview.py")
    tables = [df.value.data if hasattr(df.value, "data") else df.value for df in at.dataframe]
    assert not any("承办单位" in tb.columns and "综合得分" in tb.columns for tb in tables)
