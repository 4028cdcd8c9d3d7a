"""Mock interview: the interviewer asks each question aloud, follows up once when the answer calls for it,
and writes an interview report. Every answer is saved as it is given, so leaving keeps what was answered."""

from __future__ import annotations

import random

import streamlit as st

from coach_core import questions as bank
from coach_core.interview.followups import FollowUp, choose_follow_up
from coach_core.interview.model_answers import model_answer, side_by_side
from coach_core.interview.phrasing import rephrase
from coach_core.interview.plan import MAX_QUESTIONS, MIN_QUESTIONS, plan_interview
from coach_core.models.engines import ModelUnavailable
from coach_core.schema import Question
from coach_core.sessions.interviews import finish_interview
from coach_core.storage.store import InterviewRow
from ui.answering import answer_input, progress_panel, submit_answer
from ui.common import fmt_score, get_store, jobs, settings
from ui.interview_report import open_interview_report

st.title("🧑‍💼 Mock interview")
store = get_store()
if store is None:
    st.stop()
state = st.session_state


def say(text: str) -> None:
    """The interviewer says ``text`` (cached audio; nothing when muted). The text is always shown too."""
    if state.get("iv_muted"):
        return
    from coach_core.models import tts

    try:
        st.audio(str(tts.speak(text, settings())), format="audio/wav", autoplay=True)
    except (ModelUnavailable, OSError, ValueError) as exc:
        st.caption(f"🔇 The interviewer's voice is unavailable here ({exc}); read the question instead.")


def follow_up_question(question: Question, follow_up: FollowUp) -> Question:
    """The follow-up as a question of its own: the missed key point is what its answer should cover."""
    points = [follow_up.key_point] if follow_up.key_point else []
    return Question(text=follow_up.text, key_points=points, kind=question.kind, role=question.role,
                    time_budget_s=max(30.0, (question.time_budget_s or 120) / 2), topic="follow-up")  # fmt: skip


def start(questions: list[Question], role: str | None) -> None:
    interview_id = store.create_interview([q.to_dict() for q in questions], role=role)
    state["iv"] = {"id": interview_id, "pos": 0, "step": "ask"}
    from coach_core.models import tts

    try:  # the questions are synthesised while the person reads and answers the first one
        tts.prefetch([q.text for q in questions], settings())
    except ModelUnavailable:
        pass
    st.rerun()


def setup() -> None:
    unfinished = [r for r in store.interviews(limit=10) if r.status == "in_progress"]
    if unfinished:
        r = unfinished[0]
        done = sum(i.session_id is not None for i in r.items)
        st.info(f"You have an unfinished interview from {r.created_at:%Y-%m-%d %H:%M} ({done} of {len(r.items)} "
                "questions answered).")  # fmt: skip
        a, b = st.columns(2)
        if a.button("Resume it", key="iv-resume"):
            position = next((i.position for i in r.items if i.session_id is None), len(r.items))
            state["iv"] = {"id": r.id, "pos": position, "step": "ask"}
            st.rerun()
        if b.button("Finish it with what was answered", key="iv-finish-old"):
            finish_interview(store, r)
            open_interview_report(r.id)
    st.write("The interviewer asks each question aloud (the text is shown too), you answer on camera or with the "
             "microphone, and after each answer you may get one follow-up question. At the end you get an "
             "interview report.")  # fmt: skip
    custom = store.custom_questions()
    source = st.radio("Questions", ["A mix from the bank", "My saved questions"], horizontal=True, key="iv-source")
    own = source == "My saved questions"
    if own and len(custom) < MIN_QUESTIONS:
        st.warning(f"An interview asks at least {MIN_QUESTIONS} questions and you have {len(custom)} saved: add "
                   "more in the Question bank.")  # fmt: skip
        return
    c1, c2 = st.columns(2)
    role = c1.selectbox("Role", bank.ROLES, key="iv-role", disabled=own)
    top = min(MAX_QUESTIONS, len(custom)) if own else MAX_QUESTIONS
    if top > MIN_QUESTIONS:
        length = c2.slider("Number of questions", MIN_QUESTIONS, top, min(4, top), key=f"iv-length-{top}")
    else:
        length = MIN_QUESTIONS
        c2.write(f"{length} questions (all of yours)")
    st.toggle("Mute the interviewer", key="iv_muted")
    if st.button("Start the interview", type="primary", key="iv-start"):
        try:
            planned = plan_interview(role, length, random.Random(), custom if own else None)
        except ValueError as exc:
            st.error(str(exc))
            return
        start(planned, None if own else role)


def progress_strip(row: InterviewRow, position: int) -> None:
    n = len(row.items)
    marks = []
    for item in row.items:
        mark = "✅" if item.session_id else ("▶️" if item.position == position else "⬜")
        marks.append(mark + ("↪" if item.follow_up else ""))
    st.progress(min(position, n) / n, text=f"Question {min(position + 1, n)} of {n}   " + " ".join(marks))


def answer_review(question: Question, session_id: str) -> None:
    """How the answer did, and the model answer beside it (bank questions)."""
    report = store.report(session_id)
    if report is None:
        return
    s = report.scores
    cov = report.metrics.coverage
    st.markdown(f"**Overall {fmt_score(s.overall)}** · content {fmt_score(s.content)} · "
                f"clarity {fmt_score(s.clarity)} · confidence {fmt_score(s.confidence)}")  # fmt: skip
    model = model_answer(question)
    if model is None:
        return
    matched = {m.key_point for m in cov.matched} if cov is not None else set()
    with st.expander("Model answer, and the key points side by side"):
        st.write(model.text)
        say_model = st.button("▶ Hear the model answer", key=f"iv-model-{session_id}")
        if say_model:
            say(model.text)
        st.table([{"Key point": p, "You": "✅" if you else "—", "Model answer": "✅" if it else "—"}
                  for p, you, it in side_by_side(question, matched, model)])  # fmt: skip


def after_analysis(row: InterviewRow, position: int, question: Question, session_id: str) -> None:
    """The answer is analysed: choose the follow-up (at most one) and say why."""
    report = store.report(session_id)
    follow_up = choose_follow_up(question, report) if report is not None else None
    if follow_up is not None:
        follow_up = rephrase(follow_up, question, settings())
    store.set_follow_up(row.id, position, follow_up.to_dict() if follow_up else None)
    state["iv"].update(step="review")
    st.rerun()


def next_question() -> None:
    state["iv"].update(pos=state["iv"]["pos"] + 1, step="ask", job=None)
    st.rerun()


def run(row: InterviewRow) -> None:
    iv = state["iv"]
    position = iv["pos"]
    progress_strip(row, position)
    a, b, c = st.columns([1, 1, 2])
    if iv.get("paused"):
        st.info("The interview is paused. Nothing is recorded; resume when you are ready.")
        if a.button("Resume", type="primary", key="iv-unpause"):
            iv["paused"] = False
            st.rerun()
        return
    if a.button("Pause", key="iv-pause"):
        iv["paused"] = True
        st.rerun()
    if b.button("End the interview", key="iv-end"):
        finish_interview(store, row)
        state.pop("iv", None)
        open_interview_report(row.id)
    c.toggle("Mute the interviewer", key="iv_muted")
    if position >= len(row.items):
        finish_interview(store, row)
        state.pop("iv", None)
        open_interview_report(row.id)
        return
    item = row.items[position]
    question = Question.from_dict(item.question)
    st.subheader(question.text)
    budget = question.time_budget_s or 120
    state["time_budget_s"] = budget
    st.caption(f"Time budget: about {int(budget) // 60}:{int(budget) % 60:02d} · {question.kind}")
    step = iv["step"]
    if step == "ask":
        say(question.text)
        answer = answer_input(question, f"iv-{position}", upload=False)
        if answer is not None:
            submitted = submit_answer(store, question, *answer)
            if submitted is not None:
                store.set_interview_answer(row.id, position, submitted[0])
                iv.update(step="analysing", job=submitted[1])
                st.rerun()
        if st.button("Skip this question", key=f"iv-skip-{position}"):
            next_question()
    elif step in ("analysing", "follow_up_analysing"):
        job = jobs().status(iv["job"])
        if job["status"] in ("queued", "running"):
            st.write("Analysing your answer…" if step == "analysing" else "Analysing your follow-up answer…")
            progress_panel(iv["job"])
        elif job["status"] == "finished" and step == "analysing" and item.session_id:
            after_analysis(row, position, question, item.session_id)
        elif job["status"] == "finished":
            iv.update(step="review")
            st.rerun()
        else:
            st.error(f"The analysis failed: {job['error'] or job['status']}. Your recording is kept.")
            if st.button("Retry the analysis", key=f"iv-retry-{position}"):
                iv["job"] = jobs().retry(iv["job"])
                st.rerun()
            if st.button("Go on to the next question", key=f"iv-fail-next-{position}"):
                next_question()
    elif step == "review":
        if item.session_id:
            answer_review(question, item.session_id)
        follow_up = FollowUp.from_dict(item.follow_up) if item.follow_up else None
        if follow_up is not None and not item.follow_up_session_id:
            st.markdown(f"**Follow-up:** {follow_up.text}")
            st.caption(f"Why: {follow_up.reason}")
            say(follow_up.text)
            x, y = st.columns(2)
            if x.button("Answer the follow-up", type="primary", key=f"iv-fu-{position}"):
                iv["step"] = "follow_up"
                st.rerun()
            if y.button("Skip it: next question", key=f"iv-fu-skip-{position}"):
                next_question()
        else:
            if follow_up is None:
                st.success("No follow-up needed: that answer covered what the question asks.")
            elif item.follow_up_session_id:
                st.markdown(f"**Follow-up answered:** {follow_up.text}")
                answer_review(follow_up_question(question, follow_up), item.follow_up_session_id)
            label = "Next question" if position + 1 < len(row.items) else "Finish: see the interview report"
            if st.button(label, type="primary", key=f"iv-next-{position}"):
                next_question()
    elif step == "follow_up":
        follow_up = FollowUp.from_dict(item.follow_up or {})
        asked = follow_up_question(question, follow_up)
        st.markdown(f"**Follow-up:** {follow_up.text}")
        answer = answer_input(asked, f"iv-{position}-fu", upload=False)
        if answer is not None:
            submitted = submit_answer(store, asked, *answer)
            if submitted is not None:
                store.set_follow_up(row.id, position, item.follow_up, session_id=submitted[0])
                iv.update(step="follow_up_analysing", job=submitted[1])
                st.rerun()


iv = state.get("iv")
current = store.interview(iv["id"]) if iv else None
if current is None or current.status != "in_progress":
    state.pop("iv", None)
    setup()
else:
    run(current)
