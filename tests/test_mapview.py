"""A cached, pre-rendered map reaches the streamlit-folium component exactly as ``st_folium`` sends it."""

from __future__ import annotations

import itertools
import pickle
from typing import Any

import branca.element
import pytest
import streamlit_folium as sf

from gridpulse import maps, views
from gridpulse.scope import Scope
from gridpulse.ui import mapview
from tests.fixtures import AS_OF, MARCH

STREET = Scope.street()


def _map(store: Any, heat: bool) -> Any:
    perf = views.grid_performance(store, STREET, MARCH, AS_OF)
    cells = views.heat_cells(store, STREET, MARCH) if heat else None
    return maps.grid_metric_map(views.grid_shapes(store, STREET), perf, "resolution_rate", cells)[0]


def _sent(monkeypatch: pytest.MonkeyPatch, draw: Any) -> dict[str, Any]:
    """The arguments the component is called with when ``draw()`` runs (ids made repeatable)."""
    counter = itertools.count()
    monkeypatch.setattr(branca.element.Element, "_generate_id", classmethod(lambda cls: f"{next(counter):032x}"))
    sent: dict[str, Any] = {}
    monkeypatch.setattr(sf, "_component_func", lambda **kw: sent.update(kw) or {"sent": True})
    assert draw() == {"sent": True}
    sent.pop("on_change")  # a new closure on every call: not comparable
    return sent


@pytest.mark.parametrize("heat", [True, False])
@pytest.mark.parametrize("returned", [[], ["last_active_drawing"]])
def test_show_sends_what_st_folium_sends(store: Any, monkeypatch: pytest.MonkeyPatch, heat: bool, returned) -> None:
    expected = _sent(
        monkeypatch,
        lambda: sf.st_folium(
            _map(store, heat), key="k", height=520, use_container_width=True, returned_objects=returned
        ),
    )
    got = _sent(
        monkeypatch,
        lambda: mapview.show(mapview.rendered(_map(store, heat)), key="k", height=520, returned_objects=returned),
    )
    assert got == expected
    assert len(got["script"]) > 1000
    assert got["js_links"]
    assert got["css_links"]


def test_a_rendered_map_is_plain_data(store: Any) -> None:
    """It goes through ``st.cache_data`` (pickled): strings and lists only, far smaller than the map object."""
    rendered = mapview.rendered(_map(store, True))
    assert pickle.loads(pickle.dumps(rendered)) == rendered
    assert "L.map" in rendered.script
