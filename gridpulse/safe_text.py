"""Imported text shown safely: as HTML text, as Markdown text, on a chart, in a file name.

Grid, community and department names, grid heads, resource names, categories, sources,
case descriptions and addresses come from imported files (residents write some of them).
Wherever such a value meets something that interprets text, it passes through one of
these at the boundary:

- ``html_text``: HTML (folium tooltips, popups and legends, ``st.html``); the value shows
  literally, ``<img src=x onerror=...>`` included, and ``{{ … }}`` is no Jinja tag (folium's output is compiled
  as a template again).
- ``md_text``: Streamlit Markdown (``st.markdown``, ``st.caption``, ``st.title``, ``st.subheader``,
  alerts, metric labels and help). Every ASCII punctuation character is backslash-escaped
  (CommonMark allows it for all of them), so links, images, emphasis, headings, LaTeX
  (``$...$``), directives (``:red[...]``) and HTML stay text; line breaks become spaces;
  and an invisible word joiner keeps GitHub's bare-URL and e-mail autolinks from forming.
- ``plot_text``: matplotlib text (``$...$`` would be typeset as mathematics, and a bad
  formula stops the drawing).
- ``file_part``: a piece of a download's file name (no path separators or characters
  Windows refuses).
- ``script_json``: a value as a JavaScript literal inside a ``<script>`` element (no ``</script>``,
  comment or entity can form); the script then puts strings into the page as text nodes.
"""

from __future__ import annotations

import html
import json
import re
import string
from collections.abc import Iterable

# GFM turns bare "http://...", "www...." and "a@b.c" into links after escapes are resolved:
# a word joiner (U+2060, invisible, neither space nor punctuation) breaks each pattern.
WORD_JOINER = "\u2060"
_MD_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")
_AUTOLINK_URL = re.compile(r"(?i)(?<=:)(?=//)|(?=www\.)|(?=@)")
_FILE_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def _text(value: object) -> str:
    return "" if value is None else str(value)


def html_text(value: object) -> str:
    """``value`` as HTML text: ``&``, ``<``, ``>`` and quotes escaped (None: empty).

    ``{`` is written ``&#123;`` too: branca compiles each folium element's rendered output as a Jinja template
    again, so an imported ``{{ … }}`` or ``{% … %}`` would otherwise be evaluated on the server.
    """
    return html.escape(_text(value), quote=True).replace("{", "&#123;")


def md_text(value: object) -> str:
    """``value`` as literal text inside Streamlit Markdown (None: empty)."""
    text = _LINE_BREAKS.sub(" ", _text(value))
    text = _AUTOLINK_URL.sub(WORD_JOINER, text)
    return _MD_PUNCTUATION.sub(r"\\\1", text)


def md_join(values: Iterable[object], sep: str = "、") -> str:
    """Several values as Markdown text, joined by ``sep`` (ours, not escaped)."""
    return sep.join(md_text(v) for v in values)


def plot_text(value: object) -> str:
    """``value`` as literal matplotlib text on one line: dollar signs cannot start mathematics."""
    return _LINE_BREAKS.sub(" ", _text(value)).replace("$", r"\$")


_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


_JINJA_OPEN = re.compile(r"\{(?=[{%#])")


def script_json(value: object) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and the JavaScript line
    separators written as escapes, and no Jinja tag (``json.loads`` reads it back unchanged)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    # In JSON "{{", "{%" and "{#" can only be inside a string: written "\u007b…", no Jinja tag forms (``html_text``).
    return _JINJA_OPEN.sub(r"\\u007b", "".join(_SCRIPT_UNSAFE.get(ch, ch) for ch in text))


def file_part(value: object) -> str:
    """``value`` usable inside a file name: separators, reserved and control characters become ``_``."""
    text = _FILE_UNSAFE.sub("_", _text(value)).strip(" .")
    return text or "_"
