"""Repeated places: radius, time window, minimum count, by address without coordinates, reopened cases."""

from __future__ import annotations

import pandas as pd

from gridpulse import repeats

LON, LAT = 121.39, 37.53
M = 1 / 111_320  # about a metre of latitude in degrees


def _case(cid: str, day: int, north_m: float, category: str = "排水积水", level: int = 1, **kw: object) -> dict:
    row = {
        "case_id": cid,
        "reported_at": pd.Timestamp("2026-08-01") + pd.Timedelta(days=day),
        "resolved_at": pd.NaT,
        "category": category,
        "lon": LON,
        "lat": LAT + north_m * M,
        "address": "凤鸣街道和平苑3号楼",
        "grid_code": "G01",
        "grid_name": "和平苑网格",
        "handled_level": level,
        "reopened": False,
        "status": "resolved",
    }
    return row | kw


def test_three_cases_within_50_m_and_90_days_are_one_place() -> None:
    cases = pd.DataFrame(
        [
            _case("A", 0, 0),
            _case("B", 40, 30),  # 30 m north, 40 days later
            _case("C", 70, 10, level=1, reopened=True),
            _case("D", 75, 200),  # 200 m away: another place
            _case("E", 20, 5, category="噪声扰民"),  # same spot, another category
            _case("F", 200, 0),  # too late: more than 90 days after C
        ]
    )
    found = repeats.places(cases)
    point = found[found["kind"] == "point"]
    assert len(point) == 1
    place = point.iloc[0]
    assert sorted(place["case_ids"]) == ["A", "B", "C"]
    assert place["cases"] == 3
    assert (place["first"], place["last"]) == (pd.Timestamp("2026-08-01"), pd.Timestamp("2026-10-10"))
    assert place["level1"] == 3
    assert place["level3"] == 0
    assert place["reopened"] == 1
    assert place["suggest_department"]  # handled by the grid three times: send it up
    assert (found["kind"] == "reopened").sum() == 0  # C is in the place already


def test_a_department_already_on_it_is_not_suggested_and_rules_are_configurable() -> None:
    cases = pd.DataFrame([_case("A", 0, 0), _case("B", 10, 20, level=3), _case("C", 20, 40)])
    assert not repeats.places(cases).iloc[0]["suggest_department"]
    assert repeats.places(cases, repeats.Rule(radius_m=15)).empty  # 20 m apart: not within 15 m
    assert repeats.places(cases, repeats.Rule(min_cases=4)).empty


def test_cases_without_coordinates_group_by_address_and_reopened_cases_stand_alone() -> None:
    cases = pd.DataFrame(
        [
            _case("A", 0, 0, lon=None, lat=None, address="凤鸣街道芝罘里5号楼"),
            _case("B", 30, 0, lon=None, lat=None, address="凤鸣街道芝罘里5号楼 "),
            _case("C", 60, 0, lon=None, lat=None, address="凤鸣街道芝罘里5号楼"),
            _case("D", 60, 0, lon=None, lat=None, address="凤鸣街道芝罘里6号楼"),
            _case("R", 5, 900, reopened=True),
        ]
    )
    found = repeats.places(cases)
    by_address = found[found["kind"] == "address"].iloc[0]
    assert sorted(by_address["case_ids"]) == ["A", "B", "C"]
    assert pd.isna(by_address["lon"])
    assert found[found["kind"] == "reopened"]["case_ids"].tolist() == [["R"]]


def test_open_cases_count_in_a_place_at_no_level() -> None:
    cases = pd.DataFrame([_case("A", 0, 0), _case("B", 10, 5, level=None), _case("C", 20, 10, level=3)])
    cases["handled_level"] = cases["handled_level"].astype("Int64")  # as the store gives it: open cases are NA
    place = repeats.places(cases).iloc[0]
    assert place["cases"] == 3
    assert (place["level1"], place["level2"], place["level3"]) == (1, 0, 1)


def test_no_cases_no_places() -> None:
    assert repeats.places(pd.DataFrame(columns=list(_case("A", 0, 0)))).empty
