"""Take-away reports for joint meetings: the dashboard's figures in a file, personal data masked.

- ``request``: what a report covers, and its file name;
- ``document``: the document model behind the PDF and the slides (from the same views as the pages);
- ``to_xlsx``, ``to_pdf`` (fpdf2), ``to_pptx`` (python-pptx): the three files;
- ``figures``: its static map and charts (matplotlib); ``fonts``: the Chinese font they embed.
"""

from __future__ import annotations

from datetime import datetime

from gridpulse.filters import Filters
from gridpulse.reports.document import DEFAULT_MAP_METRIC, FORMATS, MAP_METRICS, MIME, Document, document
from gridpulse.reports.request import ReportRequest, file_name, parse_period
from gridpulse.scope import Scope
from gridpulse.store import Store
from gridpulse.strings import t

__all__ = [
    "DEFAULT_MAP_METRIC",
    "FORMATS",
    "MAP_METRICS",
    "MIME",
    "Document",
    "ReportRequest",
    "document",
    "file_name",
    "parse_period",
    "render",
    "render_for",
]


def render(store: Store, req: ReportRequest, fmt: str, map_metric: str = DEFAULT_MAP_METRIC) -> bytes:
    """The report file in ``fmt`` (xlsx, pdf or pptx)."""
    if fmt == "xlsx":
        from gridpulse.reports import to_xlsx

        return to_xlsx.excel(store, req)
    if fmt == "pdf":
        from gridpulse.reports import to_pdf

        return to_pdf.render(document(store, req, map_metric))
    if fmt == "pptx":
        from gridpulse.reports import to_pptx

        return to_pptx.render(document(store, req, map_metric))
    raise ValueError(t("report_bad_format", fmt=fmt, formats=t("list_separator").join(FORMATS)))


def render_for(
    store: Store, scope: Scope, f: Filters, as_of: datetime, area: str, fmt: str, map_metric: str = DEFAULT_MAP_METRIC
) -> bytes:
    """A report for a page's download button (store and scope first, like every view)."""
    return render(store, ReportRequest(scope, f, as_of, area), fmt, map_metric)
