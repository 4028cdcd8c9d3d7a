"""A whole mock interview in real Chromium with the fake microphone: questions asked aloud, follow-ups
chosen from the analysis, the interview report on the dashboard and as a PDF, and quitting halfway."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest
from media_factory import run, speak
from test_e2e import (
    ANALYSIS_TIMEOUT_MS,
    CHROMIUM,
    PAGE_TIMEOUT_MS,
    QUIET_FLAGS,
    WEBRTC_FRAME,
    app_server,
    assert_no_error_shown,
    expect,
    shot,
)
from test_e2e import playwright as playwright

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The person's own questions (a 15-s budget each, so a 12-s answer is not "far too short"). The fake
# microphone says a complete answer to the caching one, so the others miss their key points.
CACHING = (
    "How would you make a slow, read-heavy service faster?",
    ["Keep the hot data in an in-memory cache", "Cache entries expire after a time to live"],
    "technical",
)
OVERFITTING = ("How do you stop a model from overfitting?",
               ["Use regularisation such as dropout or weight decay", "Check the model on held-out validation data"],
               "technical")  # fmt: skip
FAILURE = (
    "Tell me about a time a project of yours failed.",
    ["Owns the mistake without blaming others", "Says what was learned and changed afterwards"],
    "behavioural",
)
SPOKEN = ("To make it faster I would keep the hot data in an in-memory cache. Every cache entry expires "
          "after a time to live of sixty seconds, and reads drop from fifty to five milliseconds.")  # fmt: skip
ANSWER_S = 12  # each answer is recorded at least this long (the clip loops: a full pass always fits)


@pytest.fixture(scope="module")
def mic_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("iv-media")
    speech = speak(SPOKEN, folder / "speech.wav")
    clip = folder / "answer.wav"  # the speech, then 2 s of quiet before the fake microphone loops it
    run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(speech), "-af", "apad=pad_dur=2", str(clip)])
    return clip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with app_server(tmp_path_factory.mktemp("iv-data")) as url:
        yield url


@pytest.fixture(scope="module")
def page(playwright, mic_clip: Path, server: str) -> Iterator[object]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
        *QUIET_FLAGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic_clip}", "--autoplay-policy=no-user-gesture-required",
    ])  # fmt: skip
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, permissions=["microphone"],
                                  accept_downloads=True, base_url=server)  # fmt: skip
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    yield page
    page.screenshot(path=str(Path(__file__).resolve().parents[1] / "artifacts" / "e2e" / "last-interview.png"),
                    full_page=True)  # fmt: skip
    context.close()
    browser.close()


def add_question(page, text: str, points: list[str], kind: str) -> None:
    page.goto("/questions")
    form = page.get_by_test_id("stForm")
    form.get_by_label("Question").fill(text)
    form.get_by_label("Key points (one per line)").fill("\n".join(points))
    form.get_by_text(kind, exact=True).click()
    form.get_by_label("Time budget (seconds)").fill("15")
    form.get_by_role("button", name="Add").click()
    expect(page.get_by_text(re.compile(r"Added \(custom-"))).to_be_visible()


def record_answer(page) -> None:
    """Answer with the microphone only: start, let the app's clock pass ANSWER_S, stop."""
    if page.get_by_label("Use the camera").is_checked():
        old = page.locator(WEBRTC_FRAME).element_handle()
        page.get_by_role("paragraph").filter(has_text=re.compile(r"^Use the camera$")).click()
        expect(page.get_by_label("Use the camera")).not_to_be_checked()
        # The microphone-only recorder is a new component: wait until the camera one has gone.
        page.wait_for_function("el => !el.isConnected", arg=old)
    recorder = page.frame_locator(WEBRTC_FRAME)
    recorder.get_by_role("button", name="Start answering").click()
    # Any time from ANSWER_S on: the clock is redrawn about once a second, and on a loaded machine a redraw
    # can come late and skip a second (waiting for exactly 0:12 then recorded until the page timeout).
    at_least = "|".join([f"0:{s:02d}" for s in range(ANSWER_S, 60)] + [r"[1-9]\d*:\d\d"])
    expect(page.get_by_text(re.compile(rf"⏱ ({at_least}) of"))).to_be_visible()
    recorder.get_by_role("button", name="Stop").click()


def current_question(page, asked: Collection[str] = ()) -> str:
    """The question on screen, once it is one not asked yet: Streamlit redraws the page element by element,
    so the previous question's heading can still be there after "Question n of 3" has changed."""
    waiting = [q[0] for q in (CACHING, OVERFITTING, FAILURE) if q[0] not in asked]
    heading = page.get_by_role("heading", name=re.compile("|".join(re.escape(q) for q in waiting)))
    expect(heading).to_be_visible()
    return heading.inner_text().strip()


def start_interview(page) -> None:
    page.goto("/interview")
    page.get_by_text("My saved questions").click()
    page.get_by_role("button", name="Start the interview").click()
    expect(page.get_by_text(re.compile(r"Question 1 of 3"))).to_be_visible()


def test_a_three_question_interview_with_follow_ups_report_and_pdf(page) -> None:
    for text, points, kind in (CACHING, OVERFITTING, FAILURE):
        add_question(page, text, points, kind)
    start_interview(page)
    # The interviewer speaks: the question's audio is on the page (made offline by the piper voice).
    expect(page.locator("audio").first).to_have_attribute("src", re.compile(r"/media/"))
    asked: dict[str, str | None] = {}
    for number in (1, 2, 3):
        expect(page.get_by_text(re.compile(rf"Question {number} of 3"))).to_be_visible()  # the page moved on
        question = current_question(page, set(asked))
        record_answer(page)
        expect(page.get_by_text(re.compile(r"No follow-up needed|Follow-up:"))).to_be_visible(
            timeout=ANALYSIS_TIMEOUT_MS
        )
        assert_no_error_shown(page)
        shot(page, f"iv-{number}-reviewed")
        if question == CACHING[0]:
            expect(page.get_by_text("No follow-up needed")).to_be_visible()  # a complete answer: none
            asked[question] = None
            page.get_by_role("button", name=re.compile(r"Next question|Finish")).click()
            continue
        follow_up = page.get_by_text(re.compile(r"^Follow-up: ")).inner_text()
        asked[question] = follow_up
        if question == OVERFITTING[0]:
            # A missed key point: the follow-up is about it, and says why.
            expect(page.get_by_text(re.compile(r"Why: You didn't mention: Use regularisation"))).to_be_visible()
            page.get_by_role("button", name="Skip it: next question").click()
        else:
            expect(page.get_by_text(re.compile(r"Why: You didn't mention: Owns the mistake"))).to_be_visible()
            page.get_by_role("button", name="Answer the follow-up").click()
            record_answer(page)
            expect(page.get_by_text(re.compile(r"Follow-up answered"))).to_be_visible(timeout=ANALYSIS_TIMEOUT_MS)
            page.get_by_role("button", name=re.compile(r"Next question|Finish")).click()
    assert set(asked) == {CACHING[0], OVERFITTING[0], FAILURE[0]}

    # The interview report: every question and follow-up, averages, strongest/weakest, three priorities.
    expect(page.get_by_text("Three priorities for next time")).to_be_visible()
    # Streamlit draws the report element by element and the questions come after the priorities: wait for
    # its last element before reading it (a loaded run read the body half drawn).
    expect(page.get_by_role("button", name="Download PDF")).to_be_visible()
    body = page.locator("[data-testid=stMain]").inner_text()
    for text, _, _ in (CACHING, OVERFITTING, FAILURE):
        assert text in body
    assert "Strongest answer" in body and "Weakest answer" in body
    assert body.count("↪ Follow-up") == 2 and "No follow-up needed" in body
    assert re.search(r"Follow-up: .*\(answered, overall \d+\)", body)
    shot(page, "iv-report")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF").click()
    pdf = Path(download.value.path())
    assert pdf.read_bytes().startswith(b"%PDF")
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split())
    for question in (CACHING[0], OVERFITTING[0], FAILURE[0]):
        assert " ".join(question.split()) in text
    assert text.count("Follow-up:") == 2 and "Three priorities" in text
    with page.expect_download() as download:
        page.get_by_role("button", name="Download JSON").click()
    exported = Path(download.value.path()).read_text()
    assert '"interview"' in exported and exported.count('"follow_up_answer"') == 3

    # History lists the interview as well as its answers.
    page.goto("/history")
    expect(page.get_by_role("heading", name="Interviews")).to_be_visible()
    expect(page.get_by_text(re.compile(r"3 of 3 answered"))).to_be_visible()
    assert_no_error_shown(page)


def test_quitting_halfway_keeps_the_answered_questions(page) -> None:
    start_interview(page)
    record_answer(page)
    expect(page.get_by_text(re.compile(r"No follow-up needed|Follow-up:"))).to_be_visible(timeout=ANALYSIS_TIMEOUT_MS)
    page.goto("/")  # the person leaves
    page.goto("/history")
    # .first: newest first, and an interview left unfinished by a failed test before this one may be listed too.
    expect(page.get_by_text(re.compile(r"in progress")).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"1 of 3 answered")).first).to_be_visible()
    page.goto("/interview")
    expect(page.get_by_text(re.compile(r"unfinished interview .*\(1 of 3 questions answered\)"))).to_be_visible()
    page.get_by_role("button", name="Finish it with what was answered").click()
    expect(page.get_by_text("Three priorities for next time")).to_be_visible()
    expect(page.get_by_text(re.compile(r"1 of 3 questions answered"))).to_be_visible()
    assert_no_error_shown(page)
