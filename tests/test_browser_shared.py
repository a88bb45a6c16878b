"""Two dashboard processes on one PostgreSQL store, as deploy/ runs them, in Chromium.

A session opened on one process is valid on the other (cookies are per host, not per port,
as behind the reverse proxy); a user added with the command line while both serve logs in on
either; a user disabled with the command line is logged out of both.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests import browserkit, fixtures, pgkit

pytestmark = pytest.mark.browser

browserkit.require_browser()

LOGGED_IN = "[data-testid=stSidebarNav]"


@pytest.fixture(scope="module")
def shared_url() -> Iterator[str]:
    url = pgkit.street(lambda u: fixtures.build(u, fixtures.departments))
    yield url
    pgkit.drop(url)


@pytest.fixture(scope="module")
def two(shared_url: str) -> Iterator[tuple[str, str]]:
    with browserkit.running_server(shared_url) as one, browserkit.running_server(shared_url) as other:
        yield one, other


def _cli(url: str, *argv: str, stdin: str = "") -> None:
    done = subprocess.run([sys.executable, "-m", "gridpulse", *argv], input=stdin, capture_output=True, text=True,
                          env={"GRIDPULSE_DB": url, "PATH": "/usr/bin:/bin"}, check=False,
                          cwd=browserkit.ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr


def _in(page) -> None:
    page.wait_for_selector(LOGGED_IN, state="attached", timeout=60_000)
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)


def test_one_session_on_two_processes_and_a_user_added_and_disabled_while_both_serve(
    shared_url: str, two: tuple[str, str], chromium
) -> None:
    one, other = two
    assert one != other
    context, outside = browserkit.new_context(chromium)
    page = context.new_page()
    browserkit.log_in(page, one, "leader")
    page.goto(other + "/")  # the other process: the same cookie, no second log-in
    _in(page)
    assert page.get_by_role("button", name="登录", exact=True).count() == 0

    _cli(shared_url, "users", "add", "zhang", "--name", "张三", "--role", "leader", "--password-stdin",
         stdin="zhang-long-password-1\n")  # fmt: skip
    second, _ = browserkit.new_context(chromium)
    zhang = second.new_page()
    browserkit.log_in(zhang, other, "zhang", password="zhang-long-password-1")
    zhang.goto(one + "/")
    browserkit.wait_logged_in(zhang)
    zhang.screenshot(path=str(browserkit.ARTIFACTS / "shared-second-process.png"), full_page=False)

    _cli(shared_url, "users", "disable", "zhang")
    for url in (one, other):
        zhang.goto(url + "/")
        browserkit.wait_login_form(zhang)
        assert zhang.locator(LOGGED_IN).count() == 0
    page.goto(one + "/")  # the leader is still logged in on both
    _in(page)
    assert outside == []
    for c in (context, second):
        c.close()


def test_a_part_of_a_page_that_reruns_alone_checks_the_log_in_first(
    shared_url: str, two: tuple[str, str], chromium
) -> None:
    _one, other = two
    _cli(shared_url, "users", "add", "qian", "--name", "钱", "--role", "leader", "--password-stdin",
         stdin="qian-long-password-1\n")  # fmt: skip
    context, outside = browserkit.new_context(chromium)
    page = context.new_page()
    browserkit.log_in(page, other, "qian", password="qian-long-password-1")
    page.goto(other + "/departments")
    page.locator("[data-testid=stSelectbox]").last.wait_for(timeout=60_000)
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)

    def pick(name: str) -> None:
        page.locator("[data-testid=stSelectbox]").last.click()
        page.get_by_role("option", name=name).click()

    pick("热力公司")  # the department drill-down reruns alone (st.fragment) and shows the other's cases
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)
    assert page.locator(LOGGED_IN).count() == 1
    _cli(shared_url, "users", "disable", "qian")  # through the command line, on the shared store
    pick("区住建局")  # that part alone again: it checks the log-in before it answers
    browserkit.wait_login_form(page)
    assert page.locator(LOGGED_IN).count() == 0
    assert outside == []
    context.close()
