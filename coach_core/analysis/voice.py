"""Voice prosody from the audio track: pitch, jitter/shimmer/HNR (Praat), loudness, pace over time.

Praat (via parselmouth) is the reference implementation for pitch and perturbation measures and
runs ~1 s per minute of audio with no JIT warm-up. Norms and sources: docs/scoring.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from warnings import catch_warnings, simplefilter

import numpy as np

from coach_core.analysis.text_metrics import PAUSE_MIN_S, Sentence
from coach_core.media.decode import SAMPLE_RATE
from coach_core.schema import Series, VoiceMetrics, Word

# Pitch in two passes with the speaker's own range (De Looze & Hirst 2008; Hirst 2011): a first pass
# over Praat's standard range for speech (50-800 Hz), then floor = 0.75 x q25 and ceiling = k x q75
# of that speaker's first-pass f0. The authors advise k = 1.5, and up to 2.5 for expressive speech; we
# take 2.0: at 1.5 a stretch of raised (stressed) speech 11 semitones above a calm baseline fell
# above the ceiling and was tracked an octave down, and at 2.5 octave errors crept back into a hoarse
# voice. A fixed 75-500 Hz range cut off most of a low, hoarse voice (a man with a cold at ~65 Hz)
# and kept octave errors up to 500 Hz.
FIRST_PASS_FLOOR_HZ = 50.0
FIRST_PASS_CEILING_HZ = 800.0
FLOOR_QUANTILE, FLOOR_FACTOR = 25.0, 0.75
CEILING_QUANTILE, CEILING_FACTOR = 75.0, 2.0
FIRST_PASS_STEP_S = 0.02  # the first pass only sets the range: half the frames, half the time
MIN_RANGE_FRAMES = 25  # fewer voiced first-pass frames (0.5 s) than this: keep the first-pass range
PITCH_FLOOR_HZ = 75.0  # range for perturbation measures when the speaker's own cannot be set
PITCH_CEILING_HZ = 500.0
# Octave jumps: a frame this far (semitones) from the median of its voiced neighbourhood is a
# tracking error (halving/doubling); it is moved back by an octave when that lands it within
# OCTAVE_FOLD_TOLERANCE_ST of the neighbourhood, otherwise dropped.
OCTAVE_JUMP_ST = 9.0
OCTAVE_FOLD_TOLERANCE_ST = 4.0
OCTAVE_WINDOW_S = 0.3  # neighbourhood: voiced frames within this many seconds either side
MIN_NEIGHBOURS = 5  # fewer voiced neighbours than this: the speaker's median is the reference
MIN_VOICED_FRAMES = 20  # fewer voiced frames than this: pitch is not measured
MIN_FRAMES_PER_SECOND = 5  # a second with fewer voiced frames gets no pitch point (a blip, not a contour)
PITCH_STEP_S = 0.01
MONOTONE_BELOW_ST = 2.0  # pitch SD under 2 semitones sounds flat (docs/scoring.md)
FRAME_S = 0.05  # loudness frame
ACTIVE_BELOW_PEAK_DB = 35.0  # frames within 35 dB of the loud end count as speech for loudness
TRAILING_DROP_DB = 6.0  # sentence end this much quieter than its start = trailing off
CLIPPED_SAMPLE = 0.99
CLIPPED_RATIO_WARN = 0.001
QUIET_DBFS = -40.0
PACE_WINDOW_S = 10.0
MIN_PITCH_S = 0.1  # Praat's pitch analysis needs a few periods of the pitch floor (3 / 75 Hz = 40 ms)
# How far the voice measures can be trusted: each condition maps linearly from 0 (at "bad") to 1 (at
# "good"); confidence is the weakest of them. Under RELIABLE_FROM the report says so and the scores
# lean less on the voice.
LEVEL_BAD_DBFS, LEVEL_GOOD_DBFS = -55.0, -40.0  # speaking level (quiet: noise and hum weigh more)
SNR_BAD_DB, SNR_GOOD_DB = 5.0, 12.0  # loud speech (90th percentile frame) over the background (5th)
SPEECH_QUANTILE, NOISE_QUANTILE = 90.0, 5.0
HNR_BAD_DB, HNR_GOOD_DB = 0.0, 5.0  # mean harmonics-to-noise of voiced frames (Praat; ~0 dB = barely periodic)
VOICED_BAD_S, VOICED_GOOD_S = 1.5, 6.0  # seconds of voiced speech behind the pitch statistics
RELIABLE_FROM = 0.6


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
        value = reduce(v[mask]) if mask.any() else None
        values.append(None if value is None else float(value))
    return Series(t=[float(s) + 0.5 for s in range(seconds)], values=values)


def _median_of_enough(hz: np.ndarray) -> float | None:
    return float(np.median(hz)) if len(hz) >= MIN_FRAMES_PER_SECOND else None


def _seconds_of(frames: np.ndarray) -> float:
    return len(frames) * PITCH_STEP_S


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
    pitch_floor_hz: float = FIRST_PASS_FLOOR_HZ  # the range of the second pitch pass
    pitch_ceiling_hz: float = FIRST_PASS_CEILING_HZ

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


def speaker_range(f0_hz: np.ndarray) -> tuple[float, float] | None:
    """The speaker's own pitch floor and ceiling from a first-pass track (0 = unvoiced): 0.75 x q25
    and 2 x q75 (after De Looze & Hirst 2008). None when too little is voiced to say."""
    voiced = f0_hz[f0_hz > 0]
    if len(voiced) < MIN_RANGE_FRAMES:
        return None
    low, high = np.percentile(voiced, [FLOOR_QUANTILE, CEILING_QUANTILE])
    floor = max(FIRST_PASS_FLOOR_HZ, FLOOR_FACTOR * float(low))
    ceiling = min(FIRST_PASS_CEILING_HZ, CEILING_FACTOR * float(high))
    return (floor, ceiling) if ceiling > floor * 1.5 else None


def _pitch_track(
    sound: Any, floor: float, ceiling: float, step_s: float = PITCH_STEP_S
) -> tuple[np.ndarray, np.ndarray]:
    pitch = sound.to_pitch_ac(time_step=step_s, pitch_floor=floor, pitch_ceiling=ceiling)
    return pitch.selected_array["frequency"], pitch.xs()


def acoustic_features(samples: np.ndarray, offset_s: float = 0.0) -> VoiceFeatures:
    """Pitch track (two passes, the speaker's own range), jitter/shimmer/HNR (Praat) and loudness
    frames of 16 kHz mono audio."""
    import parselmouth

    floor, ceiling = FIRST_PASS_FLOOR_HZ, FIRST_PASS_CEILING_HZ
    if len(samples) < MIN_PITCH_S * SAMPLE_RATE:  # too short for one pitch window (a live tail)
        f0, f0_t = np.zeros(0), np.zeros(0)
        jitter = shimmer = hnr = None
        periods = 0
    else:
        sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=SAMPLE_RATE)
        f0, xs = _pitch_track(sound, floor, ceiling, FIRST_PASS_STEP_S)  # only its quantiles are used
        own = speaker_range(f0)
        if own is not None:
            floor, ceiling = own
        f0, xs = _pitch_track(sound, floor, ceiling)
        f0_t = xs + offset_s
        perturbation_range = own or (PITCH_FLOOR_HZ, PITCH_CEILING_HZ)
        jitter, shimmer, hnr, periods = _perturbation(sound, *perturbation_range)
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
        pitch_floor_hz=floor,
        pitch_ceiling_hz=ceiling,
    )


def _weighted(parts: Sequence[VoiceFeatures], value: Callable[[VoiceFeatures], float | None],
              weight: Callable[[VoiceFeatures], int]) -> float | None:  # fmt: skip
    pairs = [(v, max(weight(p), 1)) for p in parts if (v := value(p)) is not None]
    if not pairs:
        return None
    return float(sum(v * w for v, w in pairs) / sum(w for _, w in pairs))


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
        pitch_floor_hz=min(p.pitch_floor_hz for p in parts),
        pitch_ceiling_hz=max(p.pitch_ceiling_hz for p in parts),
    )


def fix_octave_jumps(f0_hz: np.ndarray, step_s: float = PITCH_STEP_S) -> np.ndarray:
    """A copy of a pitch track (0 = unvoiced) with octave jumps undone: a frame about an octave
    above or below the median of its voiced neighbourhood is moved back by an octave when that
    lands it near the neighbourhood, or dropped (0) when it does not."""
    f0 = np.asarray(f0_hz, dtype=float).copy()
    voiced = f0 > 0
    if voiced.sum() < MIN_NEIGHBOURS:
        return f0
    half = max(1, round(OCTAVE_WINDOW_S / step_s))
    padded = np.pad(np.where(voiced, np.log2(np.where(voiced, f0, 1.0)), np.nan), half, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    counts = np.sum(~np.isnan(windows), axis=1)
    with catch_warnings():
        simplefilter("ignore", RuntimeWarning)  # all-NaN windows: unvoiced stretches
        local = np.nanmedian(windows, axis=1)
    overall = float(np.median(np.log2(f0[voiced])))
    reference = np.where(counts >= MIN_NEIGHBOURS, local, overall)
    for i in np.flatnonzero(voiced):
        jump = 12.0 * (np.log2(f0[i]) - reference[i])
        if abs(jump) < OCTAVE_JUMP_ST:
            continue
        folded = jump - 12.0 * np.sign(jump)
        f0[i] = f0[i] * 2.0 ** (-np.sign(jump)) if abs(folded) <= OCTAVE_FOLD_TOLERANCE_ST else 0.0
    return f0


def clean_pitch(f0_hz: np.ndarray) -> tuple[np.ndarray, tuple[float, float] | None]:
    """The speaker's own range applied to a (possibly merged) track, then octave jumps undone."""
    f0 = np.asarray(f0_hz, dtype=float).copy()
    own = speaker_range(f0)
    if own is not None:
        f0[(f0 < own[0]) | (f0 > own[1])] = 0.0
    return fix_octave_jumps(f0), own


def _ramp(value: float | None, bad: float, good: float) -> float:
    return 1.0 if value is None else float(np.clip((value - bad) / (good - bad), 0.0, 1.0))


def voice_confidence(
    level_dbfs: float, snr_db: float | None, hnr_db: float | None, voiced_s: float
) -> tuple[float, list[str]]:
    """How far the voice measures can be trusted (0-1, the weakest condition) and what lowers it."""
    checks = [
        (_ramp(level_dbfs, LEVEL_BAD_DBFS, LEVEL_GOOD_DBFS), f"quiet ({level_dbfs:.0f} dBFS while speaking)"),
        (_ramp(snr_db, SNR_BAD_DB, SNR_GOOD_DB), f"noisy (speech only {snr_db or 0:.0f} dB over the background)"),
        (_ramp(hnr_db, HNR_BAD_DB, HNR_GOOD_DB), f"a rough or noisy voice signal (HNR {hnr_db or 0:.1f} dB)"),
        (_ramp(voiced_s, VOICED_BAD_S, VOICED_GOOD_S), f"little voiced speech ({voiced_s:.1f} s)"),
    ]
    confidence = min(c for c, _ in checks)
    reasons = [reason for c, reason in checks if c < 1.0]
    return round(confidence, 2), reasons


def voice_metrics(features: VoiceFeatures, words: Sequence[Word], sentences: Sequence[Sentence]) -> VoiceMetrics:
    """Prosody of an answer from its acoustic features and its timed words."""
    duration = features.duration_s
    times = features.f0_t
    f0, own = clean_pitch(features.f0_hz)
    voiced = f0 > 0
    voiced_s = float(voiced.sum()) * PITCH_STEP_S
    warnings: list[str] = []
    if voiced.sum() >= MIN_VOICED_FRAMES:
        hz = f0[voiced]
        median = float(np.median(hz))
        st = _semitones(hz, median)
        p5, p95 = np.percentile(st, [5, 95])
        pitch_range = float(p95 - p5)
        # SD of the cleaned track: with octave errors and out-of-range frames gone it is no longer
        # dragged by them (an IQR-based SD overstated two-register real speech: 4.6 vs 3.4 st).
        variability = float(np.std(st))
        monotone = variability < MONOTONE_BELOW_ST
        reason = (
            f"pitch varies by {variability:.1f} semitones (SD); under {MONOTONE_BELOW_ST:.0f} sounds flat"
            if monotone
            else f"pitch varies by {variability:.1f} semitones (SD), a lively range"
        )
        pitch_mean: float | None = float(np.mean(hz))
        pitch_median: float | None = median
        pitch_series = _per_second(times[voiced], hz, duration, _median_of_enough)
    else:
        pitch_mean = pitch_median = None
        pitch_range = variability = None  # type: ignore[assignment]
        monotone, reason = False, "too little voiced speech to measure pitch"
        pitch_series = Series(t=[], values=[])
    pitch_series.unit = "Hz"
    voiced_series = _per_second(times[voiced], f0[voiced], duration, _seconds_of)
    voiced_series.values = [v or 0.0 for v in voiced_series.values]
    voiced_series.unit = "s"

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
    loud_series = _per_second(frame_t[active], db[active], duration)  # speech only: pauses are not "quiet speech"
    loud_series.unit = "dBFS"
    snr = float(np.subtract(*np.percentile(db, [SPEECH_QUANTILE, NOISE_QUANTILE]))) if len(db) else None
    confidence, doubts = voice_confidence(level, snr, features.hnr_db, voiced_s)
    reliable = confidence >= RELIABLE_FROM
    if not reliable:
        warnings.append(
            "The voice measures are less reliable for this recording (" + "; ".join(doubts) + "): "
            "the scores lean less on them."
        )
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
        confidence=confidence,
        reliable=reliable,
        confidence_reasons=doubts,
        snr_db=snr,
        voiced_s=voiced_s,
        pitch_floor_hz=own[0] if own else None,
        pitch_ceiling_hz=own[1] if own else None,
        voiced=voiced_series,
    )


def analyse_voice(samples: np.ndarray, words: Sequence[Word], sentences: Sequence[Sentence]) -> VoiceMetrics:
    """Prosody of a 16 kHz mono answer."""
    return voice_metrics(acoustic_features(samples), words, sentences)
