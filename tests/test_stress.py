"""Stress spikes: an injected stretch of fast, high-pitched speech is found where it is, and recovery is timed."""

from __future__ import annotations

from pathlib import Path

import pytest
from media_factory import concat_audio, duration, speak

from coach_core.analysis.pipeline import analyse
from coach_core.analysis.scoring import resilience_score
from coach_core.analysis.stress import analyse_stress
from coach_core.config import Settings
from coach_core.schema import Question, Series

Q = Question(text="Walk me through how you handle a production incident.", kind="technical",
             key_points=["Stops the bleeding first", "Finds the root cause", "Writes a post-mortem"])  # fmt: skip
CALM_1 = (
    "When an incident starts, my first job is to stop the damage. I check the dashboards, "
    "see which service is failing, and roll back the last change if it is the likely cause. "
    "Then I tell the people who depend on the service what is happening and when they will hear from me again."
)
RUSHED = (
    "But then the rollback failed and the database was locked and customers were calling and I had "
    "no idea what to do next and everything was getting worse by the minute"
)
CALM_2 = (
    "Once things are stable, I look for the root cause with the logs and the metrics. "
    "I write a short post-mortem without blame, with the timeline, what we learned, and the actions we will take. "
    "Finally, I check a week later that those actions were really done."
)


def series(values: list[float | None]) -> Series:
    return Series(t=[i + 0.5 for i in range(len(values))], values=values, unit="")


@pytest.fixture(scope="module")
def calm_and_rushed(media_dir: Path) -> tuple[Path, Path, tuple[float, float]]:
    first = speak(CALM_1, media_dir / "calm1.wav", rate=140, pitch=35)
    rushed = speak(RUSHED, media_dir / "rushed.wav", rate=260, pitch=95)
    second = speak(CALM_2, media_dir / "calm2.wav", rate=140, pitch=35)
    spiked = concat_audio([first, rushed, second], media_dir / "spiked.wav", silence_s=0.4)
    calm = concat_audio([first, second], media_dir / "calm.wav", silence_s=0.4)
    start = duration(first) + 0.4
    return spiked, calm, (start, start + duration(rushed))


def test_injected_spike_is_found_where_it_was_put(calm_and_rushed: tuple[Path, Path, tuple[float, float]]) -> None:
    spiked, _calm, (start, end) = calm_and_rushed
    report = analyse(spiked, Q, settings=Settings())
    stress = report.stress
    assert stress is not None and stress.available
    inside = [s for s in stress.spikes if s.peak_t >= start - 1.5 and s.peak_t <= end + 1.5]
    assert inside, f"no spike near {start:.1f}-{end:.1f} s; spikes: {stress.spikes}"
    spike = inside[0]
    assert {"pitch rise", "speech-rate jump"} & set(spike.drivers)
    # The calm part after the rushed stretch brings the speaker back to baseline within seconds.
    assert spike.recovery_s is not None and spike.peak_t + spike.recovery_s <= end + 5
    # The score explains itself with the recovery it measured.
    resilience = report.scores.details["resilience"]
    assert report.scores.resilience is not None and resilience.score == report.scores.resilience
    assert any("recovery" in i.name for i in resilience.inputs)


def test_calm_answer_has_no_spike_where_the_rushed_one_had(
    calm_and_rushed: tuple[Path, Path, tuple[float, float]],
) -> None:
    _spiked, calm, (start, _end) = calm_and_rushed
    report = analyse(calm, Q, settings=Settings())
    assert report.stress is not None and report.stress.available
    # The same calm sentences, joined without the rushed stretch: nothing stands out around the seam.
    assert not [s for s in report.stress.spikes if abs(s.peak_t - start) < 3]
    assert report.scores.resilience is not None


def test_unrecovered_spike_scores_lower_than_a_quick_recovery() -> None:
    base = [120.0 + (i % 3) for i in range(30)]
    quick = [*base[:12], 260.0, 250.0, *base[14:]]
    stuck = base[:22] + [260.0] * 8  # rises near the end and never comes back down
    quick_stress = analyse_stress({"pitch rise": series(quick)})
    stuck_stress = analyse_stress({"pitch rise": series(stuck)})
    assert len(quick_stress.spikes) == 1
    q = quick_stress.spikes[0]
    assert 11 <= q.start <= 13 and q.end <= 15 and q.recovery_s is not None and q.recovery_s <= 3
    assert len(stuck_stress.spikes) == 1 and stuck_stress.spikes[0].recovery_s is None
    assert resilience_score(stuck_stress).score < resilience_score(quick_stress).score


def test_no_spikes_is_said_and_scored_from_steadiness() -> None:
    steady = analyse_stress({"pitch rise": series([120.0 + (i % 4) for i in range(40)])})
    assert steady.available and not steady.spikes
    detail = resilience_score(steady)
    assert detail.score is not None and detail.score >= 70
    assert "No stress spikes" in detail.summary


def test_too_short_for_a_baseline_is_unavailable_not_guessed() -> None:
    short = analyse_stress({"pitch rise": series([120.0, 200.0, 121.0])})
    assert not short.available and short.reason
    assert resilience_score(short).score is None
