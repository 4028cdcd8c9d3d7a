"""End to end in a real headless Chromium against the app server (`streamlit run app.py`) on localhost.

The browser's camera is the astronaut photo (a y4m file) and its microphone is an espeak-ng answer
(a wav file); Chromium loops both. Each scenario also checks what must not happen: no exception
box, no traceback. Screenshots of each page go to artifacts/e2e/ for a person to look at.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from conftest import CACHE_FULL
from media_factory import astronaut_png, run, speak

pytestmark = [pytest.mark.browser, pytest.mark.slow]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "e2e"
CHROMIUM = os.environ.get("COACH_CHROMIUM_PATH", "/usr/bin/chromium")
QUIET_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
WEBRTC_FRAME = 'iframe[title="streamlit_webrtc.component.webrtc_streamer"]'
QUESTION = "A read-heavy service is slow"  # swe-caching-strategy: the spoken answer is about caching
PAGE_TIMEOUT_MS = 120_000  # first render imports the app and starts the model warm-up (2 busy cores)
ANALYSIS_TIMEOUT_MS = 300_000  # transcription + voice + face on a loaded machine

expect.set_options(timeout=PAGE_TIMEOUT_MS)  # every expect polls this long (the default is 5 s)

if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM}", allow_module_level=True)


# Fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def fresh_screenshots() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fake camera (astronaut y4m), the fake microphone and an upload (espeak answers)."""
    folder = tmp_path_factory.mktemp("e2e-media")
    png = astronaut_png(folder / "astronaut.png")
    y4m = folder / "face.y4m"
    run(["ffmpeg", "-y", "-loglevel", "error", "-loop", "1", "-i", str(png), "-vf",
         "scale=640:480:force_original_aspect_ratio=increase,crop=640:480", "-t", "3", "-r", "15",
         "-pix_fmt", "yuv420p", str(y4m)])  # fmt: skip
    broken = folder / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000))  # an mp4 header, then noise
    return {"video": y4m, "answer": speak(CACHE_FULL, folder / "answer.wav"), "broken": broken}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(data: Path, env: dict[str, str] | None = None, args: Sequence[str] = (),
               port: int | None = None) -> Iterator[str]:  # fmt: skip
    """The app as the set-up command starts it (`streamlit run app.py`) on a free port with the data
    dir ``data`` (plus ``env`` and Streamlit ``args``); its URL while running, stopped at the end."""
    port = port or _free_port()
    log = (data / "server.log").open("wb")
    env = {**os.environ, "COACH_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1", *args],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("streamlit did not start:\n" + (data / "server.log").read_text(errors="replace"))
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / f"server-{data.name}.log").write_bytes((data / "server.log").read_bytes())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with app_server(tmp_path_factory.mktemp("e2e-data")) as url:
        yield url


@pytest.fixture(scope="module")
def playwright() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright, media: dict[str, Path]) -> Iterator[object]:
    """Chromium whose camera and microphone are the test files, with permission granted."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
        *QUIET_FLAGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={media['answer']}", f"--use-file-for-fake-video-capture={media['video']}",
    ])  # fmt: skip
    yield browser
    browser.close()


@pytest.fixture
def page(browser, server: str, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, permissions=["camera", "microphone"],
                                  accept_downloads=True, base_url=server)  # fmt: skip
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    yield page
    try:  # what the page showed at the end, pass or fail
        page.screenshot(path=str(SHOTS / f"last-{request.node.name}.png"), full_page=True)
    finally:
        context.close()


# Helpers ----------------------------------------------------------------------------------------
def shot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so the window grows to fit it first."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = size["height"]
    for _ in range(3):  # the content can reflow at the new size: measure again until it fits
        needed = page.evaluate("() => Math.max(...[...document.querySelectorAll('section, [data-testid=stMain]')]"
                               ".map(e => e.scrollHeight), document.body.scrollHeight)")  # fmt: skip
        if needed <= height:
            break
        height = min(needed, 10_000)
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(300)  # one layout pass at the new size
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def assert_no_error_shown(page) -> None:
    """What must never happen: Streamlit's exception box, or a traceback in the page."""
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    assert "Traceback" not in page.locator("body").inner_text()


NAVIGATION = ["Home", "Arena", "Mock interview", "Dashboard", "History", "Question bank"]


def open_arena(page) -> None:
    page.goto("/arena")
    expect(page.get_by_text("Pick a question")).to_be_visible()
    # A deep link as the server's first request once left Streamlit listing every file in pages/
    # (common, recorder …) as a page; the sidebar must hold the app's pages only.
    links = page.get_by_test_id("stSidebarNav").get_by_role("link")
    expect(links).to_have_text([re.compile(rf"^\W*{name}$") for name in NAVIGATION])  # icon, then title


def pick_question(page, text: str = QUESTION) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text="Pick a question").click()
    page.keyboard.type(text)
    page.get_by_role("option", name=re.compile(re.escape(text))).click()
    expect(page.get_by_role("heading", name=re.compile(re.escape(text)))).to_be_visible()


def upload_and_analyse(page, path: Path) -> None:
    """Open the Arena's "Upload a file" tab, give it ``path`` and press Analyse. On a busy machine a rerun
    still drawing the page can land after the tab click and show the first tab again, which hides the
    upload's button: the tab is opened again until the button shows. A rerun can also draw the uploader
    afresh after the file was given to it (run R: the button never showed in 240 s), so the file is
    given again while the uploader does not show it."""
    tab = page.get_by_role("tab", name=re.compile("Upload a file"))
    button = page.get_by_role("button", name="Analyse this file")
    uploader = page.get_by_test_id("stFileUploader")
    tab.click()
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    for _ in range(PAGE_TIMEOUT_MS // 5_000):
        with contextlib.suppress(AssertionError):
            expect(button).to_be_visible(timeout=5_000)
            break
        if tab.get_attribute("aria-selected") != "true":
            tab.click()
        elif uploader.get_by_text(path.name, exact=True).count() == 0:
            uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    expect(uploader.get_by_text(path.name, exact=True)).to_be_visible()  # what the loop looks for
    button.click()


def wait_for_analysis_and_open_dashboard(page, shot_name: str) -> None:
    expect(page.get_by_text("Analysis ready")).to_be_visible(timeout=ANALYSIS_TIMEOUT_MS)
    assert_no_error_shown(page)
    shot(page, shot_name)
    page.get_by_role("button", name="Open the dashboard").click()
    expect(page.get_by_role("heading", name="Transcript")).to_be_visible()


SCORES_JS = """() => {
  const out = {};  // the score row comes first; a comparison with deltas may follow
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const label = m.querySelector('[data-testid="stMetricLabel"]');
    const value = m.querySelector('[data-testid="stMetricValue"]');
    if (label && value && !(label.innerText.trim() in out)) out[label.innerText.trim()] = value.innerText.trim();
  }
  return out;
}"""


def scores(page, names: tuple[str, ...] = ("Overall", "Content", "Confidence", "Clarity")) -> dict[str, str]:
    """The dashboard's score row, read in one go once every named score shows a number."""
    page.wait_for_function(
        f"() => {{ const s = ({SCORES_JS})(); return {list(names)!r}.every(n => /^\\d{{1,3}}$/.test(s[n] || '')); }}",
        timeout=PAGE_TIMEOUT_MS,
    )
    return page.evaluate(SCORES_JS)


def transcript_text(page) -> str:
    words = page.locator(".tx")
    expect(words.first).to_be_visible()
    return words.first.inner_text()


def words_of(text: str) -> list[str]:
    return re.sub(r"[^a-z]+", " ", text.lower()).split()


def heard_share(text: str, script: str) -> float:
    """The share of the transcript's words that are words of the script: it heard this answer (tiny.en's
    exact words on espeak speech differ between CPUs, "cache" comes back as "cash", so no exact words)."""
    said, heard = set(words_of(script)), words_of(text)
    return sum(w in said for w in heard) / max(len(heard), 1)


def assert_dashboard_scored(page) -> str:
    values = scores(page)
    for name in ("Overall", "Content", "Confidence", "Clarity"):
        assert re.fullmatch(r"\d{1,3}", values.get(name, "")), values
    text = " ".join(words_of(transcript_text(page)))
    # The live answer's first seconds may go by before the connection is up (more on a busy machine), so
    # the transcript is some stretch of the script: at least a sentence's worth, mostly the script's words.
    assert len(text.split()) >= 10 and heard_share(text, CACHE_FULL) >= 0.7, text
    assert_no_error_shown(page)
    return text


# Scenarios --------------------------------------------------------------------------------------
def test_live_recording_to_dashboard_pdf_and_history(page, server: str) -> None:
    """Pick a question, answer live from the fake camera and microphone, then read the results."""
    open_arena(page)  # the module's first request is a deep link
    page.goto("/")
    expect(page.get_by_text("Start practising")).to_be_visible()
    assert_no_error_shown(page)
    shot(page, "01-home")

    open_arena(page)
    pick_question(page)
    recorder = page.frame_locator(WEBRTC_FRAME)
    recorder.get_by_role("button", name="Start answering").click()
    # The face light proves frames reach the server; the clock proves the recording runs.
    expect(page.get_by_text("Face in view")).to_be_visible()
    # Any time past 0:00: on a busy machine the face light may come on after the first 10 s.
    expect(page.get_by_text(re.compile(r"⏱ (?!0:00 )\d+:\d\d of \d+:\d\d"))).to_be_visible()
    page.wait_for_timeout(9_000)  # the answer must last a few seconds: the one fixed wait
    shot(page, "02-arena-recording")
    recorder.get_by_role("button", name="Stop").click()
    wait_for_analysis_and_open_dashboard(page, "03-arena-analysed")
    assert_dashboard_scored(page)
    with page.expect_download(timeout=PAGE_TIMEOUT_MS) as download:
        page.get_by_role("button", name="Download PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    shot(page, "04-dashboard-live")
    assert_no_error_shown(page)

    page.goto("/history")
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    expect(page.get_by_text(re.compile(re.escape(QUESTION)))).to_have_count(1)
    # one session, listed once (the selectboxes' "Open" arrows are buttons too: count st.button only)
    expect(page.get_by_test_id("stButton").filter(has_text=re.compile(r"^Open$"))).to_have_count(1)
    shot(page, "05-history")
    assert_no_error_shown(page)

    page.goto("/questions")
    expect(page.get_by_role("heading", name="Add your own question")).to_be_visible()
    expect(page.get_by_text(re.compile(re.escape(QUESTION))).first).to_be_visible()
    shot(page, "05-question-bank")
    assert_no_error_shown(page)


def test_upload_a_wav_to_dashboard(page, media: dict[str, Path]) -> None:
    open_arena(page)
    pick_question(page)
    upload_and_analyse(page, media["answer"])
    wait_for_analysis_and_open_dashboard(page, "06-arena-upload-analysed")
    text = assert_dashboard_scored(page)
    last = " ".join(CACHE_FULL.split(". ")[-3:-1])  # the whole file is heard, to its last sentences
    assert heard_share(last, text) >= 0.6, text
    shot(page, "07-dashboard-upload")


def test_microphone_only_answer_to_dashboard(page) -> None:
    """The st.audio_input path: record a few seconds from the fake microphone, then analyse."""
    open_arena(page)
    pick_question(page)
    page.get_by_role("tab", name=re.compile("Microphone only")).click()
    mic = page.get_by_test_id("stAudioInput")
    mic.get_by_role("button", name=re.compile("^Record")).click()
    expect(mic.get_by_role("button", name=re.compile("^Stop"))).to_be_visible()
    page.wait_for_timeout(9_000)  # the answer must last a few seconds
    mic.get_by_role("button", name=re.compile("^Stop")).click()
    page.get_by_role("button", name="Analyse this recording").click()
    wait_for_analysis_and_open_dashboard(page, "08-arena-microphone-analysed")
    assert_dashboard_scored(page)
    expect(page.get_by_text(re.compile("Eye contact"))).to_have_count(0)  # no camera, no face cues
    shot(page, "08-dashboard-microphone")


def test_broken_upload_gives_a_clear_message(page, media: dict[str, Path]) -> None:
    open_arena(page)
    pick_question(page)
    upload_and_analyse(page, media["broken"])
    message = page.get_by_test_id("stAlert").filter(has_text="can't be analysed")
    expect(message).to_be_visible()
    assert len(message.inner_text().strip().splitlines()) == 1, message.inner_text()
    expect(page.get_by_text("Analysis ready")).to_have_count(0)
    shot(page, "09-arena-broken-upload")
    assert_no_error_shown(page)


def test_microphone_permission_denied_says_what_happened(playwright, server: str) -> None:
    """No fake-UI flag and no permission granted: Chromium refuses getUserMedia."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=[*QUIET_FLAGS, "--use-fake-device-for-media-stream"])  # fmt: skip
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        page = context.new_page()
        open_arena(page)
        recorder = page.frame_locator(WEBRTC_FRAME)
        recorder.get_by_role("button", name="Start answering").click()
        # The component names the browser's refusal; the page explains it and offers the other ways.
        expect(recorder.get_by_text(re.compile("NotAllowedError|Permission denied"))).to_be_visible()
        hint = page.get_by_text(re.compile("blocking the camera or microphone"))
        expect(hint).to_be_visible()
        expect(hint).to_contain_text("Microphone only")
        expect(hint).to_contain_text("Upload a file")
        expect(page.get_by_role("tab", name=re.compile("Microphone only"))).to_be_visible()
        expect(recorder.get_by_role("button", name="Stop")).to_have_count(0)  # nothing is recording
        shot(page, "10-arena-permission-denied")
        assert_no_error_shown(page)
    finally:
        browser.close()
