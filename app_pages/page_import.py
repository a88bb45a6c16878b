"""数据导入 (admin only): the same import as ``python -m gridpulse import``, from the browser."""

import streamlit as st

from gridpulse import admin_views
from gridpulse.ingest import entry, limits, mapping
from gridpulse.ingest.sources import ImportFileError
from gridpulse.safe_text import md_text
from gridpulse.scope import ADMIN
from gridpulse.strings import t
from gridpulse.ui import cache, session

user = session.current_user()
if user is None or user.role != ADMIN:  # the navigation hides this page; the check is the guard
    st.stop()
st.title(t("nav_import"))
store = cache.store()
if store.is_demo():
    st.info(t("imp_demo_refused_page"))
    st.stop()
st.caption(t("imp_page_intro"))

with st.form("import_form"):
    kind = st.radio(
        t("imp_kind"), mapping.KINDS, format_func=lambda k: t(f"imp_kind_{k}"), horizontal=True, key="imp_kind"
    )
    upload = st.file_uploader(
        t("imp_file"), type=["csv", "txt", "xlsx", "xls", "et", "json", "geojson", "zip", "kml"], key="imp_file"
    )
    # Streamlit refuses a bigger file in the browser, in English: say the limit and the way round it here.
    st.caption(
        t(
            "imp_upload_limit",
            mb=st.get_option("server.maxUploadSize"),
            rows=limits.MAX_ROWS,
            json=limits.size_text(limits.MAX_JSON_BYTES),
        )
    )
    left, right = st.columns(2)
    crs = left.selectbox(t("imp_crs"), admin_views.IMPORT_CRS, format_func=lambda c: t(f"imp_crs_{c}"), key="imp_crs")
    epsg = right.text_input(t("imp_epsg"), key="imp_epsg", placeholder="EPSG:4547")
    sheet = left.text_input(t("imp_sheet"), key="imp_sheet")
    date_order = right.selectbox(t("imp_date_order"), ["", "ymd", "dmy", "mdy"],
                                 format_func=lambda o: t(f"imp_date_order_{o or 'auto'}"), key="imp_date_order")  # fmt: skip
    spec_file = right.file_uploader(t("imp_mapping_file"), type=["json"], key="imp_mapping")
    maps_text = st.text_area(t("imp_maps"), key="imp_maps", placeholder=t("imp_maps_placeholder"))
    submitted = st.form_submit_button(t("imp_start"), type="primary")

if submitted:
    if upload is None:
        st.warning(t("imp_choose_file"))
    else:
        bar = st.progress(0.0, text=t("imp_reading"))
        try:
            summary = entry.import_upload(
                store,
                user,
                kind,
                upload.name,
                upload.getvalue(),
                crs=epsg.strip() or crs,
                sheet=sheet.strip() or None,
                maps_text=maps_text,
                spec_json=spec_file.getvalue() if spec_file else None,
                date_order=date_order or None,
                progress=lambda done, share: bar.progress(share, text=t("imp_progress", n=done)),
            )
        except ImportFileError as err:
            bar.empty()
            st.error(t("imp_failed", error=md_text(err)))  # the message quotes names from the file
        else:
            bar.progress(1.0, text=t("imp_done"))
            st.session_state["imp_last"] = summary.record["import_id"]
            r = summary.record
            cols = st.columns(5)
            for col, key in zip(cols, ("rows_read", "inserted", "updated", "unchanged", "rejected"), strict=True):
                col.metric(t(f"imp_{key}"), f"{r[key]:,}")
            st.caption(t("imp_rate", seconds=summary.seconds, rate=summary.rows_per_second))
            for line in summary.lines()[1:]:
                st.text(line.strip())  # plain text: headers and values from the file are not Markdown
            st.download_button(
                t("imp_save_mapping"),
                admin_views.mapping_json(kind, summary.columns, crs=epsg.strip() or crs, date_order=date_order),
                file_name=t("imp_mapping_download", kind=kind),
                mime="application/json",
                key="imp_mapping_out",
            )

last = st.session_state.get("imp_last")
if last is not None:
    rejects = admin_views.import_rejects_table(store, last)
    st.subheader(t("imp_rejects_title", n=len(rejects)))
    if len(rejects):
        st.dataframe(rejects.head(500), hide_index=True, width="stretch")
        st.download_button(
            t("imp_rejects_download"),
            admin_views.import_rejects_csv(store, last),
            file_name=t("imp_rejects_file", import_id=last),
            mime="text/csv",
            key="imp_rejects_csv",
        )
st.subheader(t("imp_history"))
st.dataframe(admin_views.imports_table(store), hide_index=True, width="stretch")
