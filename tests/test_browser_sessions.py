"""A log-in that survives a reload, a second tab and a phone waking up, and ends everywhere when it should.

Each test drives Debian's Chromium against ``streamlit run server.py``; no request may leave
for another origin.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridpulse import sessions
from tests import browserkit, fixtures

pytestmark = pytest.mark.browser

browserkit.require_browser()

LOGGED_IN = "[data-testid=stSidebarNav]"


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixtures.build(tmp_path_factory.mktemp("sessions") / "street.duckdb")


@pytest.fixture(scope="module")
def server(street: Path) -> Iterator[str]:
    # A closed or sleeping tab's Streamlit session is dropped after 2 s instead of 60 s, so a
    # phone "locked for three minutes" comes back to a server that has forgotten its session.
    with browserkit.running_server(street, "--server.disconnectedSessionTTL", "2") as url:
        yield url


@pytest.fixture(scope="module")
def browser(chromium: object) -> object:
    return chromium


def _in(page) -> None:
    page.wait_for_selector(LOGGED_IN, state="attached", timeout=60_000)
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)
    assert page.get_by_role("button", name="登录", exact=True).count() == 0


def _out(page, notice: str | None = None) -> None:
    browserkit.wait_login_form(page)
    assert page.locator(LOGGED_IN).count() == 0
    if notice:
        page.get_by_text(notice).wait_for(timeout=30_000)


def test_a_grid_head_on_a_phone_stays_logged_in(server: str, browser) -> None:
    context, outside = browserkit.new_context(browser, **browserkit.PHONE)
    page = context.new_page()
    browserkit.log_in(page, server, "head", "/meeting?theme=dark")  # a deep link survives the log-in
    assert page.url.endswith("/meeting?theme=dark")
    (cookie,) = [c for c in context.cookies() if c["name"] == sessions.COOKIE]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert sessions.COOKIE not in page.evaluate("document.cookie")  # page scripts cannot read it

    page.reload()
    browserkit.wait_logged_in(page)

    second = context.new_page()  # a second tab
    second.goto(server + "/resolution")
    _in(second)
    second.close()

    # The phone locks: no connection for longer than the server keeps a disconnected session.
    context.set_offline(True)
    time.sleep(6)
    context.set_offline(False)
    page.wait_for_selector("[data-testid=stMetric]", timeout=60_000)
    page.reload()
    browserkit.wait_logged_in(page)
    browserkit.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(browserkit.ARTIFACTS / "phone-after-wake.png"))
    assert outside == []
    context.close()


def test_log_out_ends_every_tab_and_the_copied_cookie(server: str, browser) -> None:
    context, outside = browserkit.new_context(browser)
    first = context.new_page()
    browserkit.log_in(first, server, "leader")
    copied = context.cookies()
    second = context.new_page()
    second.goto(server + "/heatmap")
    _in(second)

    first.get_by_role("button", name="退出登录").click()
    _out(first)
    assert not [c for c in context.cookies() if c["name"] == sessions.COOKIE]  # the browser forgot it

    second.get_by_role("link", name="网格办结率").click()  # the other tab's next click
    _out(second)

    thief, _ = browserkit.new_context(browser)
    thief.add_cookies(copied)  # a copy of the cookie made before the log-out
    stolen = thief.new_page()
    stolen.goto(server)
    _out(stolen, "登录已失效")
    assert outside == []
    for c in (context, thief):
        c.close()


def test_disabling_a_user_ends_their_session(server: str, browser) -> None:
    user_context, _ = browserkit.new_context(browser)
    user = user_context.new_page()
    browserkit.log_in(user, server, "liaison")

    admin_context, _ = browserkit.new_context(browser)
    admin = admin_context.new_page()
    browserkit.log_in(admin, server, "admin")
    admin.get_by_role("link", name="用户与审计").click()
    admin.get_by_text("停用/启用用户").wait_for(timeout=60_000)
    admin.locator("[data-testid=stSelectbox]").first.click()
    admin.get_by_role("option", name="liaison").click()
    admin.get_by_role("button", name="切换状态").click()
    admin.get_by_text("已将 liaison 设为停用").wait_for(timeout=60_000)

    user.get_by_role("link", name="诉求热力图").click()
    _out(user, "登录已失效")
    for c in (user_context, admin_context):
        c.close()


def test_an_idle_session_expires(street: Path, browser, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "idle.duckdb"
    shutil.copy(street, copy)
    with browserkit.running_server(copy, env={"GRIDPULSE_SESSION_IDLE_MINUTES": "0.1"}) as url:  # 6 s
        context, _ = browserkit.new_context(browser)
        page = context.new_page()
        browserkit.log_in(page, url, "sec")
        time.sleep(8)
        page.get_by_role("link", name="诉求热力图").click()
        _out(page, "会话已过期")
        page.reload()  # the dead cookie was dropped on the way: a reload asks for a log-in, no error
        _out(page)
        assert not [c for c in context.cookies() if c["name"] == sessions.COOKIE]
        context.close()
