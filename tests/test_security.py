"""Scope and privacy: for every role, no case, grid or figure from outside its scope.

Each role's pages are rendered through AppTest and everything they put on screen
(text, tables, map data, widget options) is searched for what that role must not see.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from google.protobuf import text_format
from streamlit.testing.v1 import AppTest

from gridpulse import auth, clock, exports, sessions, views
from gridpulse.filters import Filters
from gridpulse.scope import Scope
from gridpulse.store import Store
from gridpulse.ui import cache
from gridpulse.ui.session import USER_KEY
from tests import apps, fixtures
from tests.fixtures import AS_OF, MARCH, PASSWORD, code

ROOT = apps.ROOT
ALL_CASES = {f"c{i:02d}" for i in range(1, 13)}
GRID_NAMES = {n: f"第{n}网格" for n in range(1, 10)}
PAGES = {
    "leader": ["page_overview", "page_heatmap", "page_service_matrix", "page_resolution", "page_meeting"],
    "sec": ["page_overview", "page_heatmap", "page_service_matrix", "page_resolution", "page_meeting"],
    "head": ["page_overview", "page_heatmap", "page_service_matrix", "page_resolution", "page_meeting"],
    "liaison": ["page_overview", "page_heatmap", "page_resolution", "page_meeting"],
    "admin": [
        "page_overview",
        "page_heatmap",
        "page_service_matrix",
        "page_resolution",
        "page_meeting",
        "page_admin",
        "page_import",
    ],
}
# What each role may see of the fixture: grids by number, cases by id.
VISIBLE = {
    "leader": (set(range(1, 10)), ALL_CASES),
    "sec": ({1, 2, 3}, {"c01", "c02", "c03", "c04", "c05", "c12"}),
    "head": ({1, 2}, {"c01", "c02", "c03", "c04", "c05"}),
    "liaison": (set(range(1, 10)), {"c05"}),  # cases its department handled, anywhere in the street
    "admin": (set(range(1, 10)), ALL_CASES),
}
RAW_PHONES = ("13912345678", "13800001111")


def _texts(node) -> list[str]:
    out = []
    proto = getattr(node, "proto", None)
    if proto is not None:
        out.append(text_format.MessageToString(proto, as_utf8=True))
    for child in getattr(node, "children", {}).values():
        out.extend(_texts(child))
    return out


def rendered(at: AppTest) -> str:
    """Everything the run put on screen: element protos (incl. map data) and table cells."""
    parts = _texts(at._tree)
    for frame in [*at.dataframe, *at.table]:
        value = frame.value
        parts.append(value.to_csv())
        parts.append(" ".join(map(str, value.index)))
    return "\n".join(parts)


def run_as(username: str, page: str, **state: object) -> AppTest:
    at = apps.in_march(apps.app(username, state=state))
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(("username", "page"), [(u, p) for u, pages in PAGES.items() for p in pages])
def test_no_leak_on_any_page(db_env: Path, username: str, page: str) -> None:
    at = run_as(username, page)
    text = rendered(at)
    grids, cases = VISIBLE[username]
    for n, name in GRID_NAMES.items():
        if n not in grids:
            assert name not in text, f"{username} sees {name} on {page}"
        elif page == "page_resolution":  # the detector works: what is in scope is found
            assert name in text
    for cid in ALL_CASES - cases:
        assert f"{cid} 测试诉求" not in text, f"{username} sees {cid} on {page}"
        assert f"居民{cid}" not in text, f"{username} sees {cid}'s resident on {page}"
    if username != "leader":
        return
    for phone in RAW_PHONES:  # leaders see figures, not residents
        assert phone not in text


def test_drill_down_shows_only_masked_or_scoped_cases(db_env: Path) -> None:
    at = run_as("head", "page_heatmap")
    options = at.selectbox[0].options
    assert set(options) == {"（请选择网格）", "第1网格", "第2网格"}
    at.selectbox[0].select(code(1)).run()
    table = at.dataframe[0].value
    assert sorted(table["工单编号"]) == ["c01", "c02", "c03"]
    assert "13912345678" in set(table["联系电话"])  # a grid head calls residents back
    leader = run_as("leader", "page_heatmap")
    leader.selectbox[0].select(code(1)).run()
    shown = leader.dataframe[0].value
    assert set(shown["联系电话"]) == {"139****5678"}
    assert "13800001111" not in " ".join(shown["诉求内容"])
    assert all("*" in a for a in shown["地址"])


def test_grid_head_sees_own_figures_beside_the_street(db_env: Path) -> None:
    at = run_as("head", "page_overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["受理诉求"] == "5"  # c01-c05
    assert metrics["办结率：本范围 / 全街道"] == "80.0% / 80.0%"  # 4 of 5 due; street 8 of 10
    assert metrics["满意率：本范围 / 全街道"] == "66.7% / 66.7%"  # c01 5, c02 2, c04 4
    open_table = next(df.value for df in at.dataframe if {"工单编号", "超期"} <= set(df.value.columns))
    assert sorted(open_table["工单编号"]) == ["c03"]
    for df in at.dataframe:  # the action lists too: only their own grids' cases
        if "工单编号" in df.value.columns:
            assert set(df.value["工单编号"]) <= {"c01", "c02", "c03", "c04", "c05"}


def test_forged_widget_state_cannot_widen_scope(db_env: Path) -> None:
    # As if the browser sent a grid filter outside the scope, and query parameters to match.
    at = apps.app(
        "head", state={"flt_grid": [code(9)], "flt_community": ["乙社区"]}, query={"grid": code(9), "page": "admin"}
    )
    assert not at.exception
    at = apps.in_march(at)
    text = rendered(at)
    assert "第9网格" not in text
    assert "c11 测试诉求" not in text
    assert {m.label: m.value for m in at.metric}["受理诉求"] in ("0", "5")
    assert "用户与审计" not in text


@pytest.mark.parametrize("admin_page", ["page_admin", "page_import"])
@pytest.mark.parametrize("username", ["leader", "sec", "head", "liaison"])
def test_admin_page_is_refused_to_others(db_env: Path, username: str, admin_page: str) -> None:
    at = apps.app(username)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"app_pages/{admin_page}.py")
    # And the page refuses on its own if it is ever reached some other way.
    page = AppTest.from_file(str(ROOT / "app_pages" / f"{admin_page}.py"), default_timeout=60)
    page.session_state[USER_KEY] = {"username": username}
    page.run()
    assert not page.exception
    assert "审计日志" not in rendered(page)
    assert not page.dataframe


def test_data_layer_intersects_filters_with_scope(store: Store) -> None:
    head = Scope("grid_head", grids=(code(1), code(2)))
    outside = Filters(MARCH.start, MARCH.end, grids=(code(9),), communities=("乙社区",))
    assert store.case_components(head, outside, AS_OF).iloc[0]["cases"] == 0
    assert store.grids(head, outside).empty
    assert store.heat_cells(head, outside).empty
    assert store.case_list(head, MARCH, code(9)).empty
    assert store.resources(head).shape[0] == 6  # r1-r7 in grid 1 and 2 less none elsewhere
    liaison = Scope("department_liaison", department="区住建局")
    assert store.case_components(liaison, MARCH, AS_OF).iloc[0]["cases"] == 1


@pytest.mark.parametrize("bad", ["' OR 1=1 --", "x'); DROP TABLE users; --", '" OR ""="', "%", "\\"])
def test_sql_metacharacters_in_text_inputs(store: Store, bad: str) -> None:
    with pytest.raises(auth.AuthError):
        auth.authenticate(store, bad, bad)
    assert store.user("leader") is not None
    f = Filters(MARCH.start, MARCH.end, communities=(bad,), grids=(bad,), categories=(bad,), sources=(bad,))
    assert store.case_components(Scope.street(), f, AS_OF).iloc[0]["cases"] == 0


def test_exports_are_masked_scoped_and_formula_safe(store: Store) -> None:
    head = Scope("grid_head", grids=(code(1), code(2)))
    csv = views.grid_cases_csv(store, head, MARCH, code(1)).decode("utf-8-sig")
    assert "13912345678" not in csv
    assert "13800001111" not in csv
    assert "139****5678" in csv
    assert "居民c01" not in csv
    assert views.grid_cases(store, head, MARCH, code(9), mask=True).empty
    assert exports.safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert exports.safe_cell("-1+1") == "'-1+1"
    assert exports.safe_cell(-1) == -1


def _fresh(tmp_path: Path) -> Store:
    return Store(fixtures.build(tmp_path / "auth.duckdb"))


def test_wrong_passwords_slow_that_client_down_without_locking_the_owner_out(tmp_path: Path) -> None:
    s = _fresh(tmp_path)
    now = datetime(2026, 3, 31, 9, 0)
    for _ in range(auth.PAIR_FREE):
        with pytest.raises(auth.AuthError, match="用户名或密码错误"):
            auth.authenticate(s, "head", "wrong-password", now, client="10.0.0.66")
    # The guessing client now has to wait, growing with each failure, before any password check.
    assert auth.wait_seconds(s, "head", "10.0.0.66", now) == 1
    with pytest.raises(auth.AuthError, match="秒后再试"):
        auth.authenticate(s, "head", PASSWORD, now, client="10.0.0.66")
    later = now + timedelta(seconds=1)
    with pytest.raises(auth.AuthError, match="用户名或密码错误"):
        auth.authenticate(s, "head", "wrong-again", later, client="10.0.0.66")
    assert auth.wait_seconds(s, "head", "10.0.0.66", later) == 2
    # The owner, at their own desk, is not locked out by the stranger.
    assert auth.authenticate(s, "head", PASSWORD, later, client="10.0.0.5").role == "grid_head"
    actions = s.audit_log()["action"].tolist()
    assert actions.count("login_failed") == auth.PAIR_FREE + 1
    assert "login_throttled" in actions
    assert "login" in actions


def test_a_stranger_cannot_lock_the_admin_out(tmp_path: Path) -> None:
    s = _fresh(tmp_path)
    now = datetime(2026, 3, 31, 9, 0)
    for i in range(40):  # from many addresses, hour after hour of guesses
        with pytest.raises(auth.AuthError):
            auth.authenticate(s, "admin", "guess", now + timedelta(seconds=30 * i), client=f"10.0.{i}.1")
    end = now + timedelta(seconds=30 * 40)
    # The account as a whole slows only mildly (at most ACCOUNT_MAX_DELAY_S seconds).
    assert auth.wait_seconds(s, "admin", "10.0.0.5", end) <= auth.ACCOUNT_MAX_DELAY_S
    ok = end + timedelta(seconds=auth.ACCOUNT_MAX_DELAY_S)
    assert auth.authenticate(s, "admin", PASSWORD, ok, client="10.0.0.5").role == "admin"


def test_admin_unlocks_an_account(tmp_path: Path) -> None:
    s = _fresh(tmp_path)
    now = datetime(2026, 3, 31, 9, 0)
    for _ in range(auth.PAIR_FREE + 3):
        with pytest.raises(auth.AuthError):
            auth.authenticate(s, "head", "wrong", now, client="10.0.0.5")
    assert auth.wait_seconds(s, "head", "10.0.0.5", now) > 0
    admin = auth.current_user(s, "admin")
    assert admin is not None
    auth.unlock(s, admin, "head")
    assert auth.wait_seconds(s, "head", "10.0.0.5", now) == 0
    assert auth.authenticate(s, "head", PASSWORD, now, client="10.0.0.5").username == "head"
    assert "user_unlock" in s.audit_log()["action"].tolist()


def test_admin_page_unlocks(db_env: Path) -> None:
    store = cache.store()
    now = clock.now()
    for _ in range(auth.PAIR_FREE + 2):
        with pytest.raises(auth.AuthError):
            auth.authenticate(store, "liaison", "wrong", now, client="10.9.9.9")
    at = apps.app("admin")
    at.switch_page("app_pages/page_admin.py").run()
    at.selectbox(key="admin_unlock_user").set_value("liaison")
    at.button(key="FormSubmitter:unlock_user-解除限制").click().run()
    assert not at.exception
    assert auth.wait_seconds(store, "liaison", "10.9.9.9", now) == 0


def test_disabled_user_is_refused_and_logged_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = _fresh(tmp_path)
    s.set_disabled("head", True)
    with pytest.raises(auth.AuthError, match="已停用"):
        auth.authenticate(s, "head", PASSWORD)
    assert auth.current_user(s, "head") is None
    s.close()
    monkeypatch.setenv("GRIDPULSE_DB", str(tmp_path / "auth.duckdb"))
    at = apps.app("head")
    assert not at.metric  # no figures
    assert at.button(key="FormSubmitter:login-登录") is not None


def test_idle_session_expires(db_env: Path) -> None:
    at = apps.app("leader", last_seen=clock.now() - timedelta(minutes=31))
    assert not at.metric
    assert "会话已过期" in at.warning[0].value


def test_login_form_logs_in(db_env: Path) -> None:
    at = apps.app(query={"theme": "dark"})
    at.text_input(key="login_username").input("sec")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert not at.metric  # not in yet: the browser goes to the ticket route for its cookie
    script = at.get("html")[0].proto.body
    # the target is a JSON string literal in the script ("&" written \u0026): read it as the browser does
    target = json.loads(script.split("window.location.replace(")[1].rsplit(");", 1)[0])
    query = parse_qs(urlsplit(target).query)
    ticket = query["ticket"][0]
    assert query["next"] == ["/?theme=dark"]
    cookie = sessions.redeem_ticket(cache.store(), ticket)
    assert cookie
    assert sessions.redeem_ticket(cache.store(), ticket) is None  # a ticket works once
    at.session_state[USER_KEY] = {"session": cookie}
    at.run()
    assert at.metric  # the overview is shown


def test_logout_ends_the_session_everywhere(db_env: Path) -> None:
    cookie = apps.login("sec")
    first, second = AppTest.from_file(str(ROOT / "app.py")), AppTest.from_file(str(ROOT / "app.py"))
    for tab in (first, second):  # two tabs of one browser: one cookie
        tab.session_state[USER_KEY] = {"session": cookie}
        tab.run(timeout=60)
        assert tab.metric
    first.button(key="logout").click().run(timeout=60)
    assert sessions.LOGOUT_PATH in first.get("html")[0].proto.body
    second.run(timeout=60)
    assert not second.metric
    assert "登录已失效" in second.warning[0].value
    assert sessions.resolve(cache.store(), cookie).user is None  # the copied cookie is refused


@pytest.mark.parametrize("change", ["disable", "password"])
def test_disabling_or_a_new_password_ends_sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   change: str) -> None:  # fmt: skip
    monkeypatch.setenv("GRIDPULSE_DB", str(fixtures.build(tmp_path / "s.duckdb")))
    store = cache.store()
    cookie = apps.login("head")
    assert sessions.resolve(store, cookie).user is not None
    if change == "disable":
        store.set_disabled("head", True)
    else:
        store.set_password("head", auth.hash_password("a-new-password"))
    assert sessions.resolve(store, cookie).user is None


def test_session_cookie_is_signed_and_expires(store: Store) -> None:
    cookie = sessions.open_session(store, "leader", datetime(2026, 3, 31, 9, 0))
    assert sessions.resolve(store, cookie, datetime(2026, 3, 31, 9, 20)).user is not None
    assert sessions.resolve(store, "x" + cookie).reason == "invalid"
    assert sessions.resolve(store, cookie, datetime(2026, 3, 31, 9, 51)).reason == "expired"  # idle 31 minutes
    assert sessions.resolve(store, cookie, datetime(2026, 3, 31, 9, 52)).reason == "ended"


def test_safe_next_stays_on_this_server() -> None:
    assert sessions.safe_next("/meeting?theme=dark") == "/meeting?theme=dark"
    for bad in ("//evil.example/x", "http://evil.example/", "/\\evil.example", "", None, "javascript:alert(1)"):
        assert sessions.safe_next(bad) == "/"


def test_demo_users_refused_outside_the_demo_street(tmp_path: Path) -> None:
    s = _fresh(tmp_path)
    s.add_user(auth.new_user("demo_leader", "演示", "leader", "gridpulse-demo", demo=True))
    assert not s.is_demo()
    with pytest.raises(auth.AuthError):
        auth.authenticate(s, "demo_leader", "gridpulse-demo")


def test_passwords_are_hashed(store: Store) -> None:
    row = store.user("leader")
    assert row is not None
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]


def test_a_hash_of_the_old_setting_still_logs_in_and_is_made_again_with_the_new(tmp_path: Path) -> None:
    from argon2 import PasswordHasher

    s = _fresh(tmp_path)
    s.add_user(auth.new_user("old_hash", "老用户", "leader", "an-old-password"))
    s.set_password("old_hash", PasswordHasher().hash("an-old-password"))  # argon2-cffi's default: m=65536
    assert "m=65536" in s.user("old_hash")["password_hash"]
    assert auth.authenticate(s, "old_hash", "an-old-password").username == "old_hash"
    rehashed = s.user("old_hash")["password_hash"]
    assert rehashed.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in rehashed
    assert auth.authenticate(s, "old_hash", "an-old-password").username == "old_hash"
    assert s.user("old_hash")["password_hash"] == rehashed  # made again once, not at every log-in
    with pytest.raises(auth.AuthError):
        auth.authenticate(s, "old_hash", "wrong-password")


def test_a_space_after_the_name_does_not_dodge_the_throttle(tmp_path: Path) -> None:
    s = _fresh(tmp_path)
    now = datetime(2026, 3, 31, 9, 0)
    for i in range(auth.PAIR_FREE + 2):
        with pytest.raises(auth.AuthError):
            auth.authenticate(s, "head" + " " * (i % 3), "wrong-password", now + timedelta(seconds=10 * i),
                              client="10.0.0.9")  # fmt: skip
    assert auth.wait_seconds(s, "head", "10.0.0.9", now + timedelta(seconds=40)) > 0


def test_parallel_guesses_are_all_counted(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    s = _fresh(tmp_path)
    now = datetime(2026, 3, 31, 9, 0)

    def guess(i: int) -> str:
        try:
            auth.authenticate(s, "admin", f"guess-{i}", now, client="10.0.0.9")
        except auth.AuthError as err:
            return str(err)
        return "in"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(guess, range(12)))
    assert "in" not in results
    # Only the free attempts got a password check; the rest were throttled before it.
    assert sum("用户名或密码错误" in r for r in results) == auth.PAIR_FREE
    log = s.audit_log()
    assert len(log[log["username"] == "admin"]) == 12  # every guess is in the audit log


def test_unknown_and_real_names_look_alike(tmp_path: Path) -> None:
    s = _fresh(tmp_path)
    s.set_disabled("sec", True)
    now = datetime(2026, 3, 31, 9, 0)
    messages = set()
    for name in ("nobody", "sec", "head"):  # unknown, disabled, real: all with a wrong password
        with pytest.raises(auth.AuthError) as err:
            auth.authenticate(s, name, "wrong-password", now)
        messages.add(str(err.value))
    assert messages == {"用户名或密码错误。"}
    for _ in range(auth.PAIR_FREE):  # an unknown name is throttled like a real one
        with pytest.raises(auth.AuthError):
            auth.authenticate(s, "ghost", "wrong-password", now, client="10.0.0.9")
    with pytest.raises(auth.AuthError, match="秒后再试"):
        auth.authenticate(s, "ghost", "wrong-password", now, client="10.0.0.9")


@pytest.mark.parametrize(
    ("raw", "hidden"),
    [
        ("请回电 138-0000-1111", "0000"),
        ("请回电 138 1234 5678", "1234 5"),
        ("+86 138 1234 5678", "1234"),
        ("座机(010)87654321", "8765"),
        ("座机 010 87654321", "8765"),
        ("身份证 370602 19900101 123X", "19900101"),
        ("身份证370602199001011234", "19900101"),
    ],
)
def test_masking_catches_written_out_numbers(raw: str, hidden: str) -> None:
    from gridpulse import privacy

    assert hidden not in privacy.mask_text(raw)


def test_masking_chinese_house_numbers() -> None:
    from gridpulse import privacy

    assert privacy.mask_address("幸福里十二号楼三单元五零一室") == "幸福里*号楼*单元*室"
    assert privacy.mask_address("幸福里小区3号楼2单元501室") == "幸福里小区*号楼*单元*室"


def test_showing_a_grid_builds_no_export_until_asked(db_env: Path) -> None:
    from gridpulse.ui import cache

    at = run_as("admin", "page_heatmap")
    at.selectbox[0].select(code(1)).run()
    assert not at.exception
    assert at.get("download_button")  # offered, but built (and audited) only when clicked
    assert "export" not in set(cache.store().audit_log()["action"])


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("住3栋2单元501，暖气不热", "住*栋*单元*，暖气不热"),
        ("12号楼302漏水", "*号楼*漏水"),
        ("住幸福里3-2-501", "住幸福里*"),
        ("B2-1003 门口", "* 门口"),
        ("2#楼301", "*#楼*"),
        ("第3网格巡查", "第3网格巡查"),  # not a house number
    ],
)
def test_masking_house_numbers_in_free_text(raw: str, masked: str) -> None:
    from gridpulse import privacy

    assert privacy.mask_text(raw) == masked


def test_a_streamlit_session_without_the_cookie_logs_nobody_in(db_env: Path) -> None:
    """A closed tab's websocket session id is no bearer token: every run needs the browser's cookie."""
    at = apps.app("leader")
    assert at.metric
    del at.session_state[USER_KEY]  # the same Streamlit session, reached without the cookie
    at.run()
    assert not at.metric
    assert at.button(key="FormSubmitter:login-登录") is not None


def test_login_page_offers_the_identity_provider_when_configured(db_env: Path) -> None:
    import authlib  # st.login needs Authlib (requirements.txt): installed, not just documented

    assert authlib.__version__
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = {
        "redirect_uri": "https://gridpulse.example/oauth2callback",
        "cookie_secret": "a-long-random-secret",
        "client_id": "gridpulse",
        "client_secret": "s",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    }
    at.run()
    assert not at.exception
    assert [b.label for b in at.button if b.label == "使用单位统一身份认证登录"]
    plain = apps.app()  # without an [auth] section: local users only
    assert not [b.label for b in plain.button if b.label == "使用单位统一身份认证登录"]


def test_without_a_client_address_only_the_account_slows(tmp_path: Path) -> None:
    """Behind a proxy that hides addresses everyone is "unknown": a stranger must not throttle the office."""
    s = _fresh(tmp_path)
    now = datetime(2026, 3, 31, 9, 0)
    for name in ("admin", "admin", "admin", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8"):
        with pytest.raises(auth.AuthError):
            auth.authenticate(s, name, "wrong", now)
    assert auth.wait_seconds(s, "admin", auth.UNKNOWN_CLIENT, now) == 0
    assert auth.authenticate(s, "leader", PASSWORD, now).role == "leader"


def test_a_valid_log_in_does_not_wipe_the_clients_spray_count(tmp_path: Path) -> None:
    s = _fresh(tmp_path)
    now = datetime(2026, 3, 31, 9, 0)
    for i in range(auth.CLIENT_FREE):
        with pytest.raises(auth.AuthError):
            auth.authenticate(s, f"name{i}", "wrong", now, client="10.6.6.6")
    with pytest.raises(auth.AuthError, match="秒后再试"):
        auth.authenticate(s, "sec", PASSWORD, now, client="10.6.6.6")  # the sprayer is throttled, even for a real user
    assert auth.wait_seconds(s, "sec", "10.6.6.7", now) == 0  # others are not


def test_one_ticket_gives_one_session_under_a_race(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ticket = sessions.issue_ticket(store, "leader")
    with ThreadPoolExecutor(6) as pool:
        cookies = list(pool.map(lambda _: sessions.redeem_ticket(store, ticket), range(6)))
    assert sum(1 for c in cookies if c) == 1


def test_a_new_password_voids_tickets_not_yet_exchanged(tmp_path: Path) -> None:
    s = _fresh(tmp_path)
    ticket = sessions.issue_ticket(s, "head")
    s.set_password("head", auth.hash_password("another-password"))
    assert sessions.redeem_ticket(s, ticket) is None


def test_a_session_and_its_user_are_read_together(store: Store) -> None:
    """Every page run reads the session and its user in one query (``Accounts.session_user``): the same rows
    as the two reads it replaces, on each backend."""
    cookie = sessions.open_session(store, "head", datetime(2026, 3, 31, 9, 0))
    key = sessions._hash(sessions._signer(store).unsign(cookie).decode())
    found = store.session_user(key)
    assert found is not None
    session_row, user_row = found
    assert session_row == store.session(key)
    assert user_row == store.user("head")
    assert store.session_user("no-such-session") is None
