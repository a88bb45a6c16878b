"""Deployment hardening: one Beijing clock, caches keyed by what changes answers, no traceback on screen."""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridpulse import clock, meeting, views
from gridpulse.filters import Filters
from gridpulse.scope import Scope
from gridpulse.store import Store
from gridpulse.ui import cache
from tests import apps, fixtures
from tests.fixtures import MARCH


@pytest.fixture
def server_zone(monkeypatch: pytest.MonkeyPatch):
    """Set the process's zone as a server's would be set (restored afterwards)."""

    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Shanghai"])
def test_now_is_beijing_time_whatever_the_server_zone(server_zone, zone: str) -> None:
    server_zone(zone)
    beijing = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs(clock.now() - beijing) < timedelta(seconds=2)
    assert clock.now().tzinfo is None  # case times are naive Beijing time
    assert clock.this_minute().second == 0


def _live_street(tmp_path: Path) -> Path:
    """The fixture street as a real one is: no fixed as-of, figures taken "now"."""
    return fixtures.build(tmp_path / "live.duckdb", edit=lambda tables: tables["meta"].pop("as_of"))


def test_overdue_on_a_utc_server_equals_beijing(tmp_path: Path, server_zone) -> None:
    store = Store(_live_street(tmp_path))
    f = Filters(MARCH.start, clock.now().date())
    server_zone("Asia/Shanghai")
    in_beijing = views.headline(store, Scope.street(), f, store.as_of())
    server_zone("UTC")
    on_utc = views.headline(store, Scope.street(), f, store.as_of())
    assert in_beijing == on_utc


def test_as_of_without_a_fixed_moment_is_this_minute(tmp_path: Path) -> None:
    store = Store(_live_street(tmp_path))
    assert store.as_of() == clock.this_minute() or store.as_of() == clock.this_minute() - timedelta(minutes=1)


def test_cache_key_survives_writes_that_change_no_answer_and_changes_on_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridpulse.ingest import run

    path = _live_street(tmp_path)
    monkeypatch.setenv("GRIDPULSE_DB", str(path))
    key = cache.data_key()
    store = cache.store()
    store.audit(clock.now(), "leader", "login", "全街道")  # log-ins, audit lines, checkpoints
    store._exec("CHECKPOINT")
    assert cache.data_key() == key
    csv = tmp_path / "new.csv"
    csv.write_text("工单编号,受理时间,诉求类别,经度,纬度\nN1,2026-03-10 09:00:00,噪音扰民,116.4035,39.9035\n", "utf-8")
    summary = run.import_file(store, "cases", csv, username="admin")
    assert summary.record["inserted"] == 1
    assert cache.data_key() != key
    assert cache.store() is store  # the import did not close the connection under other users


def test_an_unexpected_error_shows_a_chinese_message_not_a_traceback(
    db_env: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret detail /srv/gridpulse/db.py")

    monkeypatch.setattr(views, "overview_kpis", broken)
    cache._cached.clear()  # earlier tests may have cached the real figures for this street
    with caplog.at_level(logging.ERROR, logger="gridpulse"):
        at = apps.app("leader")
    assert not at.exception
    assert "页面出现意外错误" in at.error[0].value
    assert "secret detail" not in at.error[0].value
    assert any("secret detail" in (r.exc_text or "") for r in caplog.records)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"community": "凤鸣"}, "「凤鸣」不存在或不在您的查看范围内"),
        ({"community": "乙社区"}, "「乙社区」不存在或不在您的查看范围内"),  # outside a grid head's scope
        ({"start": "2020-01-01"}, "超出数据范围"),
        ({"end": "明天"}, "不是日期"),
        ({"theme": "purple"}, "theme=purple 无效"),
        ({"rotate": "-5"}, "无效，已不轮播"),
        ({"from": "2026-03-01"}, "无法识别的参数 from"),
    ],
)
@pytest.mark.usefixtures("db_env")
def test_every_link_typo_gets_a_chinese_warning(query: dict[str, str], says: str) -> None:
    at = apps.app("head", query=query)
    at.switch_page("app_pages/page_meeting.py").run()
    assert not at.exception
    assert not at.error
    assert any(says in w.value.replace("\\", "") for w in at.warning), [w.value for w in at.warning]
    assert at.metric  # the screen is still drawn, with the defaults


def test_link_options_stay_inside_the_data() -> None:
    default = Filters(MARCH.start, MARCH.end)
    opts = meeting.options_from_link(
        {"start": "2020-01-01", "end": "2030-01-01", "community": "甲社区,外星", "rotate": "99999"},
        default,
        communities=["甲社区"],
        first=MARCH.start,
        last=MARCH.end,
    )
    assert (opts.filters.start, opts.filters.end) == (MARCH.start, MARCH.end)
    assert opts.filters.communities == ("甲社区",)
    assert opts.rotate_seconds == meeting.MAX_ROTATE_SECONDS
    assert len(opts.problems) == 3


def test_the_ci_zone_is_not_beijing() -> None:
    """CI runs the suite on a server zone that is not Beijing's (see .ci/run), where these tests matter."""
    if os.environ.get("CI") == "true":
        assert time.strftime("%z") not in ("+0800",)


def test_the_cache_benchmark_counts_real_hits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gridpulse.benchmarks import cache as bench_cache

    path = _live_street(tmp_path)
    monkeypatch.setenv("GRIDPULSE_DB", str(path))
    today = bench_cache.replay(path, users=4, minutes=2, every=10, per_second=False)
    baseline = bench_cache.replay(path, users=4, minutes=2, every=10, per_second=True)
    assert today["calls"] == baseline["calls"] > 0
    assert 0 < today["misses"] < baseline["misses"] <= baseline["calls"]


def test_cli_unlocks_a_throttled_account(tmp_path: Path) -> None:
    import subprocess
    import sys

    from gridpulse import auth

    path = fixtures.build(tmp_path / "s.duckdb")
    store = Store(path)
    now = clock.now()
    for _ in range(auth.PAIR_FREE + 2):
        with pytest.raises(auth.AuthError):
            auth.authenticate(store, "head", "wrong", now, client="10.0.0.7")
    store.close()
    done = subprocess.run([sys.executable, "-m", "gridpulse", "users", "unlock", "head", "--db", str(path)],
                          capture_output=True, text=True, cwd=apps.ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "已解除 head 的登录限制" in done.stdout
    store = Store(path)
    assert auth.wait_seconds(store, "head", "10.0.0.7", now) == 0
    assert "user_unlock" in store.audit_log()["action"].tolist()


def test_cookie_routes_refuse_other_sites_and_set_a_strict_httponly_cookie(db_env: Path) -> None:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.testclient import TestClient

    from gridpulse import sessions, web

    client = TestClient(Starlette(routes=web.routes(), middleware=[Middleware(web.SecurityHeaders)]))
    store = cache.store()
    cross = client.get(f"{sessions.TICKET_PATH}?ticket={sessions.issue_ticket(store, 'sec')}&next=/x",
                       headers={"sec-fetch-site": "cross-site"}, follow_redirects=False)  # fmt: skip
    assert sessions.COOKIE not in cross.cookies  # another site cannot log a victim in with its own ticket
    ours = client.get(f"{sessions.TICKET_PATH}?ticket={sessions.issue_ticket(store, 'sec')}&next=//evil.example/",
                      headers={"sec-fetch-site": "same-origin"}, follow_redirects=False)  # fmt: skip
    assert ours.status_code == 303
    assert ours.headers["location"] == "/"  # no open redirect
    set_cookie = ours.headers["set-cookie"]
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/", "Max-Age=43200"):
        assert attribute.lower() in set_cookie.lower()
    csp = ours.headers["content-security-policy"]
    for directive in ("connect-src 'self'", "img-src 'self' data: blob:", "frame-ancestors 'self'",
                      "form-action 'self'"):  # fmt: skip
        assert directive in csp
    assert ours.headers["x-frame-options"] == "SAMEORIGIN"


def test_tile_servers_enter_the_policy_as_valid_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    from gridpulse import web

    monkeypatch.setenv("GRIDPULSE_TILE_URL", "http://{s}.tiles.intranet/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob: http://*.tiles.intranet;" in web.content_security_policy()
    monkeypatch.setenv("GRIDPULSE_TILE_URL", "https://tile{s}.gov.example/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob: https://*.gov.example;" in web.content_security_policy()
    monkeypatch.setenv("GRIDPULSE_TILE_URL", "http://maps.{s}.example/{z}/{x}/{y}.png")  # no wildcard possible
    assert "http://maps.a.example http://maps.b.example http://maps.c.example;" in web.content_security_policy()


def test_a_link_cannot_reach_the_year_one_where_the_data_gives_no_bounds() -> None:
    default = Filters(MARCH.start, MARCH.end)
    opts = meeting.options_from_link({"start": "0001-01-01"}, default, communities=[], first=None, last=MARCH.end)
    assert opts.filters.start == meeting.EARLIEST
    assert opts.filters.previous().end.year == 1999  # the previous period exists (it overflowed before)
    assert "超出数据范围" in opts.problems[0]


def test_cache_keys_write_out_every_field_and_refuse_what_they_cannot() -> None:
    """Cached figures are keyed by arguments written out: two filters differing in one field never share a key."""
    from datetime import date

    import pandas as pd

    from gridpulse.filters import Filters

    base = Filters(date(2026, 3, 1), date(2026, 3, 31))
    one = ("G01",)
    variants = [
        base,
        Filters(base.start, date(2026, 3, 30)),
        Filters(base.start, base.end, grids=one),
        Filters(base.start, base.end, categories=one),
        Filters(base.start, base.end, sources=one),
    ]
    assert len({cache._key_part(v) for v in variants}) == len(variants)
    assert cache._key_part(Scope.street()) != cache._key_part(Scope("grid_head", grids=("G01",)))
    assert cache._key_part((None, 1, "1")) != cache._key_part(("None", "1", 1))
    with pytest.raises(TypeError):
        cache._key_part((base, pd.DataFrame({"a": [1]})))
