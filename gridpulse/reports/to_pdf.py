"""The report as a PDF (A4 landscape): a subset of the Chinese font embedded, so it reads on any PC."""

from __future__ import annotations

import io
import re

import pandas as pd
from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode

from gridpulse import clock
from gridpulse.reports import fonts
from gridpulse.reports.document import Document, kpi_definitions
from gridpulse.strings import t

FONT = "cjk"
RED = (192, 57, 43)
GREY = (110, 110, 110)
STRIPE = (246, 246, 246)
MARGIN = 12  # mm
# fpdf2 replaces its page-count alias in any text it draws while the alias is set, so it is
# set only while the footer is drawn: a name "{nb}" from the data stays "{nb}".
PAGE_COUNT_ALIAS = "{nb}"
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # no glyph in any font: shown as a space


def _text(value: object) -> str:
    """A value as PDF text (fpdf2 draws it literally: no Markdown, no HTML)."""
    return "" if value is None else _CONTROL.sub(" ", str(value))


class _Pdf(FPDF):
    def __init__(self, doc: Document) -> None:
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self.doc = doc
        font = fonts.cjk_font()
        self.add_font(FONT, "", str(font.regular.path), collection_font_number=font.regular.index)
        self.add_font(FONT, "B", str(font.bold.path), collection_font_number=font.bold.index)
        self.set_margins(MARGIN, MARGIN + 4, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 2)
        self.set_title(doc.title)
        self.set_author(t("report_author"))
        self.set_creator("GridPulse")
        self.set_creation_date(clock.now_aware())
        self.alias_nb_pages(None)

    def output(self, *args: object, **kwargs: object) -> bytearray:  # type: ignore[override]
        self.str_alias_nb_pages = PAGE_COUNT_ALIAS  # substitute what footer() drew, at close
        return super().output(*args, **kwargs)  # type: ignore[arg-type]

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        self.set_xy(MARGIN, 6)
        head = t("report_pdf_header", title=self.doc.title, period=self.doc.period, selection=self.doc.selection)
        self.cell(0, 5, _text(head), align="L")
        self.set_text_color(0, 0, 0)
        self.set_xy(MARGIN, MARGIN + 4)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        before, self.str_alias_nb_pages = self.str_alias_nb_pages, PAGE_COUNT_ALIAS
        footer = t("report_pdf_footer", masked=t("report_masked"), page=self.page_no(), pages=PAGE_COUNT_ALIAS)
        self.cell(0, 5, footer, align="C")
        self.str_alias_nb_pages = before
        self.set_text_color(0, 0, 0)

    def heading(self, text: str) -> None:
        self.set_x(self.l_margin)
        self.set_font(FONT, "B", 16)
        self.set_text_color(*RED)
        self.cell(0, 10, text, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.ln(1)

    def note(self, text: str, size: float = 9) -> None:
        self.set_font(FONT, "", size)
        self.set_text_color(*GREY)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)

    def table_of(self, frame: pd.DataFrame, widths: list[float] | None = None, size: float = 8.5) -> None:
        self.set_font(FONT, "", size)
        with self.table(
            col_widths=widths,
            text_align="CENTER",
            headings_style=FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=RED),
            cell_fill_color=STRIPE,
            cell_fill_mode=TableCellFillMode.ROWS,
            line_height=size * 0.55,
            padding=1,
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            table.row([_text(c) for c in frame.columns])
            for values in frame.itertuples(index=False):
                table.row([_text(v) for v in values])


def render(doc: Document) -> bytes:
    pdf = _Pdf(doc)
    _title_page(pdf, doc)
    _kpi_page(pdf, doc)
    pdf.add_page()
    pdf.heading(t("report_map_title", metric=t(doc.map_metric)))
    pdf.image(io.BytesIO(doc.images["map"]), x=MARGIN, w=pdf.epw, h=pdf.eph - 16, keep_aspect_ratio=True)
    pdf.note(t("report_map_note"))
    if "trend" in doc.images or "categories" in doc.images:
        pdf.add_page()
        pdf.heading(t("report_trend_title"))
        _side_by_side(pdf, doc.images.get("trend"), doc.images.get("categories"))
        pdf.set_y(pdf.get_y() + 4)
        pdf.note(t("report_trend_note"))
    pdf.add_page()
    pdf.heading(t("report_levels_title"))
    if "levels" in doc.images:
        pdf.image(io.BytesIO(doc.images["levels"]), x=MARGIN, w=pdf.epw * 0.6)
    pdf.table_of(doc.levels)
    pdf.add_page()
    pdf.heading(t("report_matrix_title"))
    pdf.table_of(doc.matrix)
    pdf.add_page()
    pdf.heading(t("report_ranking_title"))
    pdf.note(t("report_ranking_note"))
    pdf.ln(1)
    pdf.table_of(doc.ranking, widths=[6, 14, 12, 8, 9, 11, 10, 9, 9, 8, 12, 9], size=8)
    pdf.add_page()
    if len(doc.departments):
        pdf.heading(t("report_departments_title"))
        pdf.note(t("status_legend_short"))
        pdf.table_of(doc.departments, size=7)
    if len(doc.red_black):
        pdf.heading(t("report_red_black_title"))
        pdf.note(t("lists_rule_short"))
        pdf.table_of(doc.red_black, widths=[7, 8, 9, 14, 7, 8, 47], size=7.5)
    if len(doc.departments) or len(doc.red_black):
        pdf.add_page()
    pdf.heading(t("report_alerts_title"))
    pdf.note(t("report_alerts_note", as_of=doc.as_of))
    if doc.alerts.empty:
        pdf.note(t("alerts_none"), size=11)
    else:
        pdf.table_of(doc.alerts, size=8)
    pdf.ln(2)
    pdf.heading(t("report_overdue_title", n=len(doc.overdue), total=doc.overdue_total))
    if doc.overdue.empty:
        pdf.note(t("report_no_overdue"), size=11)
    else:
        pdf.table_of(doc.overdue, widths=[16, 11, 14, 13, 13, 40], size=8)
    return bytes(pdf.output())


def _title_page(pdf: _Pdf, doc: Document) -> None:
    pdf.add_page()
    pdf.set_y(60)
    pdf.set_font(FONT, "B", 30)
    pdf.set_text_color(*RED)
    pdf.cell(0, 16, _text(doc.title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "", 15)
    pdf.cell(0, 10, t("report_subtitle"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font(FONT, "", 13)
    for line in (
        t("report_area", area=doc.area),
        t("report_period", period=doc.period),
        t("report_selection", selection=doc.selection),
        t("report_as_of", as_of=doc.as_of),
    ):
        pdf.cell(0, 9, _text(line), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(16)
    pdf.note(t("report_masked_long"))


def _kpi_page(pdf: _Pdf, doc: Document) -> None:
    pdf.add_page()
    pdf.heading(t("report_kpi_title"))
    cols, gap = 4, 5
    w = (pdf.epw - gap * (cols - 1)) / cols
    h = 34
    top = pdf.get_y() + 2
    for i, (name, value, delta) in enumerate(doc.kpis):
        x = MARGIN + (i % cols) * (w + gap)
        y = top + (i // cols) * (h + gap)
        pdf.set_draw_color(220, 220, 220)
        pdf.rect(x, y, w, h)
        pdf.set_xy(x, y + 3)
        pdf.set_font(FONT, "", 11)
        pdf.cell(w, 7, name, align="C")
        pdf.set_xy(x, y + 11)
        pdf.set_font(FONT, "B", 22)
        pdf.cell(w, 12, value, align="C")
        pdf.set_xy(x, y + 25)
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(*GREY)
        pdf.cell(w, 6, t("report_delta", delta=delta) if delta else t("report_no_delta"), align="C")
        pdf.set_text_color(0, 0, 0)
    pdf.set_y(top + 2 * (h + gap) + 2)
    if doc.empty:
        pdf.note(t("empty"), size=12)
    pdf.note(doc.kpi_note)
    pdf.ln(2)
    pdf.note("\n".join(kpi_definitions()), size=8)


def _side_by_side(pdf: _Pdf, left: bytes | None, right: bytes | None) -> None:
    w = (pdf.epw - 6) / 2
    y = pdf.get_y()
    heights = []
    for i, png in enumerate((left, right)):
        if png is not None:
            info = pdf.image(io.BytesIO(png), x=MARGIN + i * (w + 6), y=y, w=w)
            heights.append(info.rendered_height)
    pdf.set_y(y + max(heights, default=0))
