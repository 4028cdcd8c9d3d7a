"""The audio pipeline on real espeak-ng speech with the real Whisper and MiniLM models."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from conftest import CACHE_FULL, CACHE_FULL_FILLERS, CACHE_QUESTION, STAR_STORY
from media_factory import duration

from coach_core.analysis.pipeline import analyse
from coach_core.analysis.text_metrics import split_sentences
from coach_core.config import Settings
from coach_core.models import engines
from coach_core.schema import Question, Report


@pytest.fixture(scope="module")
def cache_question() -> Question:
    return Question(**CACHE_QUESTION)


@pytest.fixture(scope="module")
def full_report(cache_full_wav: Path, cache_question: Question) -> Report:
    return analyse(cache_full_wav, cache_question, settings=Settings())


def test_fillers_are_kept_and_counted(full_report: Report) -> None:
    m = full_report.metrics
    assert abs(m.filler_count - CACHE_FULL_FILLERS) <= 1, m.fillers
    assert sum(m.fillers.get(k, 0) for k in ("um", "uh", "er")) >= 5
    assert "um" in full_report.transcript.lower()
    # Each filler is located in time, inside the recording.
    assert all(0 <= e.start <= e.end <= full_report.duration_s + 0.1 for e in m.filler_events)


def test_pace_matches_words_over_duration(full_report: Report, cache_full_wav: Path) -> None:
    truth = len(CACHE_FULL.split()) / (duration(cache_full_wav) / 60)
    assert full_report.metrics.wpm == pytest.approx(truth, rel=0.15)
    assert full_report.metrics.speaking_wpm >= full_report.metrics.wpm


def test_transcript_words_are_timed(full_report: Report) -> None:
    words = full_report.words
    assert len(words) > 40
    assert all(w.end >= w.start and 0 <= w.probability <= 1 for w in words)
    assert all(b.start >= a.start for a, b in itertools.pairwise(words))
    assert {"database", "latency", "queries"} <= {w.word.strip(".,").lower() for w in words}


def test_coverage_higher_when_more_key_points_covered(
    full_report: Report, cache_one_wav: Path, cache_question: Question
) -> None:
    one = analyse(cache_one_wav, cache_question, settings=Settings())
    full_cov, one_cov = full_report.metrics.coverage, one.metrics.coverage
    assert full_cov is not None and one_cov is not None
    assert full_cov.score > one_cov.score + 0.2
    assert len(full_cov.matched) >= 3
    assert len(one_cov.matched) <= 2
    assert any("cache" in m.key_point.lower() for m in one_cov.matched)  # the one point it did cover
    assert full_report.scores.content > one.scores.content
    assert any("Not clearly covered" in t for t in one.tips)


def test_star_parts_found_in_scripted_story(star_wav: Path) -> None:
    q = Question(text="Tell me about a time you fixed an unreliable process.", kind="behavioural",
                 key_points=["Explains the concrete actions they personally took", "States a measurable result"])  # fmt: skip
    report = analyse(star_wav, q, settings=Settings())
    star = report.metrics.star
    assert star is not None
    assert star.complete, star.to_dict()
    assert "payment" in star.situation.sentence.lower()
    assert "task" in star.task.sentence.lower()
    # The result comes from the last sentence ("As a result, failures dropped by ninety percent and the
    # finance team got their reports on time"), whichever of its clauses tiny.en's words make plainest.
    last = split_sentences(report.words)[-1]
    assert star.result.start is not None and star.result.start >= last.start - 0.5, star.result
    assert star.situation.start < star.action.start < star.result.start
    assert not any(f.startswith("No result") for f in star.flags)
    assert len(STAR_STORY) > 0


def test_story_without_result_is_flagged(star_no_result_wav: Path) -> None:
    q = Question(text="Tell me about a time you met a tight deadline.", kind="behavioural", key_points=[])
    report = analyse(star_no_result_wav, q, settings=Settings())
    star = report.metrics.star
    assert star is not None and not star.result.present
    assert "result" in star.missing
    assert any(f.startswith("No result") for f in star.flags)
    assert any("could not hear a clear result" in t.lower() for t in report.tips)
    # No key points: content is the STAR structure only, never a guess from nothing.
    assert report.metrics.coverage is None


def test_technical_answer_has_no_star(full_report: Report) -> None:
    assert full_report.metrics.star is None


def test_scores_and_tips_are_explained(full_report: Report) -> None:
    s = full_report.scores
    for value in (s.overall, s.content, s.delivery):
        assert value is not None and 0 <= value <= 100
    assert 3 <= len(full_report.tips) <= 6
    # Tips quote the user's own numbers: the filler tip names the count and rate.
    filler_tip = next(t for t in full_report.tips if "filler" in t)
    assert "per 100 words" in filler_tip
    clarity = s.details["clarity"]
    assert {i.name for i in clarity.inputs} >= {"pace", "filler rate"}
    assert sum(i.points for i in clarity.inputs) == pytest.approx(clarity.score, abs=0.2)


def test_json_contract_and_round_trip(full_report: Report) -> None:
    data = json.loads(json.dumps(full_report.to_dict()))
    for key in ("schema_version", "session_id", "created_at", "question", "duration_s", "language", "transcript",
                "words", "metrics", "scores", "tips"):  # fmt: skip
        assert key in data
    assert set(data["question"]) >= {"id", "text", "role", "kind", "key_points"}
    assert set(data["words"][0]) == {"word", "start", "end", "probability"}
    metrics = data["metrics"]
    for key in ("wpm", "speaking_wpm", "filler_count", "fillers", "filler_rate_per_100_words", "pauses", "hedges",
                "coverage", "star"):  # fmt: skip
        assert key in metrics
    assert set(metrics["pauses"]) >= {"count", "long_count", "longest_s", "total_s"}
    assert set(metrics["coverage"]) >= {"score", "matched", "missed"}
    assert set(data["scores"]) >= {"overall", "content", "delivery"}
    assert data["created_at"].startswith("20") and "T" in data["created_at"]
    assert Report.from_dict(data).to_dict() == data


def test_models_load_once_per_process(cache_one_wav: Path, cache_question: Question) -> None:
    analyse(cache_one_wav, cache_question, settings=Settings())
    before = dict(engines.load_counts)
    analyse(cache_one_wav, cache_question, settings=Settings())
    assert dict(engines.load_counts) == before
    assert before["whisper"] == 1 and before["embedder"] == 1
