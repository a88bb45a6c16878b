"""The fixture street (tests/fixtures.py) with hostile text in every text field.

Every name, head, category, source, description, address and resident a file could bring
holds one of ``HOSTILE_VALUES``: HTML that would run, Markdown links and images that
would render, LaTeX, spreadsheet formulas, PDF aliases. Figures and geometry are the
fixture's own, so pages and reports run as usual and only the text is under attack.

``build(path)`` writes it (used by tests/test_hostile.py and the browser tests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests import fixtures

HOSTILE_VALUES: list[str] = [
    "<img src=x onerror=alert(1)>",
    "[点此重新登录](javascript:alert(1))",
    "<script>alert(1)</script>",
    "[x](http://evil.example/)",
    "![t](http://evil.example/t.png)",
    '=HYPERLINK("http://evil.example","x")',
    "**粗体** _斜体_ `代码` ~~删除~~",
    "$x^2$",
    "{nb}",  # fpdf2's page-count alias
    "# 标题",
    "+1",
    "-1",
    "@SUM(A1)",
    "\t制表符开头",
    "$\\frac{$",  # malformed LaTeX: matplotlib's mathtext would raise
    "http://evil.example/p www.evil.example a@evil.example",  # bare autolinks
    "</script><script>alert(1)</script>",
    ":red[红字] :material/home: &lt;b&gt;",
]
# Which value each kind of field holds (the rest cycle through the list).
STREET_NAME = HOSTILE_VALUES[0] + HOSTILE_VALUES[1]
COMMUNITIES = {"甲社区": HOSTILE_VALUES[5], "乙社区": HOSTILE_VALUES[1]}
DEPARTMENT = HOSTILE_VALUES[0] + "区住建局"


def value(i: int) -> str:
    return HOSTILE_VALUES[i % len(HOSTILE_VALUES)]


def make_hostile(tables: dict[str, Any]) -> None:
    """Replace every text field of the fixture's tables by hostile values (in place)."""
    grids, cases, resources = tables["grids"], tables["cases"], tables["resources"]
    grids["grid_name"] = [value(i) for i in range(len(grids))]
    grids["grid_head"] = [value(i + len(grids)) for i in range(len(grids))]
    grids["community"] = grids["community"].map(COMMUNITIES)
    n = len(cases)
    cases["category"] = [value(i + 3) for i in range(n)]
    cases["source"] = [value(10 + 2 * (i % 2)) for i in range(n)]  # +1 and @SUM(A1)
    cases["description"] = [value(i + 5) for i in range(n)]
    cases["address"] = [value(i + 6) for i in range(n)]
    cases["reporter_name"] = [value(i + 1) for i in range(n)]
    cases["department"] = cases["department"].where(cases["department"].isna(), DEPARTMENT)
    resources["name"] = [value(i + 2) for i in range(len(resources))]
    tables["meta"]["street_name"] = STREET_NAME
    for user in tables["users"]:
        user["communities"] = [COMMUNITIES[c] for c in user["communities"]]
        if user["department"]:
            user["department"] = DEPARTMENT


def build(path: Path) -> Path:
    """Write the hostile street to ``path``; users and passwords are the fixture's."""
    return fixtures.build(path, edit=make_hostile)
