"""Resources are released: the job runner and the store when Streamlit's cache lets them go, a live
recording's analyser and file when its browser session ends, and no live models with a queue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import streamlit as st

from coach_core.config import Settings
from coach_core.live.analyser import LiveAnalyser
from ui.recorder import LiveLeftovers, LiveState, session_leftovers


def fed_analyser() -> LiveAnalyser:
    analyser = LiveAnalyser(Settings(), use_video=False)
    tone = (0.3 * np.sin(np.arange(48000) * 2 * np.pi * 220 / 48000) * 32767).astype(np.int16)
    analyser.add_audio(np.repeat(tone, 2).reshape(1, -1), 48000, channels=2)
    assert analyser.parts().duration_s > 0.9
    return analyser


def test_a_session_that_ends_mid_answer_leaves_no_analyser_and_no_recording(tmp_path: Path) -> None:
    leftovers = LiveLeftovers()
    abandoned, handed = fed_analyser(), fed_analyser()
    unsaved, saved = tmp_path / "a.mkv", tmp_path / "b.mkv"
    for path in (unsaved, saved):
        path.write_bytes(b"\x1a\x45\xdf\xa3 recording")
    for item in (abandoned, handed, unsaved, saved):
        leftovers.keep(item)
    leftovers.hand_over(handed)  # Stop: the analysis job owns these now
    leftovers.hand_over(saved)
    leftovers.release()  # what Streamlit calls when the browser session ends
    assert abandoned.parts().duration_s == 0  # closed: workers stopped, audio freed
    assert not unsaved.exists()
    assert handed.parts().duration_s > 0.9 and saved.exists()  # the job's, untouched
    handed.close()


def test_the_leftovers_are_released_with_the_browser_session() -> None:
    """The hook is Streamlit's own: a session-scoped cached resource with an on_release."""
    info = session_leftovers._info  # what st.cache_resource recorded for this function
    assert info.scope == "session"
    assert info.on_release is LiveLeftovers.release


def test_with_a_queue_the_app_runs_no_live_analysis() -> None:
    import av

    state = LiveState(config=Settings(), analyse=False, leftovers=LiveLeftovers())
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 1920), np.int16), format="s16", layout="stereo")
    frame.sample_rate = 48000
    for _ in range(50):
        state.on_audio(frame)
        state.on_frame(np.zeros((48, 64, 3), np.uint8), None)
    assert state.analyser is None and state.progress() is None
    assert state.started is not None and state.frames == 50  # the timer and the preview still work


def test_clearing_the_cache_shuts_the_job_runner_and_closes_the_store(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    from ui import common

    st.cache_resource.clear()
    store, manager = common.store(), common._job_manager()
    assert store.sessions() == []
    st.cache_resource.clear()  # what a server shutdown or a cache clear does
    with pytest.raises(Exception, match=r"(?i)closed"):
        store.sessions()
    with pytest.raises(RuntimeError, match="shutdown"):
        manager._pool.submit(print)  # type: ignore[attr-defined]
