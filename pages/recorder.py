"""Live recording in the browser with streamlit-webrtc: preview, complete file on the server, face light.

Callbacks run on other threads: they never call ``st.*``; they hand state out through
``LiveState`` (a lock-protected holder). The full audio/video goes to a file through aiortc's
MediaRecorder (Matroska: safer than MP4, whose timestamps are known to break upstream).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from pages.common import settings


@dataclass
class LiveState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    face_visible: bool | None = None
    frames: int = 0
    started: float | None = None
    tracker: object | None = None

    def on_frame(self, rgb) -> None:
        with self.lock:
            self.frames += 1
            if self.started is None:
                self.started = time.monotonic()
            if self.frames % 5:
                return
            if self.tracker is None:
                from coach_core.face import FaceTracker

                self.tracker = FaceTracker(num_faces=1)
            result = self.tracker.process(time.monotonic(), rgb)  # type: ignore[attr-defined]
            self.face_visible = result.visible


def live_recorder(use_camera: bool) -> Path | None:
    """Show the live recorder; returns the recording's path once the person presses Stop."""
    import av
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    from coach_core.recording import FileRecorder

    cfg = settings()
    state = st.session_state
    if "live_path" not in state:
        folder = cfg.recordings_dir / "live"
        folder.mkdir(parents=True, exist_ok=True)
        state["live_path"] = str(folder / f"{uuid.uuid4().hex[:12]}.mkv")
        state["live_state"] = LiveState()
        state["live_was_playing"] = False
    live: LiveState = state["live_state"]
    path = Path(state["live_path"])

    def video_callback(frame):
        rgb = frame.to_ndarray(format="rgb24")
        live.on_frame(rgb)
        # A new frame for the preview: streamlit-webrtc re-stamps the frame it sends back, and the
        # input frame object is shared with the recorder through the relay.
        return av.VideoFrame.from_ndarray(rgb, format="rgb24")

    ctx = webrtc_streamer(
        key=f"arena-live-{'av' if use_camera else 'audio'}",
        mode=WebRtcMode.SENDRECV,
        rtc_configuration={"iceServers": json.loads(cfg.ice_servers or "[]")},
        media_stream_constraints={"video": use_camera, "audio": True},
        in_recorder_factory=lambda: FileRecorder(path),
        sendback_audio=False,  # the preview must not play the person's own voice back to them
        video_frame_callback=video_callback if use_camera else None,
        translations={
            "start": "Start answering",
            "stop": "Stop",
            "device_access_denied": "The browser blocked the camera or microphone",
        },
    )
    if ctx.state.playing:
        state["live_was_playing"] = True
        _live_panel(live, use_camera)
        return None
    if state.get("live_was_playing"):
        # Stopped: the recorder finishes encoding, then renames the file into place. Hand it over
        # and prepare a fresh one.
        with st.spinner("Saving your recording…"):
            for _ in range(600):
                if path.exists():
                    break
                time.sleep(0.1)
        for key in ("live_path", "live_state", "live_was_playing"):
            state.pop(key, None)
        if path.exists() and path.stat().st_size > 0:
            return path
        st.error("The recording could not be saved (no audio or video reached the app). "
                 "Try again, or use 'Microphone only' or upload a file.")  # fmt: skip
        return None
    return None


@st.fragment(run_every=1.0)
def _live_panel(live: LiveState, use_camera: bool) -> None:
    budget = st.session_state.get("time_budget_s") or 120
    elapsed = time.monotonic() - live.started if live.started else 0.0
    st.progress(
        min(elapsed / budget, 1.0),
        text=f"⏱ {int(elapsed) // 60}:{int(elapsed) % 60:02d} of {int(budget) // 60}:{int(budget) % 60:02d}",
    )
    if elapsed > budget:
        st.warning("You are over the time budget: wrap up with your result or conclusion.")
    elif elapsed > 0.8 * budget:
        st.info("Time to start wrapping up.")
    if use_camera:
        light = {True: "🟢 Face in view", False: "🔴 Face not in view", None: "⚪ Looking for your face…"}
        st.write(light[live.face_visible])
