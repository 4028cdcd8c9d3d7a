"""Voice prosody from the audio track: pitch, jitter/shimmer/HNR (Praat), loudness, pace over time.

Praat (via parselmouth) is the reference implementation for pitch and perturbation measures and
runs ~1 s per minute of audio with no JIT warm-up. Norms and sources: docs/scoring.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .media import SAMPLE_RATE
from .schema import Series, VoiceMetrics, Word
from .text_metrics import PAUSE_MIN_S, Sentence

PITCH_FLOOR_HZ = 75.0
PITCH_CEILING_HZ = 500.0
MONOTONE_BELOW_ST = 2.0  # pitch SD under 2 semitones sounds flat (docs/scoring.md)
FRAME_S = 0.05  # loudness frame
ACTIVE_BELOW_PEAK_DB = 35.0  # frames within 35 dB of the loud end count as speech for loudness
TRAILING_DROP_DB = 6.0  # sentence end this much quieter than its start = trailing off
CLIPPED_SAMPLE = 0.99
CLIPPED_RATIO_WARN = 0.001
QUIET_DBFS = -40.0
PACE_WINDOW_S = 10.0
MIN_PITCH_S = 0.1  # Praat's pitch analysis needs a few periods of the pitch floor (3 / 75 Hz = 40 ms)


def _semitones(hz: np.ndarray, ref: float) -> np.ndarray:
    return 12.0 * np.log2(hz / ref)


def _frame_db(samples: np.ndarray, frame_s: float) -> np.ndarray:
    n = int(frame_s * SAMPLE_RATE)
    count = len(samples) // n
    if count == 0:
        return np.zeros(0)
    frames = samples[: count * n].reshape(count, n).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-6))


def _per_second(
    t: np.ndarray, v: np.ndarray, duration: float, reduce: Callable[[np.ndarray], Any] = np.median
) -> Series:
    seconds = int(np.ceil(duration))
    values: list[float | None] = []
    for s in range(seconds):
        mask = (t >= s) & (t < s + 1)
        values.append(float(reduce(v[mask])) if mask.any() else None)
    return Series(t=[float(s) + 0.5 for s in range(seconds)], values=values)


def pace_series(words: Sequence[Word], duration: float, window_s: float = PACE_WINDOW_S) -> Series:
    """Words per minute in a sliding window (centred, 1 s step)."""
    mids = np.array([(w.start + w.end) / 2 for w in words])
    t_out, v_out = [], []
    for s in range(int(np.ceil(duration))):
        centre = s + 0.5
        lo, hi = max(0.0, centre - window_s / 2), min(duration, centre + window_s / 2)
        span = hi - lo
        count = int(((mids >= lo) & (mids < hi)).sum()) if len(mids) else 0
        t_out.append(centre)
        v_out.append(count / span * 60.0 if span > 0 else None)
    return Series(t=t_out, values=v_out, unit="wpm")


def pause_series(words: Sequence[Word], duration: float) -> Series:
    """Seconds of pause (gaps ≥ 0.3 s between words) falling in each second."""
    out = np.zeros(int(np.ceil(duration)))
    for a, b in itertools.pairwise(words):
        if b.start - a.end >= PAUSE_MIN_S:
            for s in range(int(a.end), min(int(np.ceil(b.start)), len(out))):
                out[s] += max(0.0, min(b.start, s + 1) - max(a.end, s))
    return Series(t=[s + 0.5 for s in range(len(out))], values=[float(x) for x in out], unit="s")


@dataclass
class VoiceFeatures:
    """Word-independent measurements of (part of) an answer: they can be taken while it is still
    being transcribed, or chunk by chunk during a live recording, then merged."""

    offset_s: float  # where this part starts in the answer
    n_samples: int
    f0_t: np.ndarray  # pitch frame times, seconds from the start of the answer
    f0_hz: np.ndarray  # 0 where unvoiced
    db: np.ndarray  # loudness per FRAME_S frame, from offset_s
    clipped: int  # samples at full scale
    jitter_pct: float | None = None
    shimmer_pct: float | None = None
    hnr_db: float | None = None
    periods: int = 0  # glottal periods behind jitter/shimmer (their weight when merging)
    hnr_frames: int = 0  # voiced frames behind the HNR mean (its weight when merging)

    @property
    def duration_s(self) -> float:
        return self.n_samples / SAMPLE_RATE


def _perturbation(
    sound: Any, pitch_floor: float, pitch_ceiling: float
) -> tuple[float | None, float | None, float | None, int]:
    from parselmouth.praat import call

    try:
        points = call(sound, "To PointProcess (periodic, cc)", pitch_floor, pitch_ceiling)
        periods = int(call(points, "Get number of periods", 0, 0, 0.0001, 0.02, 1.3))
        jitter = call(points, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)
        shimmer = call([sound, points], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
        harmonicity = call(sound, "To Harmonicity (cc)", 0.01, pitch_floor, 0.1, 1.0)
        hnr = call(harmonicity, "Get mean", 0, 0)
    except Exception:
        return None, None, None, 0

    def clean(x: float, scale: float = 1.0) -> float | None:
        return None if x is None or not np.isfinite(x) else float(x) * scale

    return clean(jitter, 100.0), clean(shimmer, 100.0), clean(hnr), periods


def acoustic_features(samples: np.ndarray, offset_s: float = 0.0) -> VoiceFeatures:
    """Pitch track, jitter/shimmer/HNR (Praat) and loudness frames of 16 kHz mono audio."""
    import parselmouth

    if len(samples) < MIN_PITCH_S * SAMPLE_RATE:  # too short for one pitch window (a live tail)
        f0, f0_t = np.zeros(0), np.zeros(0)
        jitter = shimmer = hnr = None
        periods = 0
    else:
        sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=SAMPLE_RATE)
        pitch = sound.to_pitch_ac(time_step=0.01, pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
        f0, f0_t = pitch.selected_array["frequency"], pitch.xs() + offset_s
        jitter, shimmer, hnr, periods = _perturbation(sound, PITCH_FLOOR_HZ, PITCH_CEILING_HZ)
    return VoiceFeatures(
        offset_s=offset_s,
        n_samples=len(samples),
        f0_t=f0_t,
        f0_hz=f0,
        db=_frame_db(samples, FRAME_S),
        clipped=int(np.sum(np.abs(samples) >= CLIPPED_SAMPLE)),
        jitter_pct=jitter,
        shimmer_pct=shimmer,
        hnr_db=hnr,
        periods=periods,
        hnr_frames=int((f0 > 0).sum()),
    )


def _weighted(parts: Sequence[VoiceFeatures], value: Callable[[VoiceFeatures], float | None],
              weight: Callable[[VoiceFeatures], int]) -> float | None:  # fmt: skip
    pairs = [(value(p), max(weight(p), 1)) for p in parts if value(p) is not None]
    if not pairs:
        return None
    return float(sum(v * w for v, w in pairs) / sum(w for _, w in pairs))  # type: ignore[operator]


def merge_features(parts: Sequence[VoiceFeatures]) -> VoiceFeatures:
    """Join consecutive parts of one answer (jitter/shimmer weighted by periods, HNR by voiced frames).

    Loudness frames line up with a whole-answer analysis when every part but the last is a
    whole number of FRAME_S frames long.
    """
    if len(parts) == 1:
        return parts[0]
    parts = sorted(parts, key=lambda p: p.offset_s)
    return VoiceFeatures(
        offset_s=parts[0].offset_s if parts else 0.0,
        n_samples=sum(p.n_samples for p in parts),
        f0_t=np.concatenate([p.f0_t for p in parts]) if parts else np.zeros(0),
        f0_hz=np.concatenate([p.f0_hz for p in parts]) if parts else np.zeros(0),
        db=np.concatenate([p.db for p in parts]) if parts else np.zeros(0),
        clipped=sum(p.clipped for p in parts),
        jitter_pct=_weighted(parts, lambda p: p.jitter_pct, lambda p: p.periods),
        shimmer_pct=_weighted(parts, lambda p: p.shimmer_pct, lambda p: p.periods),
        hnr_db=_weighted(parts, lambda p: p.hnr_db, lambda p: p.hnr_frames),
        periods=sum(p.periods for p in parts),
        hnr_frames=sum(p.hnr_frames for p in parts),
    )


def voice_metrics(features: VoiceFeatures, words: Sequence[Word], sentences: Sequence[Sentence]) -> VoiceMetrics:
    """Prosody of an answer from its acoustic features and its timed words."""
    duration = features.duration_s
    f0, times = features.f0_hz, features.f0_t
    voiced = f0 > 0
    warnings: list[str] = []
    if voiced.sum() >= 20:
        hz = f0[voiced]
        median = float(np.median(hz))
        st = _semitones(hz, median)
        p5, p95 = np.percentile(hz, [5, 95])
        pitch_range = float(_semitones(np.array([p95]), p5)[0])
        variability = float(np.std(st))
        monotone = variability < MONOTONE_BELOW_ST
        reason = (
            f"pitch varies by {variability:.1f} semitones (SD); under {MONOTONE_BELOW_ST:.0f} sounds flat"
            if monotone
            else f"pitch varies by {variability:.1f} semitones (SD), a lively range"
        )
        pitch_mean: float | None = float(np.mean(hz))
        pitch_median: float | None = median
        pitch_series = _per_second(times[voiced], hz, duration)
    else:
        pitch_mean = pitch_median = None
        pitch_range = variability = None  # type: ignore[assignment]
        monotone, reason = False, "too little voiced speech to measure pitch"
        pitch_series = Series(t=[], values=[])
    pitch_series.unit = "Hz"

    db = features.db
    frame_t = features.offset_s + (np.arange(len(db)) + 0.5) * FRAME_S
    active = db > (np.percentile(db, 95) - ACTIVE_BELOW_PEAK_DB) if len(db) else np.zeros(0, bool)
    level = float(np.median(db[active])) if active.any() else -120.0
    variability_db = float(np.std(db[active])) if active.any() else 0.0
    trailing = 0
    measured = 0
    for s in sentences:
        if s.end - s.start < 1.0:
            continue
        cut = s.start + 0.7 * (s.end - s.start)
        head = db[(frame_t >= s.start) & (frame_t < cut) & active]
        tail = db[(frame_t >= cut) & (frame_t < s.end) & active]
        if len(head) and len(tail):
            measured += 1
            trailing += (np.median(head) - np.median(tail)) > TRAILING_DROP_DB
    clipped = features.clipped / features.n_samples if features.n_samples else 0.0
    if clipped > CLIPPED_RATIO_WARN:
        warnings.append(f"The recording clips ({clipped:.1%} of samples at full scale): move back or lower the gain.")
    if level < QUIET_DBFS:
        warnings.append(f"The recording is quiet ({level:.0f} dBFS while speaking): move closer to the microphone.")
    loud_series = _per_second(frame_t, db, duration)
    loud_series.unit = "dBFS"
    return VoiceMetrics(
        pitch_mean_hz=pitch_mean,
        pitch_median_hz=pitch_median,
        pitch_range_st=pitch_range,
        pitch_variability_st=variability,
        monotone=monotone,
        monotone_reason=reason,
        jitter_local_pct=features.jitter_pct,
        shimmer_local_pct=features.shimmer_pct,
        hnr_db=features.hnr_db,
        loudness_dbfs=level,
        loudness_variability_db=variability_db,
        trailing_off_ratio=trailing / measured if measured else 0.0,
        clipped_ratio=clipped,
        voiced_ratio=float(voiced.mean()) if len(voiced) else 0.0,
        warnings=warnings,
        pitch=pitch_series,
        loudness=loud_series,
        pace=pace_series(words, duration),
        pauses=pause_series(words, duration),
    )


def analyse_voice(samples: np.ndarray, words: Sequence[Word], sentences: Sequence[Sentence]) -> VoiceMetrics:
    """Prosody of a 16 kHz mono answer."""
    return voice_metrics(acoustic_features(samples), words, sentences)
