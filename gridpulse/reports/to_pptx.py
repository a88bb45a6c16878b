"""The report as a 16:9 slide deck for the joint meeting (python-pptx).

Text is real text (searchable, editable); maps and charts are pictures drawn on the
server. Text asks for 微软雅黑, present on every Chinese Windows PC; elsewhere the
viewer substitutes its own Chinese font. The charts carry their text as drawn pixels.
"""

from __future__ import annotations

import io

import pandas as pd
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from gridpulse.reports.document import Document, kpi_definitions
from gridpulse.strings import t

FONT = "微软雅黑"
RED = RGBColor(0xC0, 0x39, 0x2B)
GREY = RGBColor(0x6E, 0x6E, 0x6E)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
STRIPE = RGBColor(0xF4, 0xF4, 0xF4)
WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
BODY_TOP = Inches(1.25)
RANKING_SLIDE_ROWS = 10
# rank, grid, community, due, rate, lower bound, on time, self-resolved, satisfaction, rated, median h, rework
RANKING_WIDTHS = [0.6, 1.7, 1.1, 0.9, 0.9, 1.2, 1.0, 1.0, 0.9, 0.9, 1.2, 0.9]


def render(doc: Document) -> bytes:
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    deck = _Deck(prs, doc)
    deck.title_slide()
    deck.kpi_slide()
    s = deck.slide(t("report_map_title", metric=t(doc.map_metric)))
    deck.picture(s, doc.images["map"], MARGIN, BODY_TOP, WIDTH - 2 * MARGIN, HEIGHT - BODY_TOP - Inches(0.9))
    deck.text(s, t("report_map_note"), MARGIN, HEIGHT - Inches(0.8), WIDTH - 2 * MARGIN, Inches(0.4), 11, GREY)
    if "trend" in doc.images or "categories" in doc.images:
        s = deck.slide(t("report_trend_title"))
        half = (WIDTH - 2 * MARGIN - Inches(0.3)) / 2
        for i, key in enumerate(("trend", "categories")):
            if key in doc.images:
                deck.picture(s, doc.images[key], MARGIN + i * (half + Inches(0.3)), BODY_TOP, half, Inches(4.6))
        deck.text(s, t("report_trend_note"), MARGIN, Inches(6.3), WIDTH - 2 * MARGIN, Inches(0.4), 11, GREY)
    s = deck.slide(t("report_levels_title"))
    if "levels" in doc.images:
        deck.picture(s, doc.images["levels"], MARGIN, BODY_TOP, Inches(6.4), Inches(4.4))
        deck.tables(t("report_levels_title"), doc.levels, 12, slide=s, x=Inches(7.1), w=WIDTH - Inches(7.1) - MARGIN)
    else:
        deck.tables(t("report_levels_title"), doc.levels, 14, slide=s)
    deck.tables(t("report_matrix_title"), doc.matrix, 14)
    ranked = doc.ranking[doc.ranking[t("rank")] != t("no_data")]
    note = t("report_ranking_more", total=len(ranked))
    if len(ranked) <= 2 * RANKING_SLIDE_ROWS:  # top and bottom would repeat grids: show them all
        deck.tables(t("report_ranking_all"), ranked, 12, widths=RANKING_WIDTHS, note=note)
    else:
        n = RANKING_SLIDE_ROWS
        deck.tables(t("report_ranking_top", n=n), ranked.head(n), 12, widths=RANKING_WIDTHS, note=note)
        deck.tables(t("report_ranking_bottom", n=n), ranked.tail(n), 12, widths=RANKING_WIDTHS, note=note)
    if len(doc.departments):
        deck.tables(t("report_departments_title"), doc.departments, 10.5, note=t("status_legend_short"))
    if len(doc.red_black):
        widths = [0.7, 0.9, 1.0, 1.6, 0.7, 0.8, 6.6]
        deck.tables(t("report_red_black_title"), doc.red_black, 10.5, widths=widths, note=t("lists_rule_short"))
    if doc.alerts.empty:
        s = deck.slide(t("report_alerts_title"))
        deck.text(s, t("alerts_none"), MARGIN, BODY_TOP, WIDTH - 2 * MARGIN, Inches(0.6), 18)
    else:
        deck.tables(t("report_alerts_title"), doc.alerts, 10.5, note=t("report_alerts_note", as_of=doc.as_of))
    title = t("report_overdue_title", n=len(doc.overdue), total=doc.overdue_total)
    if doc.overdue.empty:
        s = deck.slide(title)
        deck.text(s, t("report_no_overdue"), MARGIN, BODY_TOP, WIDTH - 2 * MARGIN, Inches(0.6), 18)
    else:
        deck.tables(title, doc.overdue, 10.5, widths=[1.6, 1.1, 1.5, 1.3, 1.2, 5.6], note=t("report_overdue_more"))
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


class _Deck:
    def __init__(self, prs: Presentation, doc: Document) -> None:
        self.prs, self.doc = prs, doc
        self.blank = prs.slide_layouts[6]
        core = prs.core_properties
        core.title, core.author, core.subject = doc.title, t("report_author"), doc.period

    def slide(self, title: str) -> Slide:
        s = self.prs.slides.add_slide(self.blank)
        self.text(s, title, MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(0.6), 26, RED, bold=True)
        footer = t(
            "report_pptx_footer",
            title=self.doc.title,
            period=self.doc.period,
            selection=self.doc.selection,
            masked=t("report_masked"),
            page=len(self.prs.slides),
        )
        self.text(s, footer, MARGIN, HEIGHT - Inches(0.4), WIDTH - 2 * MARGIN, Inches(0.3), 9, GREY, PP_ALIGN.RIGHT)
        return s

    def title_slide(self) -> None:
        s = self.prs.slides.add_slide(self.blank)
        w = WIDTH - 2 * MARGIN
        self.text(s, self.doc.title, MARGIN, Inches(2.0), w, Inches(1.0), 40, RED, PP_ALIGN.CENTER, bold=True)
        self.text(s, t("report_subtitle"), MARGIN, Inches(3.0), w, Inches(0.6), 22, None, PP_ALIGN.CENTER)
        lines = [
            t("report_area", area=self.doc.area),
            t("report_period", period=self.doc.period),
            t("report_selection", selection=self.doc.selection),
            t("report_as_of", as_of=self.doc.as_of),
        ]
        self.text(s, "\n".join(lines), MARGIN, Inches(3.8), w, Inches(1.8), 18, None, PP_ALIGN.CENTER)
        self.text(s, t("report_masked_long"), MARGIN, Inches(6.4), w, Inches(0.5), 12, GREY, PP_ALIGN.CENTER)

    def kpi_slide(self) -> None:
        s = self.slide(t("report_kpi_title"))
        cols, gap = 4, Inches(0.25)
        w = (WIDTH - 2 * MARGIN - gap * (cols - 1)) / cols
        h = Inches(1.7)
        for i, (name, value, delta) in enumerate(self.doc.kpis):
            x = MARGIN + (i % cols) * (w + gap)
            y = BODY_TOP + (i // cols) * (h + gap)
            box = s.shapes.add_shape(1, int(x), int(y), int(w), int(h))  # 1: rectangle
            box.fill.solid()
            box.fill.fore_color.rgb = RGBColor(0xFB, 0xF3, 0xF2)
            box.line.color.rgb = RGBColor(0xE0, 0xC8, 0xC5)
            self.text(s, name, x, y + Inches(0.1), w, Inches(0.4), 16, None, PP_ALIGN.CENTER)
            self.text(s, value, x, y + Inches(0.5), w, Inches(0.7), 34, RED, PP_ALIGN.CENTER, bold=True)
            change = t("report_delta", delta=delta) if delta else t("report_no_delta")
            self.text(s, change, x, y + Inches(1.2), w, Inches(0.35), 12, GREY, PP_ALIGN.CENTER)
        top = BODY_TOP + 2 * (h + gap)
        notes = [*([t("empty")] if self.doc.empty else []), self.doc.kpi_note, *kpi_definitions()]
        self.text(s, "\n".join(notes), MARGIN, top, WIDTH - 2 * MARGIN, Inches(1.9), 9.5, GREY)

    def text(self, s: Slide, text: str, x: float, y: float, w: float, h: float, size: float,
             colour: RGBColor | None = None, align: PP_ALIGN = PP_ALIGN.LEFT, bold: bool = False) -> None:  # fmt: skip
        frame = s.shapes.add_textbox(int(x), int(y), int(w), int(h)).text_frame
        frame.word_wrap = True
        for i, line in enumerate(text.split("\n")):
            para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            para.alignment = align
            run = para.add_run()
            run.text = line
            _font(run.font, size, colour, bold)

    def picture(self, s: Slide, png: bytes, x: float, y: float, w: float, h: float) -> None:
        """A picture fitted into the box, keeping its proportions, centred."""
        pic = s.shapes.add_picture(io.BytesIO(png), int(x), int(y))
        scale = min(w / pic.width, h / pic.height)
        pic.width, pic.height = int(pic.width * scale), int(pic.height * scale)
        pic.left, pic.top = int(x + (w - pic.width) / 2), int(y + (h - pic.height) / 2)

    def tables(self, title: str, frame: pd.DataFrame, size: float, widths: list[float] | None = None,
               note: str | None = None, slide: Slide | None = None, x: float = MARGIN,
               w: float = WIDTH - 2 * MARGIN) -> None:  # fmt: skip
        """``frame`` as tables on as many slides as its rows need (continued slides say so)."""
        top = BODY_TOP + Inches(0.1)
        per_slide = max(1, int((HEIGHT - top - Inches(0.8)) / Pt(size * 2.1)) - 1)
        for page, first in enumerate(range(0, max(len(frame), 1), per_slide)):
            s = (
                slide
                if page == 0 and slide is not None
                else self.slide(title if page == 0 else t("report_continued", title=title))
            )
            if note:
                self.text(s, note, MARGIN, Inches(0.95), WIDTH - 2 * MARGIN, Inches(0.3), 10, GREY)
            self.table(s, frame.iloc[first : first + per_slide], x, top, w, size, widths)

    def table(self, s: Slide, frame: pd.DataFrame, x: float, y: float, w: float, size: float,
              widths: list[float] | None = None) -> None:  # fmt: skip
        rows, cols = len(frame) + 1, len(frame.columns)
        row_h = Pt(size * 2.1)
        shape = s.shapes.add_table(rows, cols, int(x), int(y), int(w), int(row_h * rows))
        table = shape.table
        weights = widths or [1.0] * cols
        for i, weight in enumerate(weights):
            table.columns[i].width = Emu(int(w * weight / sum(weights)))
        body = [["" if v is None else str(v) for v in r] for r in frame.itertuples(index=False)]
        values = [list(map(str, frame.columns)), *body]
        for r, row in enumerate(values):
            table.rows[r].height = int(row_h)
            for c, value in enumerate(row):
                cell = table.cell(r, c)
                cell.text = value
                cell.vertical_anchor = MSO_ANCHOR.MIDDLE
                cell.margin_top = cell.margin_bottom = Pt(1)
                cell.fill.solid()
                cell.fill.fore_color.rgb = RED if r == 0 else (STRIPE if r % 2 == 0 else WHITE)
                para = cell.text_frame.paragraphs[0]
                para.alignment = PP_ALIGN.CENTER
                for run in para.runs:
                    _font(run.font, size, WHITE if r == 0 else None, bold=r == 0)


def _font(font: object, size: float, colour: RGBColor | None, bold: bool) -> None:
    font.size = Pt(size)  # type: ignore[attr-defined]
    font.bold = bold  # type: ignore[attr-defined]
    font.name = FONT  # type: ignore[attr-defined]
    if colour is not None:
        font.color.rgb = colour  # type: ignore[attr-defined]
    # Chinese text takes its font from <a:ea>; python-pptx sets only <a:latin>, which <a:ea> must follow.
    rpr = font._rPr  # type: ignore[attr-defined]
    if rpr.find(qn("a:ea")) is None:
        ea = rpr.makeelement(qn("a:ea"), {"typeface": FONT})
        rpr.find(qn("a:latin")).addnext(ea)
