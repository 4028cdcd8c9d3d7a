import uuid
from pathlib import Path

import streamlit as st

from coach_core import questions as bank
from coach_core.analysis.vocabulary import question_vocabulary
from coach_core.media.decode import UPLOAD_EXTENSIONS, MediaError, probe
from coach_core.sessions.lifecycle import save_recording
from ui.common import get_store, jobs, open_session, settings

st.title("🎤 Arena")
store = get_store()
if store is None:
    st.stop()

STEP_LABELS = {"starting": "Starting", "decoding": "Reading the recording", "transcribing": "Transcribing",
               "content": "Checking content", "voice": "Analysing voice", "face": "Analysing face",
               "scoring": "Scoring", "done": "Done"}  # fmt: skip

# Question picker ------------------------------------------------------------------------------
all_questions = list(bank.bank()) + store.custom_questions()
source = st.radio("Question", ["From the bank", "Random", "My own question"], horizontal=True, key="q_source")
question = None
if source == "My own question":
    text = st.text_area("Your question", key="own_text")
    points = st.text_area("Key points a good answer covers (one per line)", key="own_points")
    kind = st.radio("Kind", ["technical", "behavioural"], horizontal=True, key="own_kind")
    if text.strip():
        question = bank.custom_question(text, points.splitlines(), kind=kind)
        if st.button("Save to my questions"):
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
def submit(data: bytes | Path, name: str) -> None:
    """Check the file, save the recording, then queue its analysis."""
    cfg = settings()
    path = data if isinstance(data, Path) else cfg.data_dir / "incoming" / f"{uuid.uuid4().hex[:8]}-{Path(name).name}"
    if isinstance(data, bytes):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    try:
        probe(path, max_duration_s=cfg.max_duration_s)
        session_id = save_recording(store, cfg, path, question, original_name=name)
    except MediaError as exc:
        st.error(f"This file can't be analysed: {exc}")
        return
    finally:
        if isinstance(data, bytes):
            path.unlink(missing_ok=True)
    if isinstance(data, Path):  # a live recording: the session now holds its own copy
        data.unlink(missing_ok=True)
    analysed_live = st.session_state.pop("live_analyser", None)
    if not isinstance(data, Path) and analysed_live is not None:
        analysed_live.close()  # an upload: what was analysed live belongs to no recording
        analysed_live = None
    # A live recording hands its live analysis to the job (used when jobs run in this process).
    st.session_state["job_id"] = jobs().submit(session_id, live=analysed_live)
    st.session_state["session_id"] = session_id


if question is not None:
    live_tab, audio_tab, upload_tab = st.tabs(["🎥 Camera + microphone", "🎙️ Microphone only", "📁 Upload a file"])
    with live_tab:
        use_camera = st.toggle("Use the camera", value=True, key="use_camera")
        from ui.recorder import live_recorder

        try:
            recorded = live_recorder(use_camera, tuple(question_vocabulary(question.text, question.key_points)))
        except Exception as exc:
            recorded = None
            st.warning(f"Live recording is unavailable here ({type(exc).__name__}). "
                       "Use 'Microphone only' or upload a file.")  # fmt: skip
        st.caption("If the recorder shows **NotAllowedError** or **Permission denied**, your browser is blocking the "
                   "camera or microphone for this page: allow both in the address bar's site settings and press "
                   "**Start answering** again. No camera? Switch off *Use the camera*. Or answer in the "
                   "**Microphone only** tab, or record elsewhere and use **Upload a file**.")  # fmt: skip
        notice = st.session_state.pop("arena_notice", None)
        if notice:
            st.info(notice)
        if recorded is not None:
            submit(recorded, recorded.name)
    with audio_tab:
        clip = st.audio_input("Record your answer", key="audio_answer")
        if clip is not None and st.button("Analyse this recording", key="analyse_audio"):
            submit(clip.getvalue(), "answer.wav")
    with upload_tab:
        upload = st.file_uploader("Audio or video file", type=UPLOAD_EXTENSIONS, key="upload")
        if upload is not None and st.button("Analyse this file", key="analyse_upload"):
            submit(upload.getvalue(), upload.name)


# Progress ---------------------------------------------------------------------------------------
# Only the running state lives in the auto-rerunning fragment. Streamlit 1.67 sometimes leaves the
# next page blank when st.switch_page is called from a fragment with run_every (its timer fires
# during the switch): measured 5 of ~20 switches blank on a loaded 2-core machine, 0 of 25 once the
# button is drawn by the full page. So the fragment asks for a full rerun when the job ends.
@st.fragment(run_every=0.5)
def progress_panel(job_id: str) -> None:
    job = jobs().status(job_id)
    if job["status"] not in ("queued", "running"):
        st.rerun(scope="app")
    label = STEP_LABELS.get(job["step"] or "", "Waiting for a free worker" if job["status"] == "queued" else "")
    st.progress(float(job["progress"] or 0.0), text=f"{label}…")
    st.caption("Your recording is saved. You can leave this page; the analysis keeps going.")


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
