"""Answering a question, shared by the Arena and the mock interview: record (camera + microphone,
microphone only, or a file), save the recording first, then queue its analysis and follow it."""

from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st

from coach_core.analysis.vocabulary import question_vocabulary
from coach_core.media.decode import UPLOAD_EXTENSIONS, MediaError, probe
from coach_core.schema import Question
from coach_core.sessions.lifecycle import save_recording
from coach_core.storage.store import Store
from ui.common import jobs, settings

STEP_LABELS = {"starting": "Starting", "decoding": "Reading the recording", "transcribing": "Transcribing",
               "content": "Checking content", "voice": "Analysing voice", "face": "Analysing face",
               "scoring": "Scoring", "done": "Done"}  # fmt: skip
PERMISSION_HELP = (
    "If the recorder shows **NotAllowedError** or **Permission denied**, your browser is blocking the camera or "
    "microphone for this page: allow both in the address bar's site settings and press **Start answering** again. "
    "No camera? Switch off *Use the camera*. Or answer in the **Microphone only** tab, or record elsewhere and use "
    "**Upload a file**."
)


def submit_answer(store: Store, question: Question, data: bytes | Path, name: str) -> tuple[str, str] | None:
    """Check the file, save the recording (before anything else), then queue its analysis.

    Returns (session id, job id), or None after telling the person why the file was refused.
    """
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
        return None
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
    return session_id, jobs().submit(session_id, live=analysed_live)


def answer_input(question: Question, key: str, *, upload: bool = True) -> tuple[bytes | Path, str] | None:
    """The recorder tabs; returns the answer (a live recording's path, or bytes and a name) once given."""
    from ui.recorder import live_recorder

    names = ["🎥 Camera + microphone", "🎙️ Microphone only"] + (["📁 Upload a file"] if upload else [])
    tabs = st.tabs(names)
    with tabs[0]:
        use_camera = st.toggle("Use the camera", value=True, key="use_camera")
        try:
            recorded = live_recorder(use_camera, tuple(question_vocabulary(question.text, question.key_points)))
        except Exception as exc:
            recorded = None
            st.warning(f"Live recording is unavailable here ({type(exc).__name__}). "
                       "Use 'Microphone only' or upload a file.")  # fmt: skip
        st.caption(PERMISSION_HELP)
        notice = st.session_state.pop("arena_notice", None)
        if notice:
            st.info(notice)
        if recorded is not None:
            return recorded, recorded.name
    with tabs[1]:
        clip = st.audio_input("Record your answer", key=f"{key}-audio")
        if clip is not None and st.button("Analyse this recording", key=f"{key}-analyse-audio"):
            return clip.getvalue(), "answer.wav"
    if upload:
        with tabs[2]:
            file = st.file_uploader("Audio or video file", type=UPLOAD_EXTENSIONS, key=f"{key}-upload")
            if file is not None and st.button("Analyse this file", key=f"{key}-analyse-upload"):
                return file.getvalue(), file.name
    return None


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
