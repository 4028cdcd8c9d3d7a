"""Stress spikes: moments when stress cues rise well above the speaker's own baseline.

Cues, each per second and compared with the speaker's median (robust z-score): brow lowering,
lip press, blinking, gaze aversion (face proxies, when there is video), pitch rise, speech-rate
jump and loudness rise (voice). The stress index is the mean of the positive z-scores of the cues
available; it is the chart and the steadiness measure.

A spike needs converging evidence, never one blip. Vocal stress raises pitch together with loudness
and rate (Scherer 1986; Giddens et al. 2013 review), while a single raised cue in one second is what
ordinary emphasis and pitch-tracking errors look like: on calm real speech a pitch rise alone gave
2 "spikes" in a 13-s clip. So a second counts towards a spike when

- the pitch rise and at least one other cue (speech rate, loudness, a face cue) are raised together
  (z ≥ ``CUE_Z``) for ``MIN_CONVERGING_S`` seconds in a row (an emphasised word lifts pitch and
  loudness together, but for one second: a natural neural voice reading calmly gave two such
  one-second "spikes"; and a fast, loud opening without a pitch rise is a speaking style), or
- one cue stays far above baseline (z ≥ ``SUSTAINED_Z``) over a run holding ≥ ``SUSTAINED_VOICED_S``
  seconds of voiced speech (a shift of register, not a blip).

Without a pitch cue (voice unreliable, face only), any ``MIN_CONVERGING`` cues together count.

The voice cues are used only when the voice measures are reliable enough (quiet or noisy
recordings: see :func:`coach_core.analysis.voice.voice_confidence`).
"""

from __future__ import annotations

from warnings import catch_warnings, simplefilter

import numpy as np

from coach_core.schema import Series, StressAnalysis, StressSpike, VoiceMetrics

SPIKE_Z = 2.0  # kept for reference: the index level that reads as a spike on the chart
# A cue is "raised" at this robust z-score above the speaker's own median (~3 MADs: well outside
# the speaker's own spread; at 2, calm real and natural speech crossed it on ordinary phrasing).
CUE_Z = 3.0
MIN_CONVERGING = 2  # cues raised in the same second ...
MIN_CONVERGING_S = 2  # ... for this many seconds in a row make a spike
SUSTAINED_Z = 4.0  # a single cue this far up ...
SUSTAINED_VOICED_S = 2.0  # ... over a run holding this much voiced speech makes a spike on its own
RECOVERED_Z = 0.5  # back to baseline when the index falls under this
MIN_SECONDS = 8  # fewer seconds of signal than this: no baseline, no spikes
PITCH_CUE = "pitch rise"
# Smallest scale per cue, so a nearly constant cue does not turn noise into spikes. Pitch is
# compared in semitones from the speaker's median (1 st: a just-noticeable step in running speech).
MIN_SCALE = {
    "brow lowering": 0.05,
    "lip press": 0.05,
    "blinking": 0.25,
    "gaze aversion": 0.25,
    PITCH_CUE: 1.0,
    "speech-rate jump": 20.0,
    "loudness rise": 2.0,
}
# Voice cues are first smoothed by a running median over this many seconds: a stressed state lasts
# seconds, while one emphasised word or a tracking blip fills one second and is removed by it.
SMOOTH_SECONDS = {PITCH_CUE: 3, "loudness rise": 3}
UNRELIABLE_VOICE_REASON = "The recording is too quiet or noisy to read stress cues from the voice reliably."


def voice_cues(voice: VoiceMetrics) -> dict[str, Series]:
    """The voice's stress cues, or none when its measures are not reliable enough."""
    if not voice.reliable:
        return {}
    return {PITCH_CUE: voice.pitch, "speech-rate jump": voice.pace, "loudness rise": voice.loudness}


def _running_median(arr: np.ndarray, width: int) -> np.ndarray:
    """Centred running median ignoring gaps (NaN); a gap stays a gap."""
    if width <= 1 or len(arr) < width:
        return arr
    half = width // 2
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(arr, half, constant_values=np.nan), width)
    with catch_warnings():
        simplefilter("ignore", RuntimeWarning)  # all-gap windows
        smooth = np.nanmedian(windows, axis=1)
    return np.where(np.isnan(arr), np.nan, smooth)


def _robust_z(values: list[float | None], min_scale: float, semitones: bool = False, smooth: int = 1) -> np.ndarray:
    arr = _running_median(np.array([np.nan if v is None else v for v in values], dtype=float), smooth)
    ok = ~np.isnan(arr)
    if ok.sum() < MIN_SECONDS:
        return np.full(arr.shape, np.nan)
    if semitones:
        with np.errstate(all="ignore"):
            arr = 12.0 * np.log2(arr / np.median(arr[ok]))
    median = np.median(arr[ok])
    mad = np.median(np.abs(arr[ok] - median)) * 1.4826
    return (arr - median) / max(mad, min_scale)


def _evidence(z: dict[str, np.ndarray], voiced_s: np.ndarray) -> np.ndarray:
    """Seconds backed by converging cues or by one cue raised over enough voiced speech."""
    raised = {name: np.nan_to_num(v) >= CUE_Z for name, v in z.items()}
    converging = np.sum(np.vstack(list(raised.values())), axis=0) >= MIN_CONVERGING
    if PITCH_CUE in raised:
        converging &= raised[PITCH_CUE]
    backed = np.zeros(len(voiced_s), bool)
    for start, end in _runs(converging):
        if end - start >= MIN_CONVERGING_S:
            backed[start:end] = True
    for values in z.values():
        for start, end in _runs(np.nan_to_num(values) >= SUSTAINED_Z):
            if voiced_s[start:end].sum() >= SUSTAINED_VOICED_S:
                backed[start:end] = True
    return backed


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True, end exclusive."""
    edges = np.diff(np.concatenate([[0], flags.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def analyse_stress(
    cues: dict[str, Series], voiced: Series | None = None, unavailable_reason: str = ""
) -> StressAnalysis:
    """Find stress spikes in per-second cue series (all on the same 1 s grid).

    Args:
        cues: per-second series by cue name.
        voiced: seconds of voiced speech in each second (for the sustained rule); without it
            each second counts as fully voiced.
        unavailable_reason: what to say when no cue is usable (default: too short for a baseline).
    """
    usable = {name: s for name, s in cues.items() if s.values and sum(v is not None for v in s.values) >= MIN_SECONDS}
    if not usable:
        return StressAnalysis(
            available=False,
            reason=unavailable_reason or "The answer is too short to set a personal baseline.",
        )
    length = min(len(s.values) for s in usable.values())
    t = next(iter(usable.values())).t[:length]
    z = {
        name: np.clip(
            _robust_z(s.values[:length], MIN_SCALE.get(name, 0.1), name == PITCH_CUE, SMOOTH_SECONDS.get(name, 1)),
            0,
            None,
        )
        for name, s in usable.items()
    }
    stacked = np.vstack(list(z.values()))
    with np.errstate(invalid="ignore"):
        index = np.nanmean(np.where(np.isnan(stacked), np.nan, stacked), axis=0)
    index = np.nan_to_num(index, nan=0.0)
    voiced_s = np.ones(length)
    if voiced is not None and voiced.values:
        known = np.array([1.0 if v is None else v for v in voiced.values[:length]], dtype=float)
        voiced_s[: len(known)] = known
    backed = _evidence(z, voiced_s)
    spikes: list[StressSpike] = []
    i = 0
    while i < length:
        if not backed[i]:
            i += 1
            continue
        j = i
        while j + 1 < length and backed[j + 1]:
            j += 1
        peak = i + int(np.argmax(index[i : j + 1]))
        k = peak
        while k < length and index[k] >= RECOVERED_Z:
            k += 1
        span = slice(i, j + 1)
        drivers = [name for name in z if (np.nan_to_num(z[name][span]) >= CUE_Z).any()]
        spikes.append(
            StressSpike(
                start=t[i] - 0.5,
                end=t[j] + 0.5,
                peak_t=t[peak],
                peak=float(index[peak]),
                recovery_s=float(k - peak) if k < length else None,
                drivers=sorted(drivers, key=lambda n: -np.nan_to_num(z[n][peak])),
            )
        )
        i = max(j + 1, k)
    return StressAnalysis(
        available=True,
        cues=list(usable),
        spikes=spikes,
        index=Series(t=list(t), values=[float(v) for v in index], unit="z"),
        steadiness_sd=float(np.std(index)),
    )
