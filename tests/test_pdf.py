"""The PDF coaching report, printed by the real Chromium from reports of the real pipeline.

Checks read the PDF back as a person would: its text (pdftotext), its page count (pdfinfo) and its
pictures (pdftoppm PNGs, kept under artifacts/pdf/ for a person to look at).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import numpy as np
import pytest
from media_factory import astronaut_png, face_video
from PIL import Image

from coach_core import questions as question_bank
from coach_core.analysis.pipeline import analyse
from coach_core.config import Settings
from coach_core.reporting import pdf
from coach_core.reporting.charts import Band, line_chart, nice_ticks
from coach_core.reporting.report_context import transcript_tokens
from coach_core.schema import Question, Report, Series, Word

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "pdf"
SCORE_NAMES = ("confidence", "clarity", "resilience", "engagement")
FILLER_PINK = np.array([254, 215, 215])  # the transcript's filler highlight (#fed7d7)


def pdf_text(data: bytes, tmp: Path, name: str = "report") -> str:
    path = tmp / f"{name}.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def flat(text: str) -> str:
    return " ".join(text.split())


def page_count(data: bytes, tmp: Path) -> int:
    path = tmp / "count.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def save_pages(data: bytes, name: str, tmp: Path) -> list[Path]:
    """PNG pages under artifacts/pdf/ for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    source = tmp / f"{name}.pdf"
    source.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(source), str(ARTIFACTS / name)], check=True)
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


@pytest.fixture(scope="module")
def settings_default() -> Settings:
    return Settings()


@pytest.fixture(scope="module")
def video_report(star_wav: Path, media_dir: Path) -> Report:
    """A behavioural STAR answer on video, with the face out of view for a few seconds."""
    png = astronaut_png(media_dir / "pdf_astronaut.png")
    video = face_video(png, star_wav, media_dir / "pdf_star.mp4", no_face_from=8.0, no_face_to=12.0)
    question = question_bank.get("beh-failure-01")
    assert question is not None
    return analyse(video, question, settings=Settings())


# Charts: pure functions, no browser --------------------------------------------------------------


def test_line_chart_breaks_at_gaps_shades_bands_and_escapes_labels() -> None:
    series = Series(t=[0.5, 1.5, 2.5, 3.5, 4.5], values=[1.0, 2.0, None, 3.0, 4.0])
    svg = str(line_chart(series, title="<b>pace</b>", unit="wpm", duration_s=5, bands=[Band(1, 2, "#f00", "x")]))
    assert svg.count("<polyline") == 2  # the gap splits the line
    assert svg.count("<rect") == 1
    assert "<b>" not in svg and "&lt;b&gt;pace&lt;/b&gt;" in svg
    assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    empty = str(line_chart(Series(), title="nothing"))
    assert "no data" in empty and "<polyline" not in empty


def test_nice_ticks_cover_the_range_with_round_steps() -> None:
    ticks = nice_ticks(93.2, 187.6)
    assert ticks[0] <= 93.2 and ticks[-1] >= 187.6
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1 and steps.pop() in {20.0, 25.0, 50.0}
    assert nice_ticks(5, 5)[-1] > 5  # a flat series still gets an axis


# The report, rendered ------------------------------------------------------------------------------


@pytest.mark.browser
def test_audio_only_report_shows_scores_key_points_transcript(
    cache_report: Report, tmp_path: Path, settings_default: Settings
) -> None:
    cov = cache_report.metrics.coverage
    assert cov is not None and cov.matched
    if not cov.missed:  # the answer covers every point; the PDF must show a missed one too, so one is moved
        cache_report = copy.deepcopy(cache_report)
        cov = cache_report.metrics.coverage
        assert cov is not None
        cov.missed.append(cov.matched.pop())
    data = pdf.render_pdf(cache_report, settings=settings_default)
    assert data.startswith(b"%PDF")
    text = flat(pdf_text(data, tmp_path))
    s = cache_report.scores
    assert cache_report.question.text in text
    assert f"OVERALL {s.overall:.0f}" in text
    for name in SCORE_NAMES:
        value = getattr(s, name)
        assert f"{name.title()} {'n/a' if value is None else f'{value:.0f}'} / 100" in text, name
        for item in s.details[name].inputs:
            assert item.name in text  # what drove the score
    assert cov.matched and cov.missed
    for k in cov.matched + cov.missed:
        assert k.key_point in text
    assert f"Key points covered: {len(cov.matched)} of {len(cov.matched) + len(cov.missed)}" in text
    for word in ("database", "latency", "indexes", "slowest"):
        assert word in text
    for tip in cache_report.tips:
        assert flat(tip) in text
    # What could not be measured is said, not left blank.
    assert "Face analysis unavailable: No video in this recording" in text
    assert "checked for behavioural questions only" in text
    # Fillers: counted, and each one marked in the transcript (the pink highlight is really printed).
    m = cache_report.metrics
    assert f"Fillers {m.filler_count} ({m.filler_rate_per_100_words:.1f} per 100 words" in text
    html = pdf.report_html(cache_report)
    marked = [t.text for t in transcript_tokens(cache_report) if t.kind == "filler"]
    assert len(marked) == len(m.filler_events) and html.count('<span class="filler">') == len(marked)
    if m.pauses.long:
        assert f"pause {m.pauses.long[0].duration_s:.1f} s" in text
    # Page numbers from Chromium's footer, on every page.
    pages = page_count(data, tmp_path)
    assert pages >= 2
    for n in range(1, pages + 1):
        assert f"Page {n} of {pages}" in text
    images = save_pages(data, "audio_only", tmp_path)
    assert len(images) == pages
    last = np.asarray(Image.open(images[-1]).convert("RGB")).reshape(-1, 3).astype(int)
    assert (np.abs(last - FILLER_PINK).sum(axis=1) < 12).sum() > 50  # filler highlights drawn on the page


@pytest.mark.browser
@pytest.mark.slow
def test_behavioural_video_report_shows_star_face_and_charts(
    video_report: Report, tmp_path: Path, settings_default: Settings
) -> None:
    data = pdf.render_pdf(video_report, settings=settings_default)
    text = flat(pdf_text(data, tmp_path))
    star = video_report.metrics.star
    assert star is not None and video_report.face is not None and video_report.face.available
    for part in ("situation", "task", "action", "result"):
        p = getattr(star, part)
        assert part.title() in text
        if p.present:
            assert flat(p.sentence)[:40] in text
    assert "STAR structure (Situation, Task" not in text  # the "only for behavioural" note is not shown
    assert "Face analysis unavailable" not in text
    assert "Eye contact (proxy)" in text and "not emotion detection" in text
    assert "face out of view" in text  # the chart legend for the hidden stretch
    assert "Stress index over time" in text
    html = pdf.report_html(video_report)
    assert html.count('<svg class="chart"') == 6  # pace, pitch, loudness, eye contact, smile, stress
    save_pages(data, "behavioural_video", tmp_path)


@pytest.mark.browser
def test_user_text_stays_text_and_nothing_reaches_the_network(
    cache_report: Report, tmp_path: Path, settings_default: Settings
) -> None:
    script = "<script>document.title='pwned'</script>"
    image = "<img src=http://127.0.0.1:9/p.png>"
    question = dataclasses.replace(
        cache_report.question, text=f"Why {script} us?", key_points=[image, *cache_report.question.key_points]
    )
    words = [Word(word=image, start=0.0, end=0.1, probability=1.0), *cache_report.words]
    hostile = dataclasses.replace(cache_report, question=question, words=words, tips=[f"Say {script} less."])
    renderer = pdf.get_renderer(settings_default)
    before = len(renderer.blocked_requests)
    html = pdf.report_html(hostile)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=http://127.0.0.1:9/p.png&gt;" in html
    text = pdf_text(pdf.render_pdf(hostile, settings=settings_default), tmp_path)
    squeezed = "".join(text.split())
    for literal in (script, image):
        assert "".join(literal.split()) in squeezed  # printed as the user typed it
    assert len(renderer.blocked_requests) == before  # the report asked for nothing
    # The check above can see a request: a page that does ask for one is caught and blocked.
    renderer.render('<p>probe</p><img src="http://127.0.0.1:9/probe.png">')
    assert any("127.0.0.1:9/probe.png" in url for url in renderer.blocked_requests[before:])


@pytest.mark.browser
def test_concurrent_renders_share_one_browser(cache_report: Report, tmp_path: Path) -> None:
    settings = Settings()
    renderer = pdf.ChromiumRenderer(pdf.chromium_executable(settings))
    html = pdf.report_html(cache_report)
    results: dict[int, bytes | BaseException] = {}

    def work(i: int) -> None:
        try:
            results[i] = renderer.render(html.replace(cache_report.session_id, f"thread-{i}", 1))
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    try:
        assert all(isinstance(r, bytes) and r.startswith(b"%PDF") for r in results.values()), results
        assert len(results) == 4 and renderer.renders == 4
        assert renderer.launches == 1  # one Chromium served every thread
    finally:
        renderer.close()
    # The module's shared renderer: several sessions at once through render_pdf, still one browser.
    shared: list[bytes] = []
    workers = [threading.Thread(target=lambda: shared.append(pdf.render_pdf(cache_report, settings=settings)))
               for _ in range(3)]  # fmt: skip
    for t in workers:
        t.start()
    for t in workers:
        t.join(300)
    assert len(shared) == 3 and all(d.startswith(b"%PDF") for d in shared)
    assert pdf.get_renderer(settings) is pdf.get_renderer(settings)
    assert pdf.get_renderer(settings).launches == 1


def browser_pids() -> set[int]:
    """Main Chromium processes driven by Playwright (not its helper processes)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        if b"--remote-debugging-pipe" in args and not any(a.startswith(b"--type=") for a in args):
            found.add(int(entry.name))
    return found


@pytest.mark.browser
def test_a_browser_that_died_is_started_again(tmp_path: Path) -> None:
    renderer = pdf.ChromiumRenderer(pdf.chromium_executable(Settings()))
    others = browser_pids()
    try:
        assert renderer.render("<p>first</p>").startswith(b"%PDF")
        mine = browser_pids() - others
        assert len(mine) == 1
        os.kill(mine.pop(), signal.SIGKILL)
        text = pdf_text(renderer.render("<p>after the crash</p>"), tmp_path)
        assert "after the crash" in text and renderer.launches == 2
    finally:
        renderer.close()
    assert browser_pids() - others == set()  # close() leaves no browser behind


@pytest.mark.browser
def test_session_pdf_written_and_cached(cache_report: Report, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    path = pdf.write_session_pdf(settings, cache_report)
    assert path == settings.reports_dir / f"{cache_report.session_id}.pdf"
    assert path.read_bytes().startswith(b"%PDF") and not list(path.parent.glob(".*.tmp"))
    renderer = pdf.get_renderer(settings)
    first = pdf.cached_pdf(cache_report, settings)
    renders = renderer.renders
    assert pdf.cached_pdf(cache_report, settings) == first and renderer.renders == renders  # served from cache
    changed = dataclasses.replace(cache_report, tips=["A different tip."])
    assert "A different tip." in pdf_text(pdf.cached_pdf(changed, settings), tmp_path)
    assert renderer.renders == renders + 1


def test_missing_chromium_is_a_one_line_error(cache_report: Report) -> None:
    with pytest.raises(pdf.PdfError) as info:
        pdf.render_pdf(cache_report, settings=Settings(chromium_path="/nonexistent/chromium"))
    message = str(info.value)
    assert "/nonexistent/chromium" in message and "COACH_CHROMIUM_PATH" in message and "\n" not in message


@pytest.mark.browser
def test_chromium_that_cannot_start_is_a_one_line_error(cache_report: Report) -> None:
    renderer = pdf.ChromiumRenderer("/bin/false")
    try:
        with pytest.raises(pdf.PdfError) as info:
            renderer.render(pdf.report_html(cache_report))
    finally:
        renderer.close()
    assert str(info.value).startswith("Chromium at /bin/false could not start") and "\n" not in str(info.value)


@pytest.mark.browser
def test_no_chromium_left_running_after_exit(tmp_path: Path) -> None:
    """A process that rendered and exited without closing anything leaves no browser behind (atexit)."""
    marker = uuid.uuid4().hex
    code = (
        "from coach_core.reporting import pdf; from coach_core.config import Settings;"
        "assert pdf.get_renderer(Settings()).render('<p>hello</p>').startswith(b'%PDF')"
    )
    env = {**os.environ, "COACH_PDF_TEST_MARKER": marker}
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr

    def left() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    deadline = 60.0
    waited = 0.0
    while left() and waited < deadline:
        threading.Event().wait(0.5)
        waited += 0.5
    assert left() == []


# The command line ----------------------------------------------------------------------------------


def cli(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    environment = {**os.environ, "COACH_DATA_DIR": str(data_dir), **env}
    return subprocess.run([sys.executable, "-m", "coach_core", *args], capture_output=True, env=environment, cwd=ROOT)


@pytest.mark.browser
@pytest.mark.slow
def test_cli_analyze_pdf_then_report_subcommand(tmp_path: Path, cache_one_wav: Path) -> None:
    data = tmp_path / "data"
    out = tmp_path / "answer.pdf"
    run = cli("analyze", str(cache_one_wav), "--question-text", "How would you speed up reads?",
              "--key-point", "Use an in-memory cache", "--pdf", str(out), data_dir=data)  # fmt: skip
    assert run.returncode == 0, run.stderr.decode()
    assert out.read_bytes().startswith(b"%PDF")
    assert "How would you speed up reads?" in flat(pdf_text(out.read_bytes(), tmp_path))
    session_id = re.search(r"session (\w+)", run.stderr.decode()).group(1)

    again = tmp_path / "again.pdf"
    run = cli("report", session_id, "--pdf", str(again), data_dir=data)
    assert run.returncode == 0, run.stderr.decode()
    assert again.read_bytes().startswith(b"%PDF")
    run = cli("report", session_id, data_dir=data)
    assert run.returncode == 0 and (data / "reports" / f"{session_id}.pdf").read_bytes().startswith(b"%PDF")
    run = cli("report", session_id, "--pdf", "-", data_dir=data)
    assert run.returncode == 0 and run.stdout.startswith(b"%PDF")

    for args, env, code, reason in [
        (("report", "nope", "--pdf", str(tmp_path / "x.pdf")), {}, 2, "Session nope not found"),
        (("report", session_id, "--pdf", str(tmp_path / "missing" / "x.pdf")), {}, 2, "Directory not found"),
        (("report", session_id), {"COACH_CHROMIUM_PATH": "/nonexistent/chromium"}, 5, "Chromium not found"),
        (("analyze", str(cache_one_wav), "--question-text", "Q?", "--pdf", str(tmp_path / "y.pdf")),
         {"COACH_CHROMIUM_PATH": "/nonexistent/chromium"}, 5, "Chromium not found"),
    ]:  # fmt: skip
        run = cli(*args, data_dir=data, **env)
        err = run.stderr.decode()
        assert run.returncode == code, err
        assert err.strip().startswith("error: ") and reason in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
    # Chromium missing was found before analysing: no second session was stored.
    history = cli("history", data_dir=data).stdout.decode().strip().splitlines()
    assert len(history) == 1


@pytest.mark.browser
def test_cli_report_for_session_without_analysis(tmp_path: Path, cache_one_wav: Path) -> None:
    from coach_core.sessions.lifecycle import save_recording
    from coach_core.storage.store import Store

    settings = Settings(data_dir=tmp_path / "data")
    store = Store(settings.database)
    try:
        session_id = save_recording(store, settings, cache_one_wav, Question(text="Q?"), original_name="a.wav")
    finally:
        store.close()
    run = cli("report", session_id, "--pdf", str(tmp_path / "x.pdf"), data_dir=settings.data_dir)
    err = run.stderr.decode()
    assert run.returncode == 2 and f"Session {session_id} has no analysis" in err and "Traceback" not in err
    assert not (tmp_path / "x.pdf").exists()


# The dashboard's button -----------------------------------------------------------------------------


@pytest.mark.browser
def test_dashboard_download_pdf_button(cache_report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.testing.v1 import AppTest

    from coach_core.sessions.lifecycle import save_recording
    from coach_core.storage.store import Store

    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(ROOT)
    settings = Settings(data_dir=tmp_path / "data")
    store = Store(settings.database)
    try:
        recording = tmp_path / "a.wav"
        recording.write_bytes(b"RIFF")  # the dashboard only needs the stored report
        session_id = save_recording(store, settings, recording, cache_report.question, original_name="a.wav")
        store.save_report(dataclasses.replace(cache_report, session_id=session_id))
    finally:
        store.close()
    # A spy, not a mock: Streamlit's own add_deferred still runs; we keep the callable a click would run.
    generators = []
    real_add_deferred = MediaFileManager.add_deferred

    def spy(self: MediaFileManager, data_callable, *args, **kwargs) -> str:
        generators.append(data_callable)
        return real_add_deferred(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)

    def dashboard() -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.switch_page("ui/dashboard.py")
        at.session_state["session_id"] = session_id
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    st.cache_resource.clear()
    try:
        at = dashboard()
        buttons = {b.proto.label: b.proto for b in at.get("download_button")}
        assert {"Download JSON", "Download PDF"} <= set(buttons)
        assert not buttons["Download PDF"].disabled and buttons["Download PDF"].deferred_file_id
        assert len(generators) == 1
        data = generators[0]()  # what clicking the button sends
        assert data.startswith(b"%PDF") and session_id in flat(pdf_text(data, tmp_path))
        renders = pdf.get_renderer(settings).renders
        assert generators[0]() == data and pdf.get_renderer(settings).renders == renders  # cached per session

        monkeypatch.setenv("COACH_CHROMIUM_PATH", "/nonexistent/chromium")
        st.cache_resource.clear()
        at = dashboard()
        buttons = {b.proto.label: b.proto for b in at.get("download_button")}
        assert buttons["Download PDF"].disabled and "Download JSON" in buttons
        assert any("PDF report unavailable: Chromium not found" in e.value for e in at.error)
    finally:
        st.cache_resource.clear()
