"""Shared fixtures: settings in a temp data dir, and real media generated once per test run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from media_factory import speak

from coach_core.config import Settings

# A technical answer that covers four key points, with fillers written in (6 um/uh, 1 "you know").
CACHE_QUESTION = dict(
    text="How would you speed up a slow, read-heavy web service?",
    key_points=[
        "Put a cache such as Redis in front of the database to serve hot reads",
        "Set a time to live so stale cache entries expire",
        "Add database indexes for the slowest queries",
        "Measure latency before and after each change",
    ],
    kind="technical",
)
CACHE_FULL = (
    "Um, first I would put an in-memory cache in front of the database, so the hot reads never hit it. "
    "Uh, every cache entry gets a time to live, so stale data expires after a few minutes. "
    "Then, um, I would look at the slowest queries and add the right database indexes. "
    "And, uh, you know, I would measure the latency before and after each change, uh, to prove it helped. "
    "Um, that is how I would approach it."
)
CACHE_FULL_FILLERS = 7  # um x3, uh x3, you know x1
CACHE_ONE = (
    "I would put an in-memory cache in front of the database, so the hot reads never hit it. "
    "Our team likes to work in small steps and we enjoy pairing on hard problems. "
    "I also think code review is a good habit for everyone in the team."
)
STAR_STORY = (
    "Two years ago I was working at a payments company, and our nightly data import kept failing. "
    "My task was to make the import reliable before the end of the quarter. "
    "I analysed the logs, then I rewrote the retry logic and added alerts for every failed batch. "
    "As a result, failures dropped by ninety percent and the finance team got their reports on time."
)
STAR_NO_RESULT = (
    "Last year I was working on a mobile app team and the release was late. "
    "My job was to get the release out. "
    "I talked to the designers and I rewrote the login screen myself over a weekend."
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def cache_full_wav(media_dir: Path) -> Path:
    return speak(CACHE_FULL, media_dir / "cache_full.wav")


@pytest.fixture(scope="session")
def cache_report(cache_full_wav: Path):  # -> coach_core.schema.Report (the pipeline is imported on first use)
    """The caching answer analysed once per run, audio only: key points, fillers and a long pause; no face, no
    STAR. Shared by the tests that only read a report (PDF, charts, replay); never modify it."""
    from coach_core.analysis.pipeline import analyse
    from coach_core.schema import Question

    return analyse(cache_full_wav, Question(**CACHE_QUESTION), settings=Settings())


@pytest.fixture(scope="session")
def cache_one_wav(media_dir: Path) -> Path:
    return speak(CACHE_ONE, media_dir / "cache_one.wav")


@pytest.fixture(scope="session")
def star_wav(media_dir: Path) -> Path:
    return speak(STAR_STORY, media_dir / "star.wav")


@pytest.fixture(scope="session")
def star_no_result_wav(media_dir: Path) -> Path:
    return speak(STAR_NO_RESULT, media_dir / "star_no_result.wav")
