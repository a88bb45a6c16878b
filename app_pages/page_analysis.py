"""研判预警: this week's alerts, tested hot spots, emerging hot spots and repeated places."""

import streamlit as st

from gridpulse import analysis_maps, analysis_views, repeats, views
from gridpulse.strings import t
from gridpulse.ui import analysis_widgets, cache, filters, mapview, widgets

f = filters.current()
st.title(t("ana_title"))
widgets.scope_line(f)
st.caption(t("ana_intro"))
# One section at a time (not st.tabs): only the chosen section's statistics run, and its map is
# drawn at its real size (Leaflet in a hidden tab cannot fit the street's bounds).
SECTIONS = ("alerts", "hotspots", "emerging", "repeats")
section = (
    st.segmented_control(
        t("ana_section"), SECTIONS, format_func=lambda s: t(f"ana_tab_{s}"), default="alerts", key="ana_section"
    )
    or "alerts"
)

if section == "alerts":
    analysis_widgets.alert_section()

elif section == "hotspots":
    unit = (
        st.segmented_control(
            t("hot_unit"), ("grid", "cell"), format_func=lambda u: t(f"hot_unit_{u}"), default="grid", key="hot_unit"
        )
        or "grid"
    )
    st.caption(t("hot_caption", what=t(f"hot_what_{unit}")))
    if unit == "grid":
        result = cache.view(analysis_views.grid_hotspots, f)
        build = lambda: analysis_maps.grid_hotspot_map(cache.view(views.grid_shapes, f), result)  # noqa: E731
    else:
        result = cache.view(analysis_views.cell_hotspots, f)
        build = lambda: analysis_maps.cell_hotspot_map(cache.view(views.grid_shapes, f), result)  # noqa: E731
    rendered, legend = mapview.cached(("hotspots", f, unit), build)
    mapview.show(rendered, key="hot_map", height=520, returned_objects=[])
    st.html(legend)
    st.subheader(t("hot_table_title"))
    significant = result[result["confidence"] != 0]
    if significant.empty:
        st.info(t("hot_none"))
    else:
        st.dataframe(analysis_views.hotspot_table(significant, unit), hide_index=True, width="stretch")

elif section == "emerging":
    found = cache.view(analysis_views.emerging_hotspots, f)
    if len(found):
        first, last = found["first_month"].iloc[0], found["last_month"].iloc[0]
        st.caption(
            t("emerging_caption", first=f"{first:%Y年%m月}", last=f"{last:%Y年%m月}", n=analysis_views.EMERGING_MONTHS)
        )
    st.caption(t("pattern_help"))
    rendered, legend = mapview.cached(
        ("emerging", f), lambda: analysis_maps.emerging_map(cache.view(views.grid_shapes, f), found)
    )
    mapview.show(rendered, key="emerging_map", height=520, returned_objects=[])
    st.html(legend)
    patterned = found[found["pattern"] != "none"]
    if patterned.empty:
        st.info(t("emerging_none"))
    else:
        st.dataframe(analysis_views.emerging_table(patterned), hide_index=True, width="stretch")
    if len(f.categories) != 1:  # all categories together: test each on its own too
        st.subheader(t("emerging_by_category_title"))
        st.caption(t("emerging_by_category_caption"))
        each = cache.view(analysis_views.emerging_by_category, f)
        if each.empty:
            st.info(t("emerging_by_category_none"))
        else:
            st.dataframe(analysis_views.emerging_by_category_table(each), hide_index=True, width="stretch")

else:
    left, mid, right = st.columns(3)
    radius = left.number_input(t("repeats_radius"), 10, 500, int(repeats.Rule.radius_m), 10, key="rep_radius")
    days = mid.number_input(t("repeats_days"), 7, 365, int(repeats.Rule.days), 1, key="rep_days")
    least = right.number_input(t("repeats_min"), 2, 20, repeats.Rule.min_cases, 1, key="rep_min")
    rule = repeats.Rule(float(radius), float(days), int(least))
    st.caption(t("repeats_caption", radius=rule.radius_m, days=rule.days, min_cases=rule.min_cases))
    places = cache.view(analysis_views.repeat_places, f, rule)
    rendered, legend = mapview.cached(
        ("repeats", f, rule.radius_m, rule.days, rule.min_cases),
        lambda: analysis_maps.repeats_map(cache.view(views.grid_shapes, f), places),
    )
    mapview.show(rendered, key="repeats_map", height=520, returned_objects=[])
    st.html(legend)
    if places.empty:
        st.info(t("repeats_none"))
    else:
        st.text(analysis_views.repeats_summary(places))
        st.dataframe(analysis_views.repeats_table(places), hide_index=True, width="stretch")
