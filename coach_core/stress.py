"""Stress spikes: moments when stress cues rise well above the speaker's own baseline.

Cues, each per second and compared with the speaker's median (robust z-score): brow lowering,
lip press, blinking, gaze aversion (face proxies, when there is video), pitch rise and speech-rate
jump (voice). The stress index is the mean of the positive z-scores of the cues available.
"""

from __future__ import annotations

import numpy as np

from .schema import Series, StressAnalysis, StressSpike

SPIKE_Z = 2.0  # index at or above this (sustained ≥ 1 s) is a spike
RECOVERED_Z = 0.5  # back to baseline when the index falls under this
MIN_SECONDS = 8  # fewer seconds of signal than this: no baseline, no spikes
# Smallest scale per cue, so a nearly constant cue does not turn noise into spikes.
MIN_SCALE = {
    "brow lowering": 0.05,
    "lip press": 0.05,
    "blinking": 0.25,
    "gaze aversion": 0.25,
    "pitch rise": 10.0,
    "speech-rate jump": 20.0,
}


def _robust_z(values: list[float | None], min_scale: float) -> np.ndarray:
    arr = np.array([np.nan if v is None else v for v in values], dtype=float)
    ok = ~np.isnan(arr)
    if ok.sum() < MIN_SECONDS:
        return np.full(arr.shape, np.nan)
    median = np.median(arr[ok])
    mad = np.median(np.abs(arr[ok] - median)) * 1.4826
    return (arr - median) / max(mad, min_scale)


def analyse_stress(cues: dict[str, Series]) -> StressAnalysis:
    """Find stress spikes in per-second cue series (all on the same 1 s grid)."""
    usable = {name: s for name, s in cues.items() if s.values and sum(v is not None for v in s.values) >= MIN_SECONDS}
    if not usable:
        return StressAnalysis(
            available=False,
            reason="The answer is too short to set a personal baseline.",
        )
    length = min(len(s.values) for s in usable.values())
    t = next(iter(usable.values())).t[:length]
    z = {name: np.clip(_robust_z(s.values[:length], MIN_SCALE.get(name, 0.1)), 0, None) for name, s in usable.items()}
    stacked = np.vstack(list(z.values()))
    with np.errstate(invalid="ignore"):
        index = np.nanmean(np.where(np.isnan(stacked), np.nan, stacked), axis=0)
    index = np.nan_to_num(index, nan=0.0)
    spikes: list[StressSpike] = []
    i = 0
    while i < length:
        if index[i] < SPIKE_Z:
            i += 1
            continue
        j = i
        while j + 1 < length and index[j + 1] >= SPIKE_Z:
            j += 1
        peak = i + int(np.argmax(index[i : j + 1]))
        k = peak
        while k < length and index[k] >= RECOVERED_Z:
            k += 1
        drivers = [name for name in z if np.nan_to_num(z[name][peak]) >= SPIKE_Z]
        spikes.append(
            StressSpike(
                start=t[i] - 0.5,
                end=t[j] + 0.5,
                peak_t=t[peak],
                peak=float(index[peak]),
                recovery_s=float(k - peak) if k < length else None,
                drivers=drivers or sorted(z, key=lambda n: -np.nan_to_num(z[n][peak]))[:1],
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
