"""大屏 meeting mode: link options, the same figures as the dashboard, nothing personal on screen."""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from gridpulse import meeting
from gridpulse.filters import Filters
from tests import apps
from tests.test_security import RAW_PHONES, rendered

DEFAULT = Filters(date(2026, 1, 1), date(2026, 3, 31))


@pytest.mark.parametrize(
    ("params", "start", "end", "dark", "rotate", "problems"),
    [
        ({}, date(2026, 1, 1), date(2026, 3, 31), False, 0, 0),
        ({"start": "2026-03-01", "theme": "dark"}, date(2026, 3, 1), date(2026, 3, 31), True, 0, 0),
        ({"start": "yesterday"}, date(2026, 1, 1), date(2026, 3, 31), False, 0, 1),
        ({"start": "2026-04-01", "end": "2026-03-01"}, date(2026, 1, 1), date(2026, 3, 31), False, 0, 1),
        ({"rotate": "3"}, date(2026, 1, 1), date(2026, 3, 31), False, meeting.MIN_ROTATE_SECONDS, 0),
        ({"rotate": "often"}, date(2026, 1, 1), date(2026, 3, 31), False, 0, 1),
    ],
)  # fmt: skip
def test_link_options(params, start, end, dark, rotate, problems) -> None:
    opts = meeting.options_from_link(params, DEFAULT)
    assert (opts.filters.start, opts.filters.end, opts.dark, opts.rotate_seconds) == (start, end, dark, rotate)
    assert len(opts.problems) == problems


def test_rotation_cycles_every_section() -> None:
    assert meeting.section_at(123.0, 0) is None
    seen = [meeting.section_at(s * 30.0, 30) for s in range(len(meeting.SECTIONS))]
    assert seen == list(meeting.SECTIONS)


def _meeting(username: str, **params: str) -> AppTest:
    at = apps.app(username, query={"start": "2026-03-01", "end": "2026-03-31", **params})
    at.switch_page("app_pages/page_meeting.py").run()
    assert not at.exception, at.exception
    return at


def _overview_metrics(username: str) -> dict[str, str]:
    at = apps.in_march(apps.app(username))
    return {m.label: m.value for m in at.metric}


@pytest.mark.usefixtures("db_env")
@pytest.mark.parametrize("username", ["leader", "head"])
def test_meeting_figures_equal_the_dashboard(username: str) -> None:
    at = _meeting(username)
    shown = {m.label: m.value for m in at.metric}
    dashboard = _overview_metrics(username)
    assert {k: shown[k] for k in shown if "本范围" not in k} == {k: dashboard[k] for k in shown if "本范围" not in k}
    assert shown["受理诉求"] == ("10" if username == "leader" else "5")


@pytest.mark.usefixtures("db_env")
@pytest.mark.parametrize("username", ["leader", "sec", "head", "admin"])
def test_meeting_shows_no_personal_data(username: str) -> None:
    at = _meeting(username, theme="dark")
    text = rendered(at)
    for phone in RAW_PHONES:
        assert phone not in text
    assert "居民c0" not in text  # no resident names at all
    overdue = next(tb.value for tb in at.table if tb.value.index.name == "工单编号")
    assert "联系电话" not in overdue.columns
    assert "诉求人" not in overdue.columns


@pytest.mark.usefixtures("db_env")
def test_meeting_overdue_list_for_march() -> None:
    at = _meeting("leader")
    overdue = next(tb.value for tb in at.table if tb.value.index.name == "工单编号")  # a plain table on the projector
    assert sorted(overdue.index) == ["c03", "c10"]  # open past their deadline on 03-31 12:00


@pytest.mark.usefixtures("db_env")
def test_a_bad_link_says_what_to_fix() -> None:
    at = _meeting("leader", start="someday")
    assert any("someday" in w.value for w in at.warning)


def test_a_link_holds_one_section_and_names_a_wrong_one() -> None:
    default = Filters(date(2026, 3, 1), date(2026, 3, 31))
    assert meeting.options_from_link({"section": "ranking"}, default).section == "ranking"
    bad = meeting.options_from_link({"section": "<b>x</b>"}, default)
    assert bad.section is None
    assert len(bad.problems) == 1
    assert "ranking" in bad.problems[0]
