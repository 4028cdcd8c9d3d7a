"""Live recording in the browser with streamlit-webrtc: preview, complete file on the server, live coaching.

Callbacks run on other threads: they never call ``st.*``; they hand state out through
``LiveState`` (a lock-protected holder). The full audio/video goes to a file (Matroska) through
``FileRecorder``; the same frames also feed a ``LiveAnalyser``, which transcribes and follows the
face while the person speaks (so the report is ready seconds after Stop) and gives the live
pace meter, filler counter and face light.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from coach_core.analysis.scoring import PACE_GOOD
from coach_core.config import Settings
from coach_core.live.analyser import LiveAnalyser, LiveProgress
from ui.common import settings


@dataclass
class LiveLeftovers:
    """What a browser session's live recordings leave behind until they are handed over.

    Released with the session (``st.cache_resource(scope="session", on_release=...)``): a tab closed
    mid-answer no longer leaves an analyser polling and its ``.mkv`` on disk.
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    analysers: list[LiveAnalyser] = field(default_factory=list)
    paths: set[Path] = field(default_factory=set)

    def keep(self, item: LiveAnalyser | Path) -> None:
        with self.lock:
            if isinstance(item, Path):
                self.paths.add(item)
            else:
                self.analysers.append(item)

    def hand_over(self, item: LiveAnalyser | Path) -> None:
        """``item`` now belongs to the analysis job (or was saved): the session's end leaves it alone."""
        with self.lock:
            if isinstance(item, Path):
                self.paths.discard(item)
            elif item in self.analysers:
                self.analysers.remove(item)

    def release(self) -> None:
        with self.lock:
            analysers, paths = list(self.analysers), list(self.paths)
            self.analysers.clear()
            self.paths.clear()
        for analyser in analysers:
            analyser.close()
        for path in paths:
            path.unlink(missing_ok=True)


@st.cache_resource(scope="session", on_release=LiveLeftovers.release, show_spinner=False)
def session_leftovers() -> LiveLeftovers:
    return LiveLeftovers()


@dataclass
class LiveState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    frames: int = 0
    started: float | None = None
    first_video_t: float | None = None
    analyser: LiveAnalyser | None = None
    use_camera: bool = True
    config: Settings | None = None  # read in the script thread: callbacks must not touch st.*
    vocabulary: tuple[str, ...] = ()  # the question's domain terms, to bias transcription towards them
    # False when queue workers do the analyses: this process then runs no Whisper or face model live.
    analyse: bool = True
    leftovers: LiveLeftovers | None = None

    def live(self) -> LiveAnalyser | None:
        with self.lock:
            if self.started is None:
                self.started = time.monotonic()
            if self.analyser is None and self.analyse:
                self.analyser = LiveAnalyser(self.config, use_video=self.use_camera, vocabulary=self.vocabulary)
                if self.leftovers is not None:
                    self.leftovers.keep(self.analyser)
            return self.analyser

    def on_audio(self, frame) -> None:
        analyser = self.live()
        if analyser is not None:
            analyser.add_audio_frame(frame)

    def on_frame(self, rgb, t: float | None) -> None:
        analyser = self.live()
        if analyser is None:
            with self.lock:
                self.frames += 1
            return
        with self.lock:
            self.frames += 1
            if t is not None and self.first_video_t is None:
                self.first_video_t = t
            t = None if t is None or self.first_video_t is None else t - self.first_video_t
        if analyser.wants_video(t if t is not None else analyser.clock()):
            analyser.add_video(rgb, t)

    def progress(self) -> LiveProgress | None:
        with self.lock:
            analyser = self.analyser
        return analyser.progress() if analyser is not None else None


STOP_EARLY_S = 3.0  # a live recording is stopped this long before COACH_MAX_DURATION_S (at least)
RAW_AUDIO = {"echoCancellation": False, "noiseSuppression": False, "autoGainControl": False}


def live_recorder(use_camera: bool, vocabulary: tuple[str, ...] = ()) -> Path | None:
    """Show the live recorder; returns the recording's path once the person presses Stop."""
    import av
    from streamlit_webrtc import WebRtcMode, webrtc_streamer
    from streamlit_webrtc.sink import AudioSinkTrack

    from coach_core.media.recording import FileRecorder

    cfg = settings()
    state = st.session_state
    if "live_path" not in state:
        folder = cfg.recordings_dir / "live"
        folder.mkdir(parents=True, exist_ok=True)
        state["live_path"] = str(folder / f"{uuid.uuid4().hex[:12]}.mkv")
        leftovers = session_leftovers()
        leftovers.keep(Path(state["live_path"]))
        # With queue workers the analysis happens there; the live meters would cost a Whisper here.
        analyse = not cfg.queue_url or cfg.queue_fallback == "embedded"
        state["live_state"] = LiveState(config=cfg, analyse=analyse, leftovers=leftovers)
        state["live_was_playing"] = False
    live: LiveState = state["live_state"]
    if live.analyser is None:
        live.use_camera = use_camera
        live.vocabulary = vocabulary
    if "live_audio_sink" not in state:  # one sink per recording: every audio frame, none dropped
        state["live_audio_sink"] = AudioSinkTrack(live.on_audio)
    path = Path(state["live_path"])

    def video_callback(frame):
        rgb = frame.to_ndarray(format="rgb24")
        live.on_frame(rgb, frame.time)
        # A new frame for the preview: streamlit-webrtc re-stamps the frame it sends back, and the
        # input frame object is shared with the recorder through the relay.
        return av.VideoFrame.from_ndarray(rgb, format="rgb24")

    ctx = webrtc_streamer(
        key=f"arena-live-{'av' if use_camera else 'audio'}",
        mode=WebRtcMode.SENDRECV,
        rtc_configuration={"iceServers": json.loads(cfg.ice_servers or "[]")},
        # The browser's voice processing (noise suppression, auto gain, echo cancellation) erases
        # fillers and flattens loudness: the analysis wants the voice as it is.
        media_stream_constraints={"video": use_camera, "audio": RAW_AUDIO},
        # At the length limit the recorder is stopped from here (the buffer must not grow without end).
        desired_playing_state=False if state.get("live_over_limit") else None,
        in_recorder_factory=lambda: FileRecorder(path),
        sendback_audio=False,  # the preview must not play the person's own voice back to them
        sink_audio_track=state["live_audio_sink"],
        video_frame_callback=video_callback if use_camera else None,
        translations={
            "start": "Start answering",
            "stop": "Stop",
            "device_access_denied": "The browser blocked the camera or microphone",
        },
    )
    if ctx.state.playing:
        state["live_was_playing"] = True
        _live_panel(live, use_camera, cfg.max_duration_s)
        return None
    if state.pop("live_over_limit", False):
        state["arena_notice"] = (f"The recording stopped itself at the {_minutes(cfg.max_duration_s)} limit "
                                 "(COACH_MAX_DURATION_S); what you said until then is analysed.")  # fmt: skip
    if state.get("live_was_playing"):
        # Stopped: the live analysis transcribes its tail while the recorder finishes encoding and
        # renames the file into place. Hand both over (the arena registers the analysis for the
        # session's job) and prepare a fresh recording.
        if live.analyser is not None:
            live.analyser.stop()
            state["live_analyser"] = live.analyser
            session_leftovers().hand_over(live.analyser)
        session_leftovers().hand_over(path)  # the arena saves it into the session (or it is reported lost)
        with st.spinner("Saving your recording…"):
            for _ in range(600):
                if path.exists():
                    break
                time.sleep(0.1)
        for key in ("live_path", "live_state", "live_was_playing", "live_audio_sink"):
            state.pop(key, None)
        if path.exists() and path.stat().st_size > 0:
            return path
        st.error("The recording could not be saved (no audio or video reached the app). "
                 "Try again, or use 'Microphone only' or upload a file.")  # fmt: skip
        return None
    return None


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g}-minute" if seconds >= 60 else f"{seconds:g}-second"


@st.fragment(run_every=1.0)
def _live_panel(live: LiveState, use_camera: bool, limit_s: float) -> None:
    budget = st.session_state.get("time_budget_s") or 120
    elapsed = time.monotonic() - live.started if live.started else 0.0
    # Stopped a little before the limit: the stop takes a moment to reach the browser, and a file
    # longer than COACH_MAX_DURATION_S would be refused.
    stop_at = limit_s - max(STOP_EARLY_S, 0.02 * limit_s)
    if elapsed >= stop_at and not st.session_state.get("live_over_limit"):
        st.session_state["live_over_limit"] = True
        st.rerun(scope="app")  # the recorder is drawn again with desired_playing_state=False
    if elapsed >= stop_at - 30:
        st.warning(f"The recording stops itself in {max(0, int(stop_at - elapsed))} s (the "
                   f"{_minutes(limit_s)} limit).")  # fmt: skip
    st.progress(
        min(elapsed / budget, 1.0),
        text=f"⏱ {int(elapsed) // 60}:{int(elapsed) % 60:02d} of {int(budget) // 60}:{int(budget) % 60:02d}",
    )
    if elapsed > budget:
        st.warning("You are over the time budget: wrap up with your result or conclusion.")
    elif elapsed > 0.8 * budget:
        st.info("Time to start wrapping up.")
    progress = live.progress()
    if not live.analyse:
        st.caption("📷 Recording. Pace, fillers and face cues come with the report (analyses run on the queue's "
                   "workers).")  # fmt: skip
        return
    if use_camera:
        light = {True: "🟢 Face in view", False: "🔴 Face not in view", None: "⚪ Looking for your face…"}
        visible = progress.face_visible if progress is not None else None
        eyes = " · 👀 eye contact" if visible and progress is not None and progress.eye_contact else ""
        st.write(light[visible] + eyes)
    if progress is not None and progress.wpm is not None:
        low, high = PACE_GOOD
        pace = "a good pace" if low <= progress.wpm <= high else ("slow down a little" if progress.wpm > high else
                                                                  "a little faster")  # fmt: skip
        st.caption(f"🗣 {progress.wpm:.0f} words/min lately ({pace}; aim for {low:.0f}–{high:.0f}) · "
                   f"{progress.fillers} filler word{'s' if progress.fillers != 1 else ''} so far · "
                   f"updated every few seconds")  # fmt: skip
