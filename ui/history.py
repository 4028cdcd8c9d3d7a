import io
from collections import defaultdict
from datetime import datetime, time, timedelta

import streamlit as st

from coach_core import questions as bank
from coach_core.sessions import my_data
from coach_core.sessions.lifecycle import delete_session
from coach_core.storage.store import Store
from ui.common import SCORE_NAMES, fmt_score, get_store, open_session, settings
from ui.interview_report import open_interview_report
from ui.report_view import trend_spec

PAGE_SIZE = 25
DAILY_ABOVE = 120  # more sessions than this: chart the daily average instead of every session


@st.dialog("Delete this session?")
def confirm_delete(store: Store, session_id: str, label: str) -> None:
    st.write(f"**{label}**")
    goes = my_data.session_files(store, settings(), session_id)
    st.write("This deletes, for good: " + (", ".join(goes) if goes else "the session's record") + ".")
    a, b = st.columns(2)
    if a.button("Delete", type="primary", key="confirm-del"):
        gone = delete_session(store, settings(), session_id)
        if gone.archive.error:  # the local copies are gone; say which archived ones remain
            st.session_state["history_warning"] = gone.archive.error
        st.rerun()
    if b.button("Cancel", key="cancel-del"):
        st.rerun()


@st.dialog("Delete all your data?")
def confirm_delete_all(store: Store) -> None:
    have = my_data.inventory(store, settings())
    st.write(f"This deletes, for good: {have.describe()}.")
    sure = st.checkbox("I understand this cannot be undone", key="sure-all")
    if st.button("Delete everything", type="primary", disabled=not sure, key="confirm-del-all"):
        gone = my_data.delete_all(store, settings())
        st.session_state["history_notice"] = f"Deleted {gone.describe()}."
        if gone.archive_errors:
            st.session_state["history_warning"] = " ".join(gone.archive_errors)
        st.rerun()


def your_data(store: Store) -> None:
    """Everything of this person: download it all, or delete it all (also the archived copies)."""
    with st.expander("Your data: download or delete everything"):
        st.caption("Every report (JSON), the PDFs made so far, your recordings and your own questions.")
        a, b = st.columns(2)

        def make_zip() -> bytes:
            buffer = io.BytesIO()
            my_data.export_all(store, settings(), buffer)
            return buffer.getvalue()

        a.download_button("Download all my data", make_zip, file_name="interview-coach-my-data.zip",
                          mime="application/zip", on_click="ignore", key="export-all")  # fmt: skip
        if b.button("Delete all my data", key="delete-all"):
            confirm_delete_all(store)


st.title("📈 History")
store = get_store()
if store is None:
    st.stop()
notice = st.session_state.pop("history_notice", None)
if notice:
    st.success(notice)
warning = st.session_state.pop("history_warning", None)
if warning:
    st.warning(warning)

c1, c2, c3, c4 = st.columns([2, 2, 4, 2])
role = c1.selectbox("Role", ["any", *bank.ROLES])
kind = c2.selectbox("Kind", ["any", *bank.KINDS])
practised = store.practised_questions()
question = c3.selectbox("Question", ["any", *[text for text, _ in practised]],
                        format_func=lambda q: q if len(q) < 70 else q[:67] + "…")  # fmt: skip
days = c4.selectbox(
    "Period", [7, 30, 90, 365, 0], index=4, format_func=lambda d: "all time" if d == 0 else f"last {d} days"
)
filters = {"role": None if role == "any" else role, "kind": None if kind == "any" else kind,
           "question_text": None if question == "any" else question,
           "since": datetime.combine(datetime.now().date() - timedelta(days=days), time.min) if days else None}  # fmt: skip

total = store.count_sessions(**filters)
if not total:
    st.info("No sessions match. Practise in the Arena and your progress shows up here.")
    your_data(store)
    st.stop()

trend = store.trends(list(SCORE_NAMES), **filters)
overall = [v for _, _, n, v in trend if n == "overall"]
m1, m2, m3 = st.columns(3)
m1.metric("Sessions analysed", len(overall))
m2.metric("Average overall", fmt_score(sum(overall) / len(overall) if overall else None))
m3.metric("Best overall", fmt_score(max(overall) if overall else None))

if trend:
    daily = len(overall) > DAILY_ABOVE
    lines: dict[str, list[tuple[datetime, float]]] = {}
    for name in SCORE_NAMES:
        points = [(t, v) for _, t, n, v in trend if n == name]
        if not points:
            continue
        if daily:  # thousands of markers say nothing and make the page slow: one point per day
            by_day: dict[datetime, list[float]] = defaultdict(list)
            for t, v in points:
                by_day[datetime.combine(t.date(), time(12))].append(v)
            points = [(d, sum(vs) / len(vs)) for d, vs in sorted(by_day.items())]
        lines[name] = points
    st.vega_lite_chart(spec=trend_spec(lines, daily), width="stretch")
    if daily:
        st.caption(f"{len(overall)} sessions: each point is one day's average.")

past = store.interviews(limit=20)
if past:
    st.subheader("Interviews")
    for iv in past:
        a, b, c = st.columns([3, 7, 1])
        answered = sum(i.session_id is not None for i in iv.items)
        average = (iv.summary or {}).get("averages", {}).get("overall")
        a.write(f"{iv.created_at:%Y-%m-%d %H:%M} · {'finished' if iv.status == 'finished' else 'in progress'}")
        b.write(f"{answered} of {len(iv.items)} answered · average overall {fmt_score(average)} · "
                f"{(iv.role or 'my questions').replace('_', ' ')}")  # fmt: skip
        if c.button("Open", key=f"open-iv-{iv.id}"):
            open_interview_report(iv.id)

st.subheader("Sessions")
pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
page = st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, step=1) if pages > 1 else 1
rows = store.sessions(limit=PAGE_SIZE, offset=(int(page) - 1) * PAGE_SIZE, **filters)
st.caption(
    f"Sessions {(int(page) - 1) * PAGE_SIZE + 1}–{(int(page) - 1) * PAGE_SIZE + len(rows)} of {total}, newest first."
)
for r in rows:
    a, b, c, d = st.columns([3, 6, 1, 1])
    a.write(f"{r.created_at:%Y-%m-%d %H:%M} · {r.status}")
    b.write(f"{fmt_score(r.overall)} · {r.question_text}")
    if c.button("Open", key=f"open-{r.id}"):
        open_session(r.id)
    if d.button("🗑", key=f"del-{r.id}", help="Delete this session and its files (asks first)"):
        confirm_delete(store, r.id, f"{r.created_at:%Y-%m-%d %H:%M} · {r.question_text}")
your_data(store)
