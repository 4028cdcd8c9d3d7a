"""The scores: content, the four soft-skill scores (Confidence, Clarity, Resilience, Engagement),
delivery and overall, each with the inputs that drove it.

Every threshold is named here and explained, with its source, in docs/scoring.md. A score
whose inputs are all unavailable is ``None``, never a guess; weights of missing inputs are
dropped and the rest renormalised, and the detail lists what was missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from coach_core.analysis.face import FaceMetrics
from coach_core.analysis.stress import StressAnalysis
from coach_core.analysis.voice import VoiceMetrics
from coach_core.schema import Question, ScoreDetail, ScoreInput, Scores, SpeechMetrics

# Pace (words per minute) for interview answers.
PACE_GOOD = (120.0, 160.0)
PACE_ZERO = (80.0, 220.0)
# Fillers per 100 words: spontaneous speech has ~2-6; under 3 sounds polished.
FILLERS_GOOD, FILLERS_BAD = 3.0, 10.0
HEDGES_GOOD, HEDGES_BAD = 1.0, 5.0
MID_SENTENCE_LONG_PAUSES_BAD = 2.0  # per minute
PAUSES_BETWEEN_IDEAS_GOOD = 4.0  # per minute: some pausing helps listeners
JITTER_GOOD, JITTER_BAD = (
    1.0,
    3.0,
)  # % local jitter (Praat; 1.04% = pathology threshold, sustained vowels)
SHIMMER_GOOD, SHIMMER_BAD = 10.0, 20.0  # % local shimmer in running speech
LOUDNESS_SD_GOOD, LOUDNESS_SD_BAD = 6.0, 12.0  # dB
EYE_CONTACT_BAD, EYE_CONTACT_GOOD = 0.3, 0.8
SPIKES_PER_MIN_BAD = 3.0
PITCH_SD_BAD, PITCH_SD_GOOD = 1.0, 3.0  # semitones
EXPRESSIVENESS_BAD, EXPRESSIVENESS_GOOD = 0.05, 0.4
LEVEL_BAD, LEVEL_GOOD = -45.0, -30.0  # dBFS while speaking
RECOVERY_GOOD, RECOVERY_BAD = 3.0, 15.0  # seconds back to baseline after a spike
STEADINESS_GOOD, STEADINESS_BAD = 0.5, 1.5  # SD of the stress index
CONTENT_COVERAGE_WEIGHT_BEHAVIOURAL = 0.7  # the rest is STAR structure
OVERALL_CONTENT_WEIGHT = 0.4  # the rest is delivery


def lower_is_better(value: float, good: float, bad: float) -> float:
    return float(np.clip((bad - value) / (bad - good), 0.0, 1.0))


def higher_is_better(value: float, bad: float, good: float) -> float:
    return float(np.clip((value - bad) / (good - bad), 0.0, 1.0))


def in_band(value: float, good: tuple[float, float], zero: tuple[float, float]) -> float:
    if good[0] <= value <= good[1]:
        return 1.0
    if value < good[0]:
        return higher_is_better(value, zero[0], good[0])
    return lower_is_better(value, good[1], zero[1])


@dataclass
class Part:
    """One input to a score: its raw value, how it maps to 0..1, and its weight."""

    name: str
    value: float | None
    unit: str
    weight: float
    rate: Callable[[float], float]
    note: str = ""


def combine(parts: list[Part], summary: str) -> ScoreDetail:
    available = [p for p in parts if p.value is not None]
    missing = [p.name for p in parts if p.value is None]
    total = sum(p.weight for p in available)
    if not available or total <= 0:
        return ScoreDetail(score=None, summary="No inputs were available.", unavailable=missing)
    inputs = []
    score = 0.0
    for p in parts:
        if p.value is None:
            inputs.append(
                ScoreInput(
                    name=p.name,
                    value=None,
                    unit=p.unit,
                    points=0.0,
                    weight=0.0,
                    note="unavailable",
                )
            )
            continue
        weight = p.weight / total
        points = 100.0 * weight * p.rate(p.value)
        score += points
        inputs.append(
            ScoreInput(
                name=p.name,
                value=p.value,
                unit=p.unit,
                points=points,
                weight=weight,
                note=p.note,
            )
        )
    return ScoreDetail(score=round(score, 1), inputs=inputs, summary=summary, unavailable=missing)


def _face(face: FaceMetrics | None, attr: str) -> float | None:
    if face is None or not face.available:
        return None
    return getattr(face, attr)


def _voice(voice: VoiceMetrics | None, attr: str) -> float | None:
    return None if voice is None else getattr(voice, attr)


def _lean(voice: VoiceMetrics | None, weight: float) -> float:
    """A voice input's weight, scaled by how far the voice measures can be trusted (quiet or noisy
    recordings: confidence < 1), so the score leans on the other inputs instead."""
    return weight if voice is None else weight * voice.confidence


def _voice_note(voice: VoiceMetrics | None, note: str = "") -> str:
    if voice is None or voice.confidence >= 1.0:
        return note
    return "; ".join(x for x in (note, f"weight x{voice.confidence:.2f}: voice measures less reliable") if x)


def content_score(question: Question, metrics: SpeechMetrics) -> ScoreDetail:
    coverage = metrics.coverage.score if metrics.coverage is not None else None
    parts = [Part("key-point coverage", coverage, "0-1", 1.0, lambda v: v)]
    if question.is_behavioural and metrics.star is not None:
        star = metrics.star
        present = 4 - len(star.missing)
        parts[0].weight = CONTENT_COVERAGE_WEIGHT_BEHAVIOURAL
        parts.append(
            Part(
                "STAR parts present",
                float(present),
                "of 4",
                1 - CONTENT_COVERAGE_WEIGHT_BEHAVIOURAL,
                lambda v: v / 4,
            )
        )
    return combine(parts, "How much of what the question asks for the answer covers.")


def clarity_score(metrics: SpeechMetrics, minutes: float) -> ScoreDetail:
    pauses = metrics.pauses
    between_ideas = (pauses.count - pauses.mid_sentence_long_count) / max(minutes, 1e-6)
    return combine(
        [
            Part("pace", metrics.wpm, "wpm", 0.35, lambda v: in_band(v, PACE_GOOD, PACE_ZERO), "target 120-160"),
            Part("filler rate", metrics.filler_rate_per_100_words, "per 100 words", 0.3,
                 lambda v: lower_is_better(v, FILLERS_GOOD, FILLERS_BAD), "aim under 3"),
            Part("long mid-sentence pauses", pauses.mid_sentence_long_count / max(minutes, 1e-6), "per min", 0.2,
                 lambda v: lower_is_better(v, 0.0, MID_SENTENCE_LONG_PAUSES_BAD), "silences > 1 s inside a sentence"),
            Part("pauses between ideas", between_ideas, "per min", 0.15,
                 lambda v: higher_is_better(v, 0.0, PAUSES_BETWEEN_IDEAS_GOOD), "short pauses help listeners"),
        ],
        "Pace in the target band, clean pauses, few fillers.",
    )  # fmt: skip


def confidence_score(
    metrics: SpeechMetrics,
    voice: VoiceMetrics | None,
    face: FaceMetrics | None,
    stress: StressAnalysis | None,
    minutes: float,
) -> ScoreDetail:
    spikes = None
    if stress is not None and stress.available and face is not None and face.available:
        spikes = len(stress.spikes) / max(minutes, 1e-6)
    return combine(
        [
            Part("jitter", _voice(voice, "jitter_local_pct"), "%", _lean(voice, 0.1),
                 lambda v: lower_is_better(v, JITTER_GOOD, JITTER_BAD), _voice_note(voice)),
            Part("shimmer", _voice(voice, "shimmer_local_pct"), "%", _lean(voice, 0.1),
                 lambda v: lower_is_better(v, SHIMMER_GOOD, SHIMMER_BAD), _voice_note(voice)),
            Part("volume steadiness", _voice(voice, "loudness_variability_db"), "dB SD", _lean(voice, 0.1),
                 lambda v: lower_is_better(v, LOUDNESS_SD_GOOD, LOUDNESS_SD_BAD), _voice_note(voice)),
            Part("steady gaze (eye contact)", _face(face, "eye_contact_ratio"), "share", 0.2,
                 lambda v: higher_is_better(v, EYE_CONTACT_BAD, EYE_CONTACT_GOOD), "face proxy"),
            Part("stress spikes", spikes, "per min", 0.1, lambda v: lower_is_better(v, 0.0, SPIKES_PER_MIN_BAD)),
            Part("hedges", metrics.hedge_rate_per_100_words, "per 100 words", 0.2,
                 lambda v: lower_is_better(v, HEDGES_GOOD, HEDGES_BAD), "'I think', 'maybe', ..."),
            Part("fillers", metrics.filler_rate_per_100_words, "per 100 words", 0.2,
                 lambda v: lower_is_better(v, FILLERS_GOOD, FILLERS_BAD)),
        ],
        "A steady voice, a steady gaze, few stress cues, few hedges and fillers.",
    )  # fmt: skip


def engagement_score(voice: VoiceMetrics | None, face: FaceMetrics | None) -> ScoreDetail:
    return combine(
        [
            Part("pitch variation", _voice(voice, "pitch_variability_st"), "semitones SD", _lean(voice, 0.3),
                 lambda v: higher_is_better(v, PITCH_SD_BAD, PITCH_SD_GOOD), _voice_note(voice)),
            Part("facial expressiveness", _face(face, "expressiveness"), "0-1", 0.2,
                 lambda v: higher_is_better(v, EXPRESSIVENESS_BAD, EXPRESSIVENESS_GOOD), "face proxy"),
            Part("eye contact", _face(face, "eye_contact_ratio"), "share", 0.25,
                 lambda v: higher_is_better(v, EYE_CONTACT_BAD, EYE_CONTACT_GOOD), "face proxy"),
            Part("vocal energy", _voice(voice, "loudness_dbfs"), "dBFS", _lean(voice, 0.15),
                 lambda v: higher_is_better(v, LEVEL_BAD, LEVEL_GOOD), _voice_note(voice)),
            Part("sentence endings held", None if voice is None else 1.0 - voice.trailing_off_ratio, "share",
                 _lean(voice, 0.1), lambda v: v, _voice_note(voice, "not trailing off")),
        ],
        "A lively voice and face, eye contact and energy.",
    )  # fmt: skip


def resilience_score(stress: StressAnalysis | None) -> ScoreDetail:
    if stress is None or not stress.available:
        reason = stress.reason if stress is not None else "No stress cues could be measured."
        return ScoreDetail(score=None, summary=reason, unavailable=["stress cues"])
    if not stress.spikes:
        return combine(
            [Part("steadiness (stress index SD)", stress.steadiness_sd, "z", 1.0,
                  lambda v: lower_is_better(v, STEADINESS_GOOD, STEADINESS_BAD))],
            "No stress spikes were found, so this is scored from how steady your cues stayed.",
        )  # fmt: skip
    recoveries = [s.recovery_s if s.recovery_s is not None else RECOVERY_BAD for s in stress.spikes]
    unrecovered = sum(s.recovery_s is None for s in stress.spikes) / len(stress.spikes)
    return combine(
        [
            Part("mean recovery time", float(np.mean(recoveries)), "s", 0.7,
                 lambda v: lower_is_better(v, RECOVERY_GOOD, RECOVERY_BAD), f"{len(stress.spikes)} spike(s)"),
            Part("spikes not recovered", unrecovered, "share", 0.3, lambda v: 1.0 - v),
        ],
        "How fast you return to your own baseline after a stress spike.",
    )  # fmt: skip


def score_all(
    question: Question,
    metrics: SpeechMetrics,
    duration_s: float,
    voice: VoiceMetrics | None = None,
    face: FaceMetrics | None = None,
    stress: StressAnalysis | None = None,
) -> Scores:
    minutes = max(duration_s, 1e-6) / 60.0
    details = {
        "content": content_score(question, metrics),
        "confidence": confidence_score(metrics, voice, face, stress, minutes),
        "clarity": clarity_score(metrics, minutes),
        "resilience": resilience_score(stress),
        "engagement": engagement_score(voice, face),
    }
    soft = [details[k].score for k in ("confidence", "clarity", "resilience", "engagement")]
    soft_available = [s for s in soft if s is not None]
    delivery = round(float(np.mean(soft_available)), 1)
    details["delivery"] = ScoreDetail(
        score=delivery,
        summary="Mean of the soft-skill scores that could be measured.",
        unavailable=[
            k for k, s in zip(("confidence", "clarity", "resilience", "engagement"), soft, strict=True) if s is None
        ],
    )
    content = details["content"].score
    if content is None:
        overall = delivery
        summary = "Delivery only: the question has no key points to check content against."
    else:
        overall = round(
            OVERALL_CONTENT_WEIGHT * content + (1 - OVERALL_CONTENT_WEIGHT) * delivery,
            1,
        )
        summary = f"{OVERALL_CONTENT_WEIGHT:.0%} content + {1 - OVERALL_CONTENT_WEIGHT:.0%} delivery."
    details["overall"] = ScoreDetail(score=overall, summary=summary)
    return Scores(
        overall=overall,
        content=content,
        delivery=delivery,
        confidence=details["confidence"].score,
        clarity=details["clarity"].score,
        resilience=details["resilience"].score,
        engagement=details["engagement"].score,
        details=details,
    )
