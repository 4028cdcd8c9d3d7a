"""The interview report on the dashboard: each question with its scores and follow-up, averages, the
strongest and weakest answer, three priorities; as a PDF and as JSON."""

from __future__ import annotations

import json

import streamlit as st

from coach_core.interview.summary import SCORE_NAMES
from coach_core.reporting.pdf import PdfError
from coach_core.sessions import interviews
from coach_core.storage.store import InterviewRow, Store
from ui.common import fmt_score, open_session, settings


def open_interview_report(interview_id: str) -> None:
    st.session_state["interview_id"] = interview_id
    st.session_state.pop("session_id", None)
    st.switch_page("ui/dashboard.py")


def render_interview_report(store: Store, row: InterviewRow) -> None:
    summary = interviews.summary_of(store, row)
    state = "finished" if row.status == "finished" else "in progress"
    st.subheader(f"Interview of {row.created_at:%Y-%m-%d %H:%M} · {state}")
    st.caption(f"{summary.answered} of {len(summary.questions)} questions answered · "
               f"{summary.follow_ups_asked} follow-ups asked, {summary.follow_ups_answered} answered")  # fmt: skip
    cols = st.columns(len(SCORE_NAMES))
    for col, name in zip(cols, SCORE_NAMES, strict=True):
        col.metric(f"Average {name}", fmt_score(summary.averages.get(name)))
    if summary.strongest is not None and summary.weakest is not None:
        best, worst = summary.questions[summary.strongest], summary.questions[summary.weakest]
        st.markdown(f"**Strongest answer:** Q{best.number} · {best.question}  \n"
                    f"**Weakest answer:** Q{worst.number} · {worst.question}")  # fmt: skip
    st.markdown("#### Three priorities for next time")
    st.markdown("\n".join(f"{i}. {p}" for i, p in enumerate(summary.priorities, 1)))
    st.markdown("#### Question by question")
    for q in summary.questions:
        with st.container(border=True):
            score = fmt_score(q.scores.get("overall")) if q.answered else "not answered"
            st.markdown(f"**Q{q.number}. {q.question}** · {q.kind} · overall {score}")
            if q.key_points_missed:
                st.caption(f"Missed {len(q.key_points_missed)} of {q.key_points_total} key points: "
                           + "; ".join(q.key_points_missed))  # fmt: skip
            if q.follow_up is not None:
                answered = (f"answered, overall {fmt_score(q.follow_up_scores.get('overall'))}"
                            if q.follow_up_session_id else "not answered")  # fmt: skip
                st.markdown(f"↪ Follow-up: *{q.follow_up.text}* ({answered})  \n_Why: {q.follow_up.reason}_")
            elif q.answered:
                st.caption("No follow-up needed.")
            if q.session_id and st.button("Open this answer", key=f"ivr-open-{q.number}"):
                st.session_state.pop("interview_id", None)
                open_session(q.session_id)
    a, b = st.columns(2)
    # Built on click (it reads every answer's report), like the PDF.
    a.download_button("Download JSON", lambda: json.dumps(interviews.interview_export(store, row), indent=2),
                      file_name=f"interview-coach-interview-{row.id}.json", mime="application/json",
                      on_click="ignore", key="ivr-json")  # fmt: skip
    try:
        from coach_core.reporting.interview_pdf import render_interview_pdf

        cfg = settings()
        b.download_button("Download PDF", lambda: render_interview_pdf(summary, row.created_at, row.role, cfg),
                          file_name=f"interview-coach-interview-{row.id}.pdf", mime="application/pdf",
                          on_click="ignore", key="ivr-pdf")  # fmt: skip
    except PdfError as exc:
        b.error(f"PDF unavailable: {exc}")
