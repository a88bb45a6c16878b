"""我的网格: a grid head's open cases as cards (grouped, newest first, dialable numbers only where allowed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gridpulse import views
from gridpulse.scope import Scope
from gridpulse.store import Store
from tests import apps
from tests.fixtures import AS_OF, code

HEAD = Scope("grid_head", grids=(code(1), code(2)))


def test_open_cases_are_grouped_overdue_first_and_newest_first(store: Store) -> None:
    cards = views.my_open_cases(store, HEAD, AS_OF)
    assert len(cards) > 0
    assert set(cards["grid_name"]) <= {"第1网格", "第2网格"}
    order = cards["group"].map({g: i for i, g in enumerate(views.CARD_GROUPS)})
    assert order.is_monotonic_increasing
    for _, rows in cards.groupby("group"):
        assert rows["reported_at"].is_monotonic_decreasing
    overdue = cards["group"] == "overdue"
    assert (cards.loc[overdue, "deadline_at"] < pd.Timestamp(AS_OF)).all()
    soon = cards["group"] == "due_soon"
    assert (cards.loc[soon, "deadline_at"] <= pd.Timestamp(AS_OF) + pd.Timedelta(hours=24)).all()
    street = views.open_cases(store, HEAD, views.Filters(pd.Timestamp("2020-01-01").date(), AS_OF.date()), AS_OF)
    assert sorted(cards["case_id"]) == sorted(street["case_id"])  # every open case, whenever reported


def test_only_a_role_that_may_see_numbers_can_dial_them(store: Store) -> None:
    head = views.my_open_cases(store, HEAD, AS_OF)
    dialable = head[head["phone_digits"] != ""]
    assert len(dialable) > 0
    assert dialable["phone_digits"].str.fullmatch(r"\+?\d+").all()
    leader = views.my_open_cases(store, Scope.street(), AS_OF)  # a leader sees numbers masked: nothing to dial
    assert (leader["phone_digits"] == "").all()


def test_a_grid_head_lands_on_my_grids(db_env: Path) -> None:
    at = apps.app("head")
    assert not at.exception, at.exception
    assert at.title[0].value == "我的网格"
    assert any(m.value.startswith("**超期") or m.value.startswith("**其他在办") for m in at.markdown)
    assert len(at.metric) == 8
