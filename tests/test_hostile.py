"""Hostile text: imported names and residents' words are shown as text everywhere.

The street of tests/hostile.py holds HTML, Markdown links and images, LaTeX, formulas and
PDF aliases in every text field. Maps must hand their tooltips escaped HTML; Markdown
elements (titles, captions, alerts, metric labels, widget labels) must carry it escaped;
reports and CSV exports must show it literally and never as a formula.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import string
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from matplotlib.figure import Figure
from openpyxl import load_workbook
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from gridpulse import admin_views, exports, maps, reports, views
from gridpulse.ingest import run
from gridpulse.reports import figures, to_xlsx
from gridpulse.safe_text import WORD_JOINER, file_part, html_text, md_text, plot_text, script_json
from gridpulse.scope import Scope
from gridpulse.store import Store
from tests import apps, hostile
from tests.fixtures import AS_OF, MARCH, code
from tests.hostile import HOSTILE_VALUES, STREET_NAME

STREET = Scope.street()
PUNCTUATION = set(string.punctuation)
GRID_NAMES = HOSTILE_VALUES[:9]  # grids 1-9, in order (tests/hostile.py)
PAGES = {
    "leader": ["overview", "heatmap", "service_matrix", "resolution", "meeting", "accountability", "departments"],
    "sec": ["overview", "heatmap", "service_matrix", "resolution", "meeting", "accountability", "departments"],
    "head": ["overview", "heatmap", "service_matrix", "resolution", "meeting", "accountability"],
    "liaison": ["overview", "heatmap", "resolution", "meeting", "accountability", "departments"],
    "admin": ["overview", "heatmap", "service_matrix", "resolution", "meeting", "accountability", "departments",
              "admin", "import"],
}  # fmt: skip
# Element types whose text Streamlit shows as it is (or that are checked on their own).
NOT_MARKDOWN = {"text", "code", "exception", "html", "component_instance", "dataframe", "arrow_data_frame"}


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile.build(tmp_path_factory.mktemp("hostile") / "hostile.duckdb")


@pytest.fixture(scope="module")
def hstore(hostile_db: Path) -> Iterator[Store]:
    s = Store(hostile_db)
    yield s
    s.close()


@pytest.fixture
def hostile_env(hostile_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app reads the hostile street."""
    monkeypatch.setenv("GRIDPULSE_DB", str(hostile_db))
    return hostile_db


# ---- checkers ----------------------------------------------------------------


def _one_line(value: str) -> str:
    return re.sub(r"[\r\n\t\v\f\u2028\u2029]+", " ", value)


def resolve_markdown(md: str) -> tuple[str, list[bool]]:
    """Markdown text with its backslash escapes resolved, and for each character whether it was escaped."""
    chars: list[str] = []
    escaped: list[bool] = []
    i = 0
    while i < len(md):
        if md[i] == "\\" and i + 1 < len(md) and md[i + 1] in PUNCTUATION:
            chars.append(md[i + 1])
            escaped.append(True)
            i += 2
        else:
            chars.append(md[i])
            escaped.append(False)
            i += 1
    return "".join(chars), escaped


def markdown_problems(md: str) -> tuple[list[str], int]:
    """What in ``md`` would render as markup from the data; and how many hostile values it shows."""
    text, escaped = resolve_markdown(md)
    problems = []
    live = "".join(c for c, e in zip(text, escaped, strict=True) if not e)
    problems += [f"unescaped {c!r}" for c in "[]<>$`" if c in live]  # links, images, HTML, LaTeX, code
    if re.search(rf"(?i)https?://|(?<!{WORD_JOINER})www\.|[\w.+-]@", text):
        problems.append("a bare URL or e-mail address would become a link")
    shown = [(c, e) for c, e in zip(text, escaped, strict=True) if c != WORD_JOINER]
    plain = "".join(c for c, _ in shown)
    found = 0
    for value in (v for v in HOSTILE_VALUES if len(v) > 2):  # "+1" and "-1" occur in our own figures
        for m in re.finditer(re.escape(_one_line(value)), plain):
            found += 1
            if any(c in PUNCTUATION and not e for c, e in shown[m.start() : m.end()]):
                problems.append(f"{value!r} not escaped")
    return problems, found


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def html_problems(body: str) -> list[str]:
    """Tags other than our legend's and styles, or event handlers, in an st.html body."""
    parser = _Tags()
    parser.feed(body)
    problems = [f"tag <{tag}>" for tag, _ in parser.tags if tag not in {"div", "span", "b", "style"}]
    problems += [f"attribute {name}" for _, attrs in parser.tags for name, _ in attrs if name != "style"]
    return problems


def _json_after(script: str, pattern: str) -> list[Any]:
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(script, m.end())[0] for m in re.finditer(pattern, script)]


def map_tooltip_texts(script: str) -> list[str]:
    """Every string a folium layer in ``script`` may put into a tooltip's innerHTML, checked.

    GeoJSON property values and the tooltip's labels must hold no tag and no bare ``&``;
    returns the values as the tooltip shows them (entities decoded).
    """
    layers = _json_after(script, r"_add\((?=\{)")
    values = [v for layer in layers for f in layer["features"] for v in f["properties"].values() if isinstance(v, str)]
    values += [v for labels in _json_after(script, r"let (?:fields|aliases) = (?=\[)") for v in labels]
    assert layers, "no GeoJSON layer found"
    for v in values:
        assert not {"<", ">"} & set(v), v
        assert not re.search(r"&(?!(?:amp|lt|gt|quot|#x27|#123);)", v), v
    for raw in ("<img src=x onerror", "<script>alert"):
        assert raw not in script
    return [html.unescape(v) for v in values]


def walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def check_page(at: AppTest) -> int:
    """Every Markdown text, st.html body and map on the page is safe; returns the hostile values shown."""
    found = 0
    for node in walk(at._tree):
        proto, kind = getattr(node, "proto", None), getattr(node, "type", None)
        if proto is None:
            continue
        if kind == "html":
            assert html_problems(proto.body) == [], proto.body
        elif kind == "component_instance":
            texts = map_tooltip_texts(json.loads(proto.json_args)["script"])
            found += sum(v in texts for v in HOSTILE_VALUES)
        elif kind not in NOT_MARKDOWN:
            fields = {f.name for f in proto.DESCRIPTOR.fields}
            texts = [getattr(proto, f) for f in ("body", "label", "help", "delta") if f in fields]
            texts += list(proto.options) if kind == "radio" else []  # radio options are Markdown too
            for text in texts:
                if isinstance(text, str):
                    problems, n = markdown_problems(text)
                    assert problems == [], f"{kind}: {text!r}: {problems}"
                    found += n
    return found


# ---- the boundary functions ---------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_md_text_keeps_every_value_literal(value: str) -> None:
    escaped = md_text(value)
    problems, found = markdown_problems(escaped)
    assert problems == []
    assert (found >= 1) == (len(value) > 2)
    text, _ = resolve_markdown(escaped)
    assert text.replace(WORD_JOINER, "") == _one_line(value)


def test_md_text_breaks_autolinks_and_lines() -> None:
    text, _ = resolve_markdown(md_text("见 http://evil.example/x、WWW.evil.example 或 a@evil.example\n# 标题"))
    assert not re.search(r"(?i)https?://|(?<!\u2060)www\.|\w@", text)
    assert "\n" not in text
    assert md_text(None) == ""
    assert md_text("第1网格") == "第1网格"  # nothing to escape: unchanged


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_html_text_keeps_every_value_literal(value: str) -> None:
    escaped = html_text(value)
    assert not {"<", ">", '"'} & set(escaped)
    assert html.unescape(escaped) == value


@pytest.mark.filterwarnings("ignore:Glyph")  # CJK in matplotlib's default font: not what is tested here
def test_plot_text_stops_mathtext() -> None:
    def draw(text: str) -> None:
        fig = Figure()
        fig.text(0.5, 0.5, text)
        fig.savefig(io.BytesIO(), format="png")

    with pytest.raises(ValueError, match="frac"):
        draw("$\\frac{$")  # what a category named like this did to a report
    for value in HOSTILE_VALUES:
        draw(plot_text(value))
    fig = Figure()
    shown = fig.text(0.5, 0.5, plot_text("$x^2$ 元"))
    fig.savefig(io.BytesIO(), format="png")
    assert shown._preprocess_math(shown.get_text()) == ("$x^2$ 元", False)


def test_file_part_and_report_names() -> None:
    name = reports.file_name(STREET_NAME + '/../..\\x:"|?*', MARCH.start, MARCH.end, "pdf")
    assert not set('/\\:*?"<>|') & set(name)
    assert name.endswith("_2026年3月_网格治理报告.pdf")
    assert file_part("第1网格") == "第1网格"
    assert file_part("..") == "_"


def test_script_json_reads_back_every_value_and_cannot_end_a_script() -> None:
    values = [*HOSTILE_VALUES, "</script><script>alert(1)</script>", "<!--", "a\u2028b\u2029c", "&lt;"]
    text = script_json(values)
    assert json.loads(text) == values
    assert not {"<", ">", "&", "\u2028", "\u2029"} & set(text)
    jinja = [JINJA["code"], JINJA["name"], JINJA["other"], {"k": "{{x}}"}]
    assert json.loads(script_json(jinja)) == jinja
    assert not re.search(r"\{[{%#]", script_json(jinja))


# ---- maps ----------------------------------------------------------------------


def test_heatmap_tooltips_show_hostile_names_as_text(hstore: Store) -> None:
    perf = views.grid_performance(hstore, STREET, MARCH, AS_OF)
    m, legend = maps.grid_metric_map(views.grid_shapes(hstore, STREET), perf, "cases_per_100",
                                     views.heat_cells(hstore, STREET, MARCH))  # fmt: skip
    page = maps.map_html(m)
    shown = map_tooltip_texts(page)
    assert set(GRID_NAMES) <= set(shown)  # every name reaches its tooltip, literally (escaped once)
    assert set(HOSTILE_VALUES[9:]) <= set(shown)  # the grid heads
    assert set(hostile.COMMUNITIES.values()) <= set(shown)
    assert html_problems(legend) == []


def test_grid_labels_show_hostile_names_as_text(hstore: Store) -> None:
    perf = views.grid_performance(hstore, STREET, MARCH, AS_OF)
    m, _legend = maps.grid_metric_map(views.grid_shapes(hstore, STREET), perf, "resolution_rate", None)
    script = maps.map_html(m)
    (labels,) = _json_after(script, r"L\.layerGroup\(\)\.addTo\(map\);\s*")  # the names' layer
    assert sorted(name for _lat, _lng, name in labels) == sorted(GRID_NAMES)  # each literally, escaped nowhere
    start = script.index("L.layerGroup().addTo(map);")
    assert not {"<", ">", "&"} & set(script[start : script.index(".forEach", start)])  # JSON escapes only
    assert "textContent = label[2]" in script  # and the browser puts them in as text


JINJA = {"code": "{{ 'code' ~ 'ran' }}", "name": "{{ 'name' ~ 'ran' }}{% raw %}", "other": "{# comment #}甲"}


def test_a_map_evaluates_no_template_from_its_data() -> None:
    """branca compiles each element's rendered output as a Jinja template again: data must reach it inert."""
    import geopandas as gpd
    from shapely.geometry import box

    from gridpulse.ui import mapview

    grids = gpd.GeoDataFrame(
        {"grid_code": [JINJA["code"], "g2"], "grid_name": [JINJA["name"], JINJA["other"]]},
        geometry=[box(120.0, 30.0, 120.01, 30.01), box(120.01, 30.0, 120.02, 30.01)],
        crs="EPSG:4326",
    )
    m = maps.base_map(grids.total_bounds)
    maps.choropleth(m, grids, ["#ffffff", "#000000"], {"grid_name": "网格名称"})
    script = mapview.rendered(m).script  # what the page sends, rendered as st_folium renders it
    assert "coderan" not in script
    assert "nameran" not in script
    (layer,) = _json_after(script, r"_add\((?=\{)")
    props = [f["properties"] for f in layer["features"]]
    assert [p["grid_code"] for p in props] == [JINJA["code"], "g2"]  # the code a click sends back, unchanged
    assert [html.unescape(p["grid_name"]) for p in props] == [JINJA["name"], JINJA["other"]]  # tooltips
    (labels,) = _json_after(script, r"L\.layerGroup\(\)\.addTo\(map\);\s*")
    assert [name for _lat, _lng, name in labels] == [JINJA["name"], JINJA["other"]]  # the names on the map
    assert not re.search(r"\{[{%#]", html_text(JINJA["name"]))


def test_service_point_tooltips_show_hostile_names_as_text(hstore: Store) -> None:
    level_names = {lv: f"<b>级{lv}</b>" for lv in views.MATRIX_LEVELS}  # even our own labels are escaped
    m = maps.service_matrix_map(views.grid_shapes(hstore, STREET), views.service_matrix_by_grid(hstore, STREET),
                                views.service_points(hstore, STREET), level_names)  # fmt: skip
    shown = map_tooltip_texts(maps.map_html(m))
    names = views.service_points(hstore, STREET)
    assert set(names.loc[names["level"].notna(), "name"]) <= set(shown)
    assert "<b>级1</b>" in shown
    assert html_problems(maps.level_legend_html(level_names)) == []
    assert "&lt;b&gt;级1" in maps.level_legend_html(level_names)


def test_legend_escapes_its_title() -> None:
    legend = maps.legend_html(HOSTILE_VALUES[0], [(0.0, 1.0)], ["#ffffff"], "{:.1f}")
    assert html_problems(legend) == []
    assert html_text(HOSTILE_VALUES[0]) in legend


# ---- every page, every role ------------------------------------------------------


@pytest.mark.parametrize(("username", "page"), [(u, p) for u, pages in PAGES.items() for p in pages])
def test_pages_show_hostile_text_as_text(hostile_env: Path, username: str, page: str) -> None:
    at = apps.in_march(apps.app(username))
    assert not at.exception, at.exception
    at.switch_page(f"app_pages/page_{page}.py").run()
    assert not at.exception, at.exception
    found = check_page(at)
    assert found >= 1  # the detector works: the sidebar names the street, at least
    sidebar = [m.value for m in at.sidebar.markdown]
    assert f"### {md_text(STREET_NAME)}" in sidebar
    if page in {"heatmap", "service_matrix", "resolution", "meeting"}:  # its map was among what was checked
        assert any(getattr(n, "type", None) == "component_instance" for n in walk(at._tree))
    if page == "heatmap":  # drill into a grid: its name in the caption, its cases in a table
        at.selectbox[0].select_index(1).run()
        assert not at.exception, at.exception
        assert check_page(at) > found
        assert len(at.dataframe[0].value)


def test_scope_lines_escape_names(hostile_env: Path) -> None:
    at = apps.in_march(apps.app("sec"))
    assert any(md_text(hostile.COMMUNITIES["甲社区"]) in c.value for c in at.caption)
    at = apps.in_march(apps.app("liaison"))
    assert any(md_text(hostile.DEPARTMENT) in c.value for c in at.caption)
    at = apps.in_march(apps.app("head"))
    assert any(f"{md_text(GRID_NAMES[0])}、{md_text(GRID_NAMES[1])}" in c.value for c in at.caption)
    at.multiselect(key="flt_grid").set_value([code(2)]).run()
    assert any(f"统计范围：{md_text(GRID_NAMES[1])}；" in c.value for c in at.caption)
    check_page(at)


def test_meeting_link_values_are_shown_as_text(hostile_env: Path) -> None:
    at = apps.app(
        "leader", query={"start": "[点此重新登录](javascript:alert(1))", "rotate": "![t](http://evil.example/t.png)"}
    )
    at.switch_page("app_pages/page_meeting.py").run()
    assert not at.exception, at.exception
    warnings = " ".join(w.value for w in at.warning)
    for value in ("[点此重新登录](javascript:alert(1))", "![t](http://evil.example/t.png)"):
        assert md_text(value) in warnings  # named, so the link can be fixed; escaped
    check_page(at)
    assert at.title[0].value == f"{md_text(STREET_NAME)} 网格治理联席会议"


# ---- reports and exports ------------------------------------------------------------


def _request(area: str = STREET_NAME) -> reports.ReportRequest:
    return reports.ReportRequest(STREET, MARCH, AS_OF, area)


def _cells(path: Path) -> list[object]:
    wb = load_workbook(path)
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula: {cell.value}"
    return [c.value for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]


def test_excel_report_holds_no_formula(hstore: Store, tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(to_xlsx.excel(hstore, _request('=HYPERLINK("http://evil.example","x") 街道')))
    values = _cells(path)
    texts = [v for v in values if isinstance(v, str)]
    assert not [v for v in texts if v.startswith(exports.FORMULA_START)]
    # the community and a grid; March's categories (+1 is a February category: not in the report)
    for value in ('=HYPERLINK("http://evil.example","x")', "-1", "@SUM(A1)", "\t制表符开头"):
        assert "'" + value in texts, value  # shown, as text
    assert '\'=HYPERLINK("http://evil.example","x") 街道' in texts  # the area on the first sheet
    for value in ("<script>alert(1)</script>", "[x](http://evil.example/)", "{nb}", "$x^2$"):
        assert value in texts  # everything else exactly as written


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    from tests.test_documents import pdftotext

    return pdftotext(pdf, tmp_path, "-layout")


def test_pdf_report_shows_hostile_text_literally(hstore: Store, tmp_path: Path) -> None:
    text = _pdftotext(reports.render(hstore, _request(), "pdf"), tmp_path)
    assert f"区域：{STREET_NAME}" in text
    lines = [re.sub(r"\s+", " ", line).strip() for line in text.splitlines()]
    assert any(re.match(r"\d \{nb\} ", line) for line in lines)  # grid 9's name after its rank, not the page count
    assert any(" $x^2$ " in f" {line} " for line in lines)  # grid 8's name, not a formula
    assert re.findall(r"第\s*1\s*页\s*/\s*共\s*(\d+)\s*页", text)[0] != "{nb}"
    pages = re.findall(r"共\s*(\d+)\s*页", text)
    assert len(pages) >= 5  # the footer still counts the pages
    assert len(set(pages)) == 1


def test_pptx_report_shows_hostile_text_literally(hstore: Store) -> None:
    deck = Presentation(io.BytesIO(reports.render(hstore, _request(), "pptx")))
    texts: list[str] = []
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts += [p.text for p in shape.text_frame.paragraphs]
            if shape.has_table:
                texts += [cell.text for row in shape.table.rows for cell in row.cells]
    assert STREET_NAME + " 网格治理报告" in texts
    perf = views.grid_performance(hstore, STREET, MARCH, AS_OF)
    ranked = set(perf.loc[perf["rank"].notna(), "grid_name"])
    assert len(ranked) == 5
    assert ranked <= set(texts)  # the ranking's grid names, each one cell, as written
    assert set(hostile.COMMUNITIES.values()) <= set(texts)


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_case_export_is_formula_safe(hstore: Store) -> None:
    rows = _csv_rows(views.grid_cases_csv(hstore, STREET, MARCH, code(1)))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(exports.FORMULA_START)]
    assert "'" + HOSTILE_VALUES[5] in cells  # c03's category =HYPERLINK(...)
    assert {"'+1", "'@SUM(A1)"} <= set(cells)  # the sources
    assert "[x](http://evil.example/)" in cells  # c01's category, as text
    assert len(rows) == 4  # header and grid 1's three cases


def test_import_rejects_export_is_formula_safe(hostile_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(hostile_db, copy)
    source = tmp_path / "in.csv"
    source.write_text(
        "工单编号,受理时间,诉求类别,诉求内容,经度,纬度\n"
        "h1,2026-03-10 09:00,=cmd|' /C calc'!A0,-2+3,121.005,37.005\n"
        "h2,不是时间,+1,@SUM(A1),121.005,37.005\n",
        encoding="utf-8",
    )
    store = Store(copy)
    try:
        summary = run.import_file(store, "cases", source, file_name='=HYPERLINK("http://evil.example","x").csv')
        import_id = summary.record["import_id"]
        assert summary.record["rejected"] == 1
        rows = _csv_rows(admin_views.import_rejects_csv(store, import_id))
    finally:
        store.close()
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(exports.FORMULA_START)]
    assert '\'=HYPERLINK("http://evil.example","x").csv' in cells


def test_report_figures_draw_hostile_names(hstore: Store) -> None:
    cats = pd.DataFrame({"category": HOSTILE_VALUES, "cases": range(len(HOSTILE_VALUES), 0, -1)})
    assert figures.category_chart(cats).startswith(b"\x89PNG")
    perf = views.grid_performance(hstore, STREET, MARCH, AS_OF)
    assert figures.grid_map(views.grid_shapes(hstore, STREET), perf, "resolution_rate").startswith(b"\x89PNG")
