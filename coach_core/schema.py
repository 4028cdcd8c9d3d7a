"""Typed results that flow from the pipeline to the store, the dashboard, the PDF and the JSON export.

The JSON report is a public contract: field names here are kept; new fields are additions only.
``Report.to_dict()`` is the JSON export and ``Report.from_dict()`` reads it back.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1


def to_plain(value: Any) -> Any:
    """Dataclasses, lists and dicts to JSON-ready plain values (floats rounded for readability)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 4)
    return value


def from_plain(cls: Any, data: Any) -> Any:
    """Inverse of :func:`to_plain` for the annotated type ``cls``; unknown keys are ignored."""
    if data is None:
        return None
    origin = typing.get_origin(cls)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(cls) if a is not type(None)]
        return from_plain(options[0], data) if len(options) == 1 else data
    if origin is list:
        (item,) = typing.get_args(cls) or (Any,)
        return [from_plain(item, v) for v in data]
    if origin is dict:
        _, item = typing.get_args(cls) or (Any, Any)
        return {k: from_plain(item, v) for k, v in data.items()}
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        kwargs = {f.name: from_plain(hints[f.name], data[f.name]) for f in dataclasses.fields(cls) if f.name in data}
        return cls(**kwargs)  # type: ignore[operator]  # cls is a dataclass type here
    if cls is float and isinstance(data, int):
        return float(data)
    return data


class Plain:
    """Mixin: ``to_dict`` / ``from_dict`` for the report's dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        return from_plain(cls, data)


@dataclass
class Question(Plain):
    text: str
    key_points: list[str] = field(default_factory=list)
    kind: str = "technical"  # "technical" | "behavioural"
    role: str = "general"
    id: str | None = None
    topic: str | None = None
    time_budget_s: float | None = None
    star_hints: dict[str, str] | None = None

    @property
    def is_behavioural(self) -> bool:
        return self.kind == "behavioural"


@dataclass
class Word(Plain):
    word: str
    start: float
    end: float
    probability: float


@dataclass
class Pause(Plain):
    start: float
    end: float
    duration_s: float
    after_word: str
    mid_sentence: bool


@dataclass
class PauseStats(Plain):
    count: int = 0
    long_count: int = 0
    longest_s: float = 0.0
    total_s: float = 0.0
    threshold_s: float = 0.3
    long_threshold_s: float = 1.0
    long: list[Pause] = field(default_factory=list)
    mid_sentence_long_count: int = 0
    per_minute: float = 0.0


@dataclass
class FillerEvent(Plain):
    filler: str
    start: float
    end: float
    word_index: int


@dataclass
class HedgeEvent(Plain):
    hedge: str
    start: float
    end: float
    word_index: int


@dataclass
class Repeat(Plain):
    phrase: str
    count: int
    kind: str  # "stutter" (said twice in a row) | "overused" (many times across the answer)


@dataclass
class KeyPointMatch(Plain):
    key_point: str
    similarity: float
    sentence: str
    matched: bool
    start: float | None = None


@dataclass
class Coverage(Plain):
    score: float
    matched: list[KeyPointMatch] = field(default_factory=list)
    missed: list[KeyPointMatch] = field(default_factory=list)
    threshold: float = 0.5


@dataclass
class StarPart(Plain):
    present: bool
    sentence: str = ""
    start: float | None = None
    strength: float = 0.0
    reason: str = ""


@dataclass
class Star(Plain):
    situation: StarPart
    task: StarPart
    action: StarPart
    result: StarPart
    complete: bool = False
    missing: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    i_count: int = 0
    we_count: int = 0


@dataclass
class SpeechMetrics(Plain):
    wpm: float
    speaking_wpm: float
    word_count: int
    speaking_time_s: float
    filler_count: int
    fillers: dict[str, int]
    filler_rate_per_100_words: float
    filler_rate_per_min: float
    pauses: PauseStats
    hedges: dict[str, int]
    hedge_count: int = 0
    hedge_rate_per_100_words: float = 0.0
    filler_events: list[FillerEvent] = field(default_factory=list)
    hedge_events: list[HedgeEvent] = field(default_factory=list)
    repeats: list[Repeat] = field(default_factory=list)
    start_latency_s: float = 0.0
    coverage: Coverage | None = None
    star: Star | None = None


@dataclass
class Series(Plain):
    """A time series sampled at ``t`` (seconds); ``None`` marks a gap (e.g. unvoiced, no face)."""

    t: list[float] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    unit: str = ""


@dataclass
class ScoreInput(Plain):
    name: str
    value: float | None
    unit: str
    points: float  # contribution to the score, 0..weight*100
    weight: float
    note: str = ""


@dataclass
class ScoreDetail(Plain):
    score: float | None
    inputs: list[ScoreInput] = field(default_factory=list)
    summary: str = ""
    unavailable: list[str] = field(default_factory=list)


@dataclass
class Scores(Plain):
    overall: float
    content: float | None
    delivery: float
    confidence: float | None = None
    clarity: float | None = None
    resilience: float | None = None
    engagement: float | None = None
    details: dict[str, ScoreDetail] = field(default_factory=dict)


@dataclass
class MediaInfo(Plain):
    format: str
    duration_s: float
    has_video: bool
    sample_rate: int = 16000
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    rotation: int = 0


PROXY_LABEL = (
    "Blendshape-based proxies from MediaPipe Face Landmarker: indications, not certified FACS "
    "coding and not emotion detection."
)


@dataclass
class VoiceMetrics(Plain):
    pitch_mean_hz: float | None
    pitch_median_hz: float | None
    pitch_range_st: float | None
    pitch_variability_st: float | None
    monotone: bool
    monotone_reason: str
    jitter_local_pct: float | None
    shimmer_local_pct: float | None
    hnr_db: float | None
    loudness_dbfs: float
    loudness_variability_db: float
    trailing_off_ratio: float
    clipped_ratio: float
    voiced_ratio: float
    warnings: list[str] = field(default_factory=list)
    pitch: Series = field(default_factory=Series)
    loudness: Series = field(default_factory=Series)
    pace: Series = field(default_factory=Series)
    pauses: Series = field(default_factory=Series)
    # How far the voice measures can be trusted (0-1) from level, noise and voiced speech; the scores
    # that use the voice lean on it by this much (docs/scoring.md). Reports made before: 1.0.
    confidence: float = 1.0
    reliable: bool = True
    confidence_reasons: list[str] = field(default_factory=list)
    snr_db: float | None = None  # speech level over the background (quietest frames), dB
    voiced_s: float | None = None  # seconds of voiced speech the pitch measures rest on
    pitch_floor_hz: float | None = None  # the speaker's own pitch range used (two-pass, De Looze & Hirst)
    pitch_ceiling_hz: float | None = None
    voiced: Series = field(default_factory=Series)  # seconds of voiced speech in each second


@dataclass
class FaceMetrics(Plain):
    available: bool
    reason: str = ""
    label: str = PROXY_LABEL
    frames_analysed: int = 0
    sample_fps: float = 0.0
    visible_ratio: float = 0.0
    eye_contact_ratio: float | None = None
    head_yaw_deg: float | None = None
    head_pitch_deg: float | None = None
    head_movement_deg_per_s: float | None = None
    blink_rate_per_min: float | None = None
    smile: float | None = None
    expressiveness: float | None = None
    valence: float | None = None
    arousal: float | None = None
    au_proxies: dict[str, float] = field(default_factory=dict)
    multiple_faces_ratio: float = 0.0
    notices: list[str] = field(default_factory=list)
    visible: Series = field(default_factory=Series)
    eye_contact: Series = field(default_factory=Series)
    smile_series: Series = field(default_factory=Series)
    brow_lowering: Series = field(default_factory=Series)
    lip_press: Series = field(default_factory=Series)
    blinks: Series = field(default_factory=Series)
    gaze_away: Series = field(default_factory=Series)
    valence_series: Series = field(default_factory=Series)
    arousal_series: Series = field(default_factory=Series)
    head_movement: Series = field(default_factory=Series)


@dataclass
class StressSpike(Plain):
    start: float
    end: float
    peak_t: float
    peak: float
    recovery_s: float | None  # seconds from the peak back to baseline; None if never within the answer
    drivers: list[str] = field(default_factory=list)


@dataclass
class StressAnalysis(Plain):
    available: bool
    cues: list[str] = field(default_factory=list)
    spikes: list[StressSpike] = field(default_factory=list)
    index: Series = field(default_factory=Series)
    steadiness_sd: float | None = None
    reason: str = ""


@dataclass
class Report(Plain):
    session_id: str
    created_at: str
    question: Question
    duration_s: float
    language: str
    transcript: str
    words: list[Word]
    metrics: SpeechMetrics
    scores: Scores
    tips: list[str]
    schema_version: int = SCHEMA_VERSION
    language_notice: str | None = None
    language_confidence: float | None = None
    voice: VoiceMetrics | None = None
    face: FaceMetrics | None = None
    stress: StressAnalysis | None = None
    notices: list[str] = field(default_factory=list)
    media: MediaInfo | None = None
    timings: dict[str, float] = field(default_factory=dict)
