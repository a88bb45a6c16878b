"""部门考核: every handling department's scorecard against its targets, and its overdue and dissatisfied cases."""

import streamlit as st

from gridpulse import config, scorecard, views
from gridpulse.safe_text import md_text
from gridpulse.scope import LIAISON
from gridpulse.strings import t
from gridpulse.ui import cache, filters, session, widgets

f = filters.current()
st.title(t("dept_title"))
widgets.scope_line(f)
cfg = cache.unscoped(scorecard.settings)
card = cache.view(scorecard.department_scorecard, f, cache.as_of())
st.caption(t("dept_caption", hours=cfg.accept_hours))
if card.empty:
    st.info(t("dept_none"))
    st.stop()

widgets.worst_department(card, cfg)
widgets.status_table(("department_table", f, cache.as_of()), lambda: scorecard.department_table(card, cfg))
st.caption(t("status_legend"))
st.caption(scorecard.score_rule(cfg, "department"))

st.subheader(t("dept_drill"))
scope = session.current_scope()
if scope.role == LIAISON:  # the others are figures only: their cases are not in this user's scope
    st.caption(t("dept_drill_own", department=md_text(scope.department)))
    choices = [scope.department]
else:
    choices = card["key"].tolist()


@session.section
def drill(choices: list[str]) -> None:
    """One department's cases: picking another reruns this part only."""
    dept = st.selectbox(t("unit_department"), choices, key="dept_pick")
    overdue_tab, unhappy_tab = st.tabs([t("dept_overdue"), t("dept_dissatisfied")])
    for tab, kind in ((overdue_tab, "overdue"), (unhappy_tab, "dissatisfied")):
        rows = cache.view(scorecard.action_list, f, cache.as_of(), kind, dept)
        tab.caption(t("drill_rows", n=len(rows), limit=config.MAX_TABLE_ROWS))
        tab.dataframe(views.labelled_cases(rows), hide_index=True, width="stretch")


drill(choices)

st.subheader(t("stage_title"))
st.caption(t("stage_caption"))
widgets.stage_table(f, "department")
