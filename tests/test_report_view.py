"""The dashboard's timeline, the history trend and the replay player (ui/report_view.py).

Real reports from real analyses (espeak answers, the astronaut video); the replay player runs in real
headless Chromium, which plays the recording and must move the cursor and highlight the spoken word.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import CACHE_QUESTION
from media_factory import astronaut_png, face_video

from coach_core.analysis.pipeline import analyse
from coach_core.config import Settings
from coach_core.reporting.report_context import PAUSE_COLOUR
from coach_core.schema import Question, Report
from ui.report_view import replay_charts, replay_html, timeline_spec, trend_spec

CHROMIUM = os.environ.get("COACH_CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def video_report(cache_one_wav: Path, media_dir: Path) -> Report:
    png = astronaut_png(media_dir / "view_astronaut.png")
    video = face_video(png, cache_one_wav, media_dir / "view_face.mp4")
    return analyse(video, Question(**CACHE_QUESTION), settings=Settings())


def _layers(spec: dict) -> dict[str, dict]:
    """The spec's layers by what they draw: 'pause'/'spike' bands, 'left'/'right' lines."""
    out = {}
    for layer in spec["layer"]:
        mark = layer["mark"]
        if mark["type"] == "rect":
            out["pause" if mark["color"] == PAUSE_COLOUR else "spike"] = layer
        else:
            out["right" if layer["encoding"]["y"].get("axis", {}).get("orient") == "right" else "left"] = layer
    return out


def test_timeline_spec_draws_the_measured_series_and_the_long_pauses(cache_report: Report) -> None:
    spec = timeline_spec(cache_report)
    assert spec is not None
    json.dumps(spec)  # plain JSON: Streamlit sends it as is
    layers = _layers(spec)
    pauses = cache_report.metrics.pauses.long
    assert pauses, "the test answer has a long pause"
    assert layers["pause"]["data"]["values"] == [{"start": round(p.start, 2), "end": round(p.end, 2)} for p in pauses]
    left = layers["left"]["data"]["values"]
    assert {r["series"] for r in left} == {"pace (wpm)", "pitch (Hz)"}  # no camera: no eye contact
    pace = [r for r in left if r["series"] == "pace (wpm)"]
    assert [r["t"] for r in pace] == [round(t, 2) for t in cache_report.voice.pace.t]
    right = layers["right"]["data"]["values"]
    assert {r["series"] for r in right} == {"loudness (dBFS)"} and all(
        r["value"] is None or r["value"] >= -60 for r in right
    )
    # a gap in a series stays a gap (the line breaks there) instead of being bridged
    gaps = [v is None for v in cache_report.voice.pitch.values]
    assert [r["value"] is None for r in left if r["series"] == "pitch (Hz)"] == gaps
    assert layers["left"]["mark"]["invalid"] is None
    assert layers["left"]["encoding"]["x"]["scale"]["domain"] == [0, cache_report.duration_s]


def test_timeline_spec_adds_eye_contact_from_the_camera_and_says_none_when_nothing_was_measured(
    video_report: Report,
) -> None:
    spec = timeline_spec(video_report)
    assert spec is not None
    eyes = [r["value"] for r in _layers(spec)["left"]["data"]["values"] if r["series"] == "eye contact (%)"]
    assert eyes and all(v is None or 0 <= v <= 100 for v in eyes)
    assert any(v is not None and v > 1 for v in eyes)  # a share shown in %, not 0-1
    assert timeline_spec(dataclasses.replace(video_report, voice=None, face=None)) is None


def test_trend_spec_one_line_per_score_and_a_single_session_is_not_zoomed_to_milliseconds() -> None:
    t = datetime(2026, 11, 20, 18, 30)
    spec = trend_spec({"overall": [(t, 71.26)], "clarity": [(t, 64.0)]}, daily=False)
    json.dumps(spec)
    layer = spec["layer"][0]
    rows = layer["data"]["values"]
    assert sorted((r["series"], r["value"]) for r in rows) == [("clarity", 64.0), ("overall", 71.3)]
    x = layer["encoding"]["x"]
    lo, hi = (datetime.fromisoformat(v) for v in x["scale"]["domain"])
    assert lo <= t <= hi and hi - lo == timedelta(hours=24)
    assert layer["encoding"]["y"]["scale"]["domain"] == [0, 100]
    assert layer["encoding"]["color"]["scale"]["domain"] == ["overall", "clarity"]

    days = [t + timedelta(days=i) for i in range(5)]
    spec = trend_spec({"overall": [(d, 50.0 + i) for i, d in enumerate(days)]}, daily=True)
    x = spec["layer"][0]["encoding"]["x"]
    assert "scale" not in x and x["axis"]["format"] == "%d %b"


def test_replay_html_is_self_contained_and_light(cache_report: Report, cache_full_wav: Path) -> None:
    page = replay_html(cache_report, cache_full_wav, has_video=False)
    assert page is not None
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|https?://(?!www\.w3\.org/2000/svg)", page)
    assert page.count("<svg") == 3  # pace, pitch, loudness: no face without a camera
    media = len(cache_full_wav.read_bytes()) * 4 / 3
    assert len(page) < media + 300_000, len(page) - media  # the recording, and a few hundred KB of page
    assert "long pause" in page
    assert len(replay_charts(dataclasses.replace(cache_report, voice=None))) == 0


@pytest.mark.browser
def test_replay_cursor_and_word_follow_playback_in_chromium(cache_report: Report, cache_full_wav: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    page_html = replay_html(cache_report, cache_full_wav, has_video=False)
    assert page_html is not None
    words = cache_report.words
    index = len(words) // 2
    target = words[index]
    at = (target.start + target.end) / 2
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.set_content(f"<html><body>{page_html}</body></html>")
            page.wait_for_function("document.getElementById('player').readyState >= 1")
            page.evaluate(f"document.getElementById('player').currentTime = {at}")
            page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {at}) < 0.05")
            page.evaluate("document.getElementById('player').dispatchEvent(new Event('timeupdate'))")
            cursors = page.evaluate("""() => Array.from(document.querySelectorAll('svg.chart')).map(svg => {
                const line = svg.querySelector('line:last-of-type');
                return {x: +line.getAttribute('x1'), x0: +svg.dataset.x0, x1: +svg.dataset.x1, end: +svg.dataset.end};
            })""")
            assert len(cursors) == 3
            for c in cursors:
                assert c["x"] == pytest.approx(c["x0"] + (c["x1"] - c["x0"]) * at / c["end"], abs=0.5)
            now = page.locator(".w.now")  # the word being said at that moment, and only it
            assert now.count() == 1 and now.get_attribute("data-i") == str(index), target.word
            assert not errors, errors
        finally:
            browser.close()
