"""考核: fair ranking, targets, departments' scorecards, stage timings and action lists, worked by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gridpulse import fairness, scorecard, targets
from gridpulse.scope import Scope
from gridpulse.store import Store
from tests.fixtures import AS_OF, MARCH, code

STREET = Scope.street()
HEAD = Scope("grid_head", grids=(code(1), code(2)))
LIAISON = Scope("department_liaison", department="区住建局")


# ---- fairness ----------------------------------------------------------------


def test_shrinkage_puts_a_big_sample_above_a_small_perfect_one() -> None:
    # Prior Beta(9, 1) (a street at 90 %, worth 10 cases): 3 of 3 → 12/13, 297 of 300 → 306/310.
    out = fairness.shrink(np.array([3, 297]), np.array([3, 300]), fairness.BetaPrior(9.0, 1.0))
    assert out["shrunk"].tolist() == pytest.approx([12 / 13, 306 / 310])
    assert out.loc[1, "shrunk"] > out.loc[0, "shrunk"]
    assert out.loc[0, "low"] == pytest.approx(stats.beta.ppf(0.025, 12, 1))
    assert out.loc[0, "high"] - out.loc[0, "low"] > out.loc[1, "high"] - out.loc[1, "low"]


def test_units_differing_by_chance_shrink_to_the_pooled_rate() -> None:
    rng = np.random.default_rng(1)
    n = rng.integers(20, 200, 60)
    k = rng.binomial(n, 0.95)  # all units share one true rate
    prior = fairness.fit_prior(k, n)
    assert prior is not None
    assert prior.mean == pytest.approx(k.sum() / n.sum(), abs=0.01)
    assert prior.weight > 500  # no real spread: a heavy prior
    shrunk = fairness.shrink(k, n, prior)["shrunk"]
    assert shrunk.max() - shrunk.min() < 0.02


def test_units_that_really_differ_keep_their_differences() -> None:
    n = np.full(40, 400)
    k = np.concatenate([np.full(20, 392), np.full(20, 300)])  # 98 % and 75 %
    prior = fairness.fit_prior(k, n)
    shrunk = fairness.shrink(k, n, prior)["shrunk"]
    assert shrunk[0] == pytest.approx(0.98, abs=0.01)
    assert shrunk[39] == pytest.approx(0.75, abs=0.01)


def test_prior_needs_two_units_with_cases() -> None:
    assert fairness.fit_prior(np.array([3, 0]), np.array([4, 0])) is None
    raw = fairness.shrink(np.array([3, 0]), np.array([4, 0]), None)
    assert raw.loc[0, "shrunk"] == 0.75
    assert np.isnan(raw.loc[1, "shrunk"])


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [
        (3, 3, fairness.WITHIN),  # 3 of 3 at a 90 % street: chance (P = 0.729)
        (80, 100, fairness.WORSE),  # P(X <= 80 | 100, 0.9) = 0.0020: beyond 95 %, within 99.8 %
        (75, 100, fairness.WORSE_ALARM),  # P = 0.00000 (< 0.001)
        (97, 100, fairness.BETTER),  # P(X >= 97) = 0.0078
        (100, 100, fairness.BETTER_ALARM),  # 0.9 ** 100
        (0, 0, None),
    ],
)
def test_funnel_classes(k: int, n: int, expected: int | None) -> None:
    assert fairness.funnel_class(k, n, 0.9) == expected


def test_funnel_limits_narrow_with_sample_size() -> None:
    curve = fairness.funnel_curve(0.9, 1000)
    assert curve["trials"].is_monotonic_increasing
    small, big = curve.iloc[5], curve.iloc[-1]
    assert small["warn_low"] < big["warn_low"] <= 0.9 <= big["warn_high"]
    assert (curve["alarm_low"] <= curve["warn_low"]).all()


def test_below_target_is_an_exact_one_sided_test() -> None:
    assert fairness.below_target(90, 100, 0.97)  # P(X <= 90 | 100, 0.97) = 0.0032
    assert not fairness.below_target(96, 100, 0.97)  # P = 0.35: could be chance
    assert fairness.above_target(10, 100, 0.03)  # rework: 10 % against 3 %
    assert not fairness.below_target(0, 0, 0.97)


# ---- targets -------------------------------------------------------------------


def test_target_status_and_cityscore_ratio() -> None:
    cfg = targets.DEFAULTS
    assert targets.status("satisfaction", 0.98, cfg, (98, 100)) == "green"
    assert targets.status("satisfaction", 0.96, cfg, (96, 100)) == "amber"  # a miss chance could explain
    assert targets.status("satisfaction", 0.90, cfg, (90, 100)) == "red"
    assert targets.status("rework_rate", 0.10, cfg, (10, 100)) == "red"
    assert targets.status("median_hours", 50.0, cfg) == "amber"  # 48 / 50 = 0.96 ≥ 0.9
    assert targets.status("median_hours", 60.0, cfg) == "red"  # 0.8
    assert targets.status("satisfaction", None, cfg) is None
    assert targets.ratio("satisfaction", 0.873, cfg) == pytest.approx(0.9)
    assert targets.ratio("rework_rate", 0.06, cfg) == pytest.approx(0.5)  # target over value
    assert targets.ratio("rework_rate", 0.0, cfg) == targets.RATIO_CAP


def test_targets_file_round_trip_and_partial() -> None:
    cfg = targets.from_json(json.dumps({"targets": {"satisfaction": 0.985}, "accept_hours": 4, "list_size": 3}))
    assert cfg.targets["satisfaction"] == 0.985
    assert cfg.targets["on_time_rate"] == 0.90  # left out: default
    assert cfg.accept_hours == 4.0
    assert cfg.list_size == 3
    assert targets.from_json(cfg.to_json()) == cfg


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{", "不是有效的 JSON"),
        ("[1, 2]", "应为 JSON 对象"),
        ('{"colour": 1}', "无法识别的项：colour"),
        ('{"targets": {"speed": 0.9}}', "无法识别的指标：speed"),
        ('{"targets": {"satisfaction": 97}}', "0.97"),
        ('{"weights": {"cases": 1}}', "不能计分的指标：cases"),
        ('{"weights": {"satisfaction": 0}}', "至少要有一项权重"),
        ('{"list_size": 2.5}', "红黑榜各列单位数"),
        ('{"stale_days": true}', "停滞天数"),
        ('{"targets": {"on_time_rate": 0}}', "0.01"),  # a ratio divides by it
    ],
)
def test_bad_targets_file_says_what_to_fix(text: str, words: str) -> None:
    with pytest.raises(targets.SettingsError, match=words):
        targets.from_json(text)


def test_saved_targets_change_the_figures(tmp_path) -> None:
    from tests import fixtures

    s = Store(fixtures.build(tmp_path / "t.duckdb", fixtures.departments))
    before = s.data_version()
    s.save_targets_json(targets.from_json('{"accept_hours": 8}').to_json())
    assert s.data_version() != before  # cached figures are keyed by it
    card = scorecard.department_scorecard(s, STREET, MARCH, AS_OF).set_index("key")
    assert card.loc["热力公司", "accepted_in_time"] == 2  # 6 h is in time under an 8-hour limit
    s.save_targets_json(None)
    assert scorecard.settings(s) == targets.DEFAULTS
    s.close()


# ---- departments ---------------------------------------------------------------


def test_department_scorecard_for_march(dept_store: Store) -> None:
    card = scorecard.department_scorecard(dept_store, STREET, MARCH, AS_OF).set_index("key")
    assert sorted(card.index) == ["区住建局", "热力公司"]
    zj, rl = card.loc["区住建局"], card.loc["热力公司"]
    # 区住建局: c05 accepted 1 h after dispatch, c06 never (its 2-hour limit passed on 3-25).
    assert (zj["dispatched"], zj["accept_due"], zj["accepted_in_time"]) == (2, 2, 1)
    assert zj["accept_in_time_rate"] == 0.5
    assert (zj["resolved"], zj["on_time"], zj["backlog"], zj["overdue"]) == (1, 1, 1, 0)
    assert zj["median_hours"] == 24.0
    assert zj["median_days"] == 1.0
    assert pd.isna(zj["satisfaction"])
    # 热力公司: c02 accepted after 6 h, resolved a day late (96 h), 2 stars, reopened; c11 on time (24 h), 3 stars.
    assert (rl["accepted_in_time"], rl["on_time"], rl["rated"], rl["satisfied"]) == (1, 1, 2, 0)
    assert rl["dissatisfied"] == 1
    assert rl["rework_rate"] == 0.5
    assert rl["median_hours"] == 60.0
    assert rl["p90_hours"] == pytest.approx(24 + 0.9 * 72)
    assert rl["satisfaction_status"] == "red"  # 0 of 2 against 97 %: P = 0.03 ** 0 ... 0.0009
    assert rl["accept_in_time_rate_ratio"] == pytest.approx(0.5 / 0.95)
    assert scorecard.worst_miss(rl) == "satisfaction"


def test_department_trend_against_previous_period(dept_store: Store) -> None:
    card = scorecard.department_scorecard(dept_store, STREET, MARCH, AS_OF).set_index("key")
    assert pd.isna(card.loc["区住建局", "on_time_rate_change"])  # nothing in February


def test_liaison_sees_every_department_as_figures_but_only_their_own_cases(dept_store: Store) -> None:
    card = scorecard.department_scorecard(dept_store, LIAISON, MARCH, AS_OF)
    assert sorted(card["key"]) == ["区住建局", "热力公司"]
    other = scorecard.action_list(dept_store, LIAISON, MARCH, AS_OF, "dissatisfied", department="热力公司")
    assert other.empty
    mine = scorecard.action_list(dept_store, LIAISON, MARCH, AS_OF, "oldest_open", department="区住建局")
    assert mine["case_id"].tolist() == ["c06"]
    assert mine.loc[0, "reporter_name"] == "居民c06"  # a liaison handles the case: not masked


def test_action_lists(dept_store: Store) -> None:
    def ids(kind: str, **kw: object) -> list[str]:
        return scorecard.action_list(dept_store, STREET, MARCH, AS_OF, kind, **kw)["case_id"].tolist()

    # Open at 3-31 12:00: c03 (3-3), c10 (3-16), c06 (3-25); oldest first.
    assert ids("oldest_open") == ["c03", "c10", "c06"]
    # No step for 7 days by then: c03 (reported 3-3) and c10 (3-16); c06 was dispatched 3-25.
    assert ids("stale") == ["c03", "c10"]
    assert ids("dissatisfied") == ["c02"]  # c11's 3 stars are not ≤ 2
    assert ids("reopened") == ["c02"]
    assert ids("dissatisfied", department="区住建局") == []
    leader = scorecard.action_list(dept_store, STREET, MARCH, AS_OF, "oldest_open")
    assert "13912345678" not in leader.to_string()  # a leader sees masked lists
    waiting = scorecard.action_list(dept_store, STREET, MARCH, AS_OF, "stale").set_index("case_id")
    assert waiting.loc["c03", "days_waiting"] == 28


# ---- stage timings and flows -----------------------------------------------------


def test_stage_timings_for_march(dept_store: Store) -> None:
    st = scorecard.stage_timings(dept_store, STREET, MARCH).set_index("step")
    # Dispatch: c02 3 h, c05 1 h, c06 0.5 h, c11 1 h → median 1.0, p90 1 + 0.7 × 2 = 2.4.
    assert st.loc["dispatch", "cases"] == 4
    assert st.loc["dispatch", "median"] == pytest.approx(1.0)
    assert st.loc["dispatch", "p90"] == pytest.approx(2.4)
    # Acceptance: c05 1 h, c11 1.5 h, c02 6 h → median 1.5, p90 1.5 + 0.8 × 4.5 = 5.1.
    assert st.loc["accept", "median"] == pytest.approx(1.5)
    assert st.loc["accept", "p90"] == pytest.approx(5.1)
    assert st.loc["escalate3", "cases"] == 4
    assert scorecard.slowest_step(scorecard.stage_timings(dept_store, STREET, MARCH)) == "resolve"
    by_dept = scorecard.stage_timings(dept_store, STREET, MARCH, by="department")
    assert set(by_dept["key"]) == {"区住建局", "热力公司"}


def test_level_flow_per_community(dept_store: Store) -> None:
    flow = scorecard.level_flow(dept_store, STREET, MARCH, AS_OF)
    rows = {(r.community, r.level, r.department): r.cases for r in flow.itertuples()}
    # 甲社区 resolved in March: c01, c04, c12 by grids; c02 (热力公司) and c05 (区住建局) by departments.
    assert rows[("甲社区", 1, None)] == 3
    assert rows[("甲社区", 3, "热力公司")] == 1
    assert rows[("甲社区", 3, "区住建局")] == 1
    assert rows[("乙社区", 3, "热力公司")] == 1  # c11
    assert rows[("乙社区", 1, None)] == 1  # c07


def test_rates_by_source(store: Store) -> None:
    by = scorecard.rates_by(store, STREET, MARCH, AS_OF, "source").set_index("key")
    assert by.loc["网格巡查", "cases"] == 1  # c12
    assert by.loc["12345热线", "cases"] == 9
    assert by.loc["网格巡查", "on_spot_share"] == 1.0  # c12: resolved 1 h after reporting, by the grid


# ---- ranking ---------------------------------------------------------------------


def test_grid_head_sees_their_grids_street_rank(store: Store) -> None:
    street = scorecard.ranking(store, STREET, MARCH, AS_OF, "grid").set_index("key")
    mine = scorecard.ranking(store, HEAD, MARCH, AS_OF, "grid").set_index("key")
    assert set(mine.index) == {code(1), code(2)}
    assert mine["rank"].tolist() == street.loc[mine.index, "rank"].tolist()
    assert mine["units"].iloc[0] == 5  # ranked among the street's five grids with cases, not two


def test_grids_without_cases_are_not_ranked(store: Store) -> None:
    street = scorecard.ranking(store, STREET, MARCH, AS_OF, "grid").set_index("key")
    assert pd.isna(street.loc[code(4), "rank"])
    assert street["rank"].dropna().tolist() == sorted(street["rank"].dropna().tolist())


def test_red_and_black_lists_only_name_real_differences() -> None:
    n = np.array([100] * 6)
    rank = pd.DataFrame({"key": list("abcdef"), "name": list("abcdef"), "cases": n})
    cols = {m: targets.RATE_TARGETS[m][:2] for m in targets.SCORED}
    for m, (num, den) in cols.items():
        rank[den] = n
        rank[num] = [95, 95, 95, 95, 95, 70] if targets.higher_is_better(m) else [2, 2, 2, 2, 2, 2]
        rank[f"{m}_funnel"] = pd.array([0, 0, 0, 0, 0, -2], "Int8")
    rank["score"] = [90.0, 89.0, 88.0, 87.0, 86.0, 60.0]
    rank["rank"] = pd.array([1, 2, 3, 4, 5, 6], "Int64")
    rank["units"] = 6
    cfg = targets.Settings(list_size=2)
    red, black = scorecard.red_black(rank, cfg)
    assert red["key"].tolist() == ["a", "b"]
    assert black["key"].tolist() == ["f"]  # only one unit is out of line: a black list of one
    assert "按期办结率 70.0%（100 件" in black.loc[0, "reasons"]
    small = rank.assign(cases=[100, 100, 100, 100, 100, 5])
    assert scorecard.red_black(small, cfg)[1].empty  # too few cases to be listed


def test_admin_table_round_trip_and_audit(tmp_path) -> None:
    from gridpulse import admin_views
    from tests import fixtures

    s = Store(fixtures.build(tmp_path / "a.duckdb"))
    frame = admin_views.targets_frame(targets.DEFAULTS)
    frame.loc[frame["metric"] == "satisfaction", "目标"] = 0.985
    frame.loc[frame["metric"] == "rework_rate", "综合得分权重"] = 0.0
    numbers = {"accept_hours": 4.0, "stale_days": 10, "list_size": 3, "min_cases": 5}
    text = admin_views.targets_from_frame(frame, numbers)
    cfg = admin_views.save_targets(s, "admin", text)
    assert scorecard.settings(s) == cfg
    assert cfg.targets["satisfaction"] == 0.985
    assert "rework_rate" not in cfg.weights
    assert (cfg.accept_hours, cfg.stale_days, cfg.list_size, cfg.min_cases) == (4.0, 10, 3, 5)
    with pytest.raises(targets.SettingsError):
        admin_views.save_targets(s, "admin", '{"targets": {"satisfaction": 2}}')
    assert scorecard.settings(s) == cfg  # a refused file changes nothing
    assert "targets" in s.audit_log()["action"].tolist()
    s.close()


def test_cli_targets(tmp_path, capsys) -> None:
    from gridpulse.__main__ import main
    from tests import fixtures

    db = fixtures.build(tmp_path / "c.duckdb")
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text('{"targets": {"on_time_rate": 0.85}}', encoding="utf-8")
    bad.write_text('{"weights": {"cases": 1}}', encoding="utf-8")
    assert main(["targets", "set", str(bad), "--db", str(db)]) == 2
    assert "不能计分的指标：cases" in capsys.readouterr().err
    assert main(["targets", "set", str(good), "--db", str(db)]) == 0
    assert main(["targets", "show", "--db", str(db)]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["targets"]["on_time_rate"] == 0.85
    assert main(["targets", "reset", "--db", str(db)]) == 0


# ---- reports carry it ------------------------------------------------------------


def test_workbook_and_slides_carry_departments_and_lists(dept_store: Store) -> None:
    import io

    from openpyxl import load_workbook
    from pptx import Presentation

    from gridpulse import reports

    req = reports.ReportRequest(STREET, MARCH, AS_OF, "测试街道")
    wb = load_workbook(io.BytesIO(reports.render(dept_store, req, "xlsx")))
    sheet = wb["部门考核"]
    head = [c.value for c in sheet[1]]
    assert head[:2] == ["承办单位", "派单件数"]
    rows = {r[0]: dict(zip(head, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    card = scorecard.department_scorecard(dept_store, STREET, MARCH, AS_OF).set_index("key")
    assert rows["区住建局"]["按期办结率"] == card.loc["区住建局", "on_time_rate"] == 1.0
    assert rows["热力公司"]["按期办结率"] == 0.5
    assert rows["热力公司"]["满意率状态"] == "未达标"
    assert "红黑榜" in wb.sheetnames
    stages = {r[0]: r for r in wb["环节用时"].iter_rows(min_row=2, values_only=True)}
    heads = [c.value for c in wb["环节用时"][1]]
    assert stages["全部"][heads.index("签收(派单→签收) 中位数(小时)")] == 1.5  # as on the page
    assert set(stages) == {"全部", "区住建局", "热力公司"}
    deck = Presentation(io.BytesIO(reports.render(dept_store, req, "pptx")))
    texts = [
        cell.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_table
        for row in shape.table.rows
        for cell in row.cells
    ]
    titles = [shape.text_frame.text for s in deck.slides for shape in s.shapes if shape.has_text_frame]
    assert "部门考核" in titles
    assert "× 0.0%（0.00×）" in texts  # 热力公司's satisfaction, as on the page


def test_grid_heads_report_has_no_department_sheet(dept_store: Store) -> None:
    import io

    from openpyxl import load_workbook

    from gridpulse import reports

    req = reports.ReportRequest(HEAD, MARCH, AS_OF, "测试街道")
    wb = load_workbook(io.BytesIO(reports.render(dept_store, req, "xlsx")))
    assert "部门考核" not in wb.sheetnames


def test_on_spot(store: Store) -> None:
    # March, level 1 resolved: c01 (1 day), c04 (12 h), c07 (Mar 1, reported Feb 20), c09 (1 day), c12 (1 h).
    assert scorecard.on_spot(store, STREET, MARCH, AS_OF) == (1, 5)


def test_worst_department_is_the_worst_red_cell_of_any_department() -> None:
    card = pd.DataFrame(
        {
            "key": ["甲", "乙"],
            "score": [50.0, 80.0],
            **{f"{m}_status": ["amber", "amber"] for m in scorecard.SCORECARD_RATES},
            **{f"{m}_ratio": [0.99, 0.99] for m in scorecard.SCORECARD_RATES},
        }
    )
    assert scorecard.worst_department(card) is None  # nobody red: the lowest score is not a miss
    card.loc[1, "satisfaction_status"], card.loc[1, "satisfaction_ratio"] = "red", 0.8
    row, metric = scorecard.worst_department(card)
    assert (row["key"], metric) == ("乙", "satisfaction")  # the only red one, though not the lowest score
    card.loc[0, "rework_rate_status"], card.loc[0, "rework_rate_ratio"] = "red", 0.9
    row, metric = scorecard.worst_department(card)
    assert (row["key"], metric) == ("甲", "rework_rate")  # of the red ones, the lowest score


def test_lists_are_chosen_street_wide_then_scoped(store: Store) -> None:
    cfg = targets.Settings(min_cases=1)
    street = scorecard.ranking(store, STREET, MARCH, AS_OF, "grid")
    red_all, black_all = scorecard.red_black(street, cfg)
    red, black = scorecard.lists(store, HEAD, MARCH, AS_OF, "grid")
    assert set(red["key"]) <= set(red_all["key"]) & {code(1), code(2)}
    assert set(black["key"]) <= set(black_all["key"]) & {code(1), code(2)}
    assert scorecard.units_for(HEAD) == ("grid", "community")  # grid heads do not rank departments


def test_stale_in_a_past_period_ignores_later_steps(dept_store: Store) -> None:
    from datetime import date

    from gridpulse.filters import Filters

    # Up to 3-24: c06 (reported 3-25) does not exist yet; c03 waits since 3-3, c10 since 3-16 (8 days).
    early = Filters(date(2026, 3, 1), date(2026, 3, 24))
    rows = scorecard.action_list(dept_store, STREET, early, AS_OF, "stale").set_index("case_id")
    assert list(rows.index) == ["c03", "c10"]
    assert (rows["days_waiting"] >= 0).all()
