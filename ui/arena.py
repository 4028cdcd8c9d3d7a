import streamlit as st

from coach_core import questions as bank
from ui.answering import answer_input, progress_panel, submit_answer
from ui.common import get_store, jobs, open_session

st.title("🎤 Arena")
store = get_store()
if store is None:
    st.stop()

# Question picker ------------------------------------------------------------------------------
all_questions = list(bank.bank()) + store.custom_questions()
source = st.radio("Question", ["From the bank", "Random", "My own question"], horizontal=True, key="q_source")
question = None
if source == "My own question":
    text = st.text_area("Your question", key="own_text")
    points = st.text_area("Key points a good answer covers (one per line)", key="own_points")
    kind = st.radio("Kind", ["technical", "behavioural"], horizontal=True, key="own_kind")
    if text.strip():
        try:
            question = bank.custom_question(text, points.splitlines(), kind=kind)
        except ValueError as exc:  # over the limits: say so, never a traceback
            st.error(str(exc))
        if question is not None and st.button("Save to my questions"):
            saved = store.add_custom_question(question)
            st.success(f"Saved as {saved.id}.")
else:
    c1, c2 = st.columns(2)
    role = c1.selectbox("Role", ["any", *bank.ROLES], key="q_role")
    kind = c2.selectbox("Kind", ["any", *bank.KINDS], key="q_kind")
    pool = bank.filter_questions(all_questions, role=None if role == "any" else role,
                                 kind=None if kind == "any" else kind)  # fmt: skip
    if not pool:
        st.warning("No question matches these filters.")
    elif source == "Random":
        if st.button("🎲 Draw a question") or st.session_state.get("drawn") not in {q.id for q in pool}:
            st.session_state["drawn"] = bank.draw(pool).id
        question = next(q for q in pool if q.id == st.session_state["drawn"])
    else:
        question = st.selectbox("Pick a question", pool, format_func=lambda q: q.text, key="q_pick")

if question is not None:
    st.subheader(question.text)
    budget = question.time_budget_s or 120
    st.session_state["time_budget_s"] = budget
    st.caption(f"Time budget: about {int(budget) // 60}:{int(budget) % 60:02d} · {question.kind}")
    if question.is_behavioural:
        hints = question.star_hints or {}
        st.info("**STAR**: " + " · ".join(f"**{p.title()}** — {hints.get(p, '')}".rstrip(" —")
                                          for p in ("situation", "task", "action", "result")))  # fmt: skip
    with st.expander("Key points to cover"):
        for point in question.key_points:
            st.write(f"- {point}")


# Answer -----------------------------------------------------------------------------------------
if question is not None:
    answer = answer_input(question, "arena")
    if answer is not None:
        submitted = submit_answer(store, question, *answer)
        if submitted is not None:
            st.session_state["session_id"], st.session_state["job_id"] = submitted


# Progress ---------------------------------------------------------------------------------------
def job_panel() -> None:
    job_id = st.session_state.get("job_id")
    if not job_id:
        return
    job = jobs().status(job_id)
    if job["status"] in ("queued", "running"):
        progress_panel(job_id)
    elif job["status"] == "finished":
        st.success("Analysis ready.")
        if st.button("Open the dashboard", type="primary", key="open_dash"):
            st.session_state.pop("job_id", None)
            open_session(job["session_id"])
    else:
        st.error(f"Analysis failed: {job['error'] or job['status']}")
        st.caption("Your recording is kept.")
        if st.button("Retry", key="retry_job"):
            st.session_state["job_id"] = jobs().retry(job_id)
            st.rerun()


job_panel()
