"""Each page's logic with Streamlit's AppTest: empty database, with data, with a failed analysis."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import streamlit as st
from conftest import CACHE_QUESTION
from streamlit.testing.v1 import AppTest

from coach_core.schema import Question
from coach_core.sessions.lifecycle import analyse_session, save_recording

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(ROOT)
    st.cache_resource.clear()
    yield tmp_path / "data"
    st.cache_resource.clear()


class PageTest:
    """An AppTest of app.py (real navigation) opened on one page."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        self.session_state = self.at.session_state

    def run(self) -> AppTest:
        self.at.switch_page(self.path)
        return self.at.run()


def page(path: str) -> PageTest:
    return PageTest(path)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_app_entry_renders_home(app_env: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    no_exception(at)
    assert any("Interview Coach" in t.value for t in at.title)


@pytest.mark.parametrize("path", ["ui/home.py", "ui/arena.py", "ui/dashboard.py", "ui/history.py",
                                  "ui/questions.py", "ui/interview.py"])  # fmt: skip
def test_pages_on_empty_database(app_env: Path, path: str) -> None:
    at = page(path).run()
    no_exception(at)


def test_arena_shows_question_budget_and_star(app_env: Path) -> None:
    at = page("ui/arena.py").run()
    at.selectbox(key="q_kind").select("behavioural").run()
    no_exception(at)
    assert any("STAR" in i.value for i in at.info)
    assert any("Time budget" in c.value for c in at.caption)


def test_arena_own_question(app_env: Path) -> None:
    at = page("ui/arena.py").run()
    at.radio(key="q_source").set_value("My own question").run()
    at.text_area(key="own_text").input("How do <b>you</b> test code?").run()
    no_exception(at)
    assert any("How do <b>you</b> test code?" in s.value for s in at.subheader)


def test_questions_page_adds_custom_question(app_env: Path) -> None:
    at = page("ui/questions.py").run()
    at.text_area[0].input("What is our deploy process?")
    at.text_area[1].input("Blue-green\nRollback plan")
    at.button[-1].click().run()
    no_exception(at)
    assert any("Added" in s.value for s in at.success)
    from ui.common import store

    assert [q.text for q in store().custom_questions()] == ["What is our deploy process?"]


@pytest.fixture
def analysed_session(app_env: Path, cache_full_wav: Path) -> str:
    from ui.common import settings, store

    sid = save_recording(store(), settings(), cache_full_wav, Question(**CACHE_QUESTION), original_name="a.wav")
    analyse_session(store(), settings(), sid)
    return sid


def test_dashboard_and_history_with_data(analysed_session: str) -> None:
    at = page("ui/dashboard.py")
    at.session_state["session_id"] = analysed_session
    at = at.run()
    no_exception(at)
    labels = {m.label for m in at.metric}
    assert {"Overall", "Content", "Confidence", "Clarity", "Resilience", "Engagement"} <= labels
    assert any("filler" in md.value.lower() for md in at.markdown)
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any("pace (wpm)" in json.dumps(c) for c in charts)  # the timeline, drawn by Streamlit's Vega
    hist = page("ui/history.py").run()
    no_exception(hist)
    assert any(m.label == "Sessions analysed" and m.value == "1" for m in hist.metric)
    trend = [json.loads(c.proto.spec) for c in hist.get("vega_lite_chart")]
    assert len(trend) == 1 and {r["series"] for r in trend[0]["layer"][0]["data"]["values"]} >= {"overall", "content"}


def arena_once_job_ends(session_id: str, status: str) -> AppTest:
    """The arena, opened on this session's analysis job once the job has ended with ``status``."""
    from ui.common import _job_manager

    job = _job_manager().submit(session_id)
    assert _job_manager().wait(job, timeout=300)["status"] == status
    at = page("ui/arena.py")
    at.session_state["job_id"] = job
    at = at.run()
    no_exception(at)
    return at


def test_arena_job_panel_failed_retry_then_finished_opens_dashboard(app_env: Path, tmp_path: Path,
                                                                    cache_full_wav: Path) -> None:  # fmt: skip
    """The arena's job panel: a failed job says why and retries; a finished one opens its dashboard.

    Both end states are drawn by the full page (not the auto-rerunning fragment): st.switch_page from
    a fragment with run_every left the next page blank in the browser (see ui/arena.py).
    """
    import numpy as np
    from test_bad_input import write_wav

    from ui.common import _job_manager, settings, store

    noise = tmp_path / "noise.wav"
    write_wav(noise, np.random.default_rng(1).normal(0, 0.1, 16000 * 3))
    failed_sid = save_recording(store(), settings(), noise, Question(text="Q?"), original_name="noise.wav")
    at = arena_once_job_ends(failed_sid, "failed")
    assert any(e.value.startswith("Analysis failed:") and "No speech" in e.value for e in at.error)
    failed_job = at.session_state["job_id"]
    at.button(key="retry_job").click().run()
    no_exception(at)
    retried = at.session_state["job_id"]
    assert retried != failed_job and _job_manager().status(retried)["session_id"] == failed_sid
    assert _job_manager().wait(retried, timeout=300)["status"] == "failed"  # noise stays noise

    sid = save_recording(store(), settings(), cache_full_wav, Question(**CACHE_QUESTION), original_name="a.wav")
    at = arena_once_job_ends(sid, "finished")
    assert any(s.value == "Analysis ready." for s in at.success)
    at.button(key="open_dash").click().run()
    no_exception(at)
    assert any("Dashboard" in t.value for t in at.title)
    assert at.session_state["session_id"] == sid and "job_id" not in at.session_state
    assert {"Overall", "Content"} <= {m.label for m in at.metric}


def test_dashboard_shows_failed_analysis_with_retry(app_env: Path, tmp_path: Path) -> None:
    from ui.common import settings, store

    broken = tmp_path / "noise.wav"
    import numpy as np
    from test_bad_input import write_wav

    write_wav(broken, np.random.default_rng(0).normal(0, 0.1, 16000 * 3))
    sid = save_recording(store(), settings(), broken, Question(text="Q?"), original_name="noise.wav")
    with pytest.raises(Exception, match="No speech"):
        analyse_session(store(), settings(), sid)
    at = page("ui/dashboard.py")
    at.session_state["session_id"] = sid
    at = at.run()
    no_exception(at)
    assert any("No speech" in e.value for e in at.error)
    assert any(b.label == "Retry analysis" for b in at.button)
    assert Path(store().session(sid).recording_path).exists()  # the recording is kept
    os.environ.pop("COACH_DATA_DIR", None)
