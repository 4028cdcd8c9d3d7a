"""Limits that protect a shared server, in a real browser: a live answer stops itself at the length limit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_e2e import (
    ANALYSIS_TIMEOUT_MS,
    PAGE_TIMEOUT_MS,
    WEBRTC_FRAME,
    app_server,
    assert_no_error_shown,
    expect,
    open_arena,
    pick_question,
)
from test_e2e import browser as browser
from test_e2e import media as media
from test_e2e import playwright as playwright

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LIMIT_S = 12


@pytest.fixture(scope="module")
def short_limit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with app_server(tmp_path_factory.mktemp("limits-data"), env={"COACH_MAX_DURATION_S": str(LIMIT_S)}) as url:
        yield url


def test_a_live_answer_stops_itself_at_the_length_limit_and_says_so(browser, short_limit_server: str) -> None:
    """The fake microphone plays a 30-s answer; nobody presses Stop."""
    context = browser.new_context(
        permissions=["camera", "microphone"], base_url=short_limit_server, accept_downloads=True
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    try:
        open_arena(page)
        pick_question(page)
        page.frame_locator(WEBRTC_FRAME).get_by_role("button", name="Start answering").click()
        expect(page.get_by_text(re.compile(r"The recording stops itself in \d+ s"))).to_be_visible()
        expect(page.get_by_text(re.compile(rf"stopped itself at the {LIMIT_S}-second limit"))).to_be_visible()
        expect(page.get_by_text("Analysis ready")).to_be_visible(timeout=ANALYSIS_TIMEOUT_MS)
        assert_no_error_shown(page)
        page.get_by_role("button", name="Open the dashboard").click()
        expect(page.get_by_role("heading", name="Transcript")).to_be_visible()
        with page.expect_download() as download:
            page.get_by_role("button", name="Download JSON").click()
        report = json.loads(Path(download.value.path()).read_text())
        assert LIMIT_S - 8 < report["duration_s"] <= LIMIT_S  # stopped near the limit, not at the 30-s end
        assert report["metrics"]["word_count"] > 5  # what was said before the stop is analysed
    finally:
        page.screenshot(path=str(Path(__file__).resolve().parents[1] / "artifacts" / "e2e" / "last-limits.png"))
        context.close()
