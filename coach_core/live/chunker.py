"""Cutting a live answer into chunks at pauses, from the audio alone (so any packet timing gives the same chunks)."""

from __future__ import annotations

import numpy as np

from coach_core.analysis.voice import FRAME_S
from coach_core.media.decode import SAMPLE_RATE

# Whisper's cost per call is about 1.3 s plus 0.1 s per second of audio (tiny.en, one thread; its
# window is padded to 30 s), so chunks are not made shorter than this; the cap bounds what is left
# to transcribe at Stop.
MIN_CHUNK_S = 5.0  # a chunk is cut at the first pause after this much audio ...
MAX_CHUNK_S = 12.0  # ... or at its quietest moment once it is this long (the tail at Stop is never longer)
LONG_PAUSE_S = 0.6  # a quiet run this long is a pause between thoughts: the best place to cut
PAUSE_S = 0.3  # a quiet run this long is a pause between words, safe enough to cut in
SHORT_PAUSE_WAIT_S = 1.0  # ... once this much speech has followed it without a long pause
QUIET_BELOW_PEAK_DB = 30.0  # frames this far under the chunk's loud end (95th percentile) are quiet
QUIET_FLOOR_DBFS = -55.0  # ... and always frames quieter than this
_CUT_STEP = round(FRAME_S * SAMPLE_RATE)  # cuts fall on voice loudness frames, so chunks merge exactly
DECIDE_EVERY_S = 0.25  # a cut is looked for at every this much audio (a multiple of FRAME_S)
_DECIDE_STEP = round(DECIDE_EVERY_S / FRAME_S) * _CUT_STEP


def find_cut(samples: np.ndarray, min_s: float = MIN_CHUNK_S, max_s: float = MAX_CHUNK_S) -> int | None:
    """Where to end the next chunk of ``samples`` (a sample index), or None to wait for more audio.

    The cut goes in the middle of the first long pause (between thoughts) that starts between
    ``min_s`` and ``max_s``. Without one, in the middle of the longest shorter pause (between words)
    once ``SHORT_PAUSE_WAIT_S`` of audio has followed it with no long pause, or once the chunk
    reaches ``max_s``; with no pause at all by then, at its quietest frame. A cut close to speech
    makes Whisper hear half a word at the chunk's edge (a phantom "uh"), hence pauses. The rule
    depends on the audio only, not on how fast it arrives. Cuts fall on loudness frames.
    """
    n = len(samples) // _CUT_STEP
    first = int(np.ceil(min_s / FRAME_S))
    last = max(int(max_s / FRAME_S), first + 1)
    if n <= first:
        return None
    frames = samples[: n * _CUT_STEP].reshape(n, _CUT_STEP).astype(np.float64)
    db = 10.0 * np.log10(np.maximum(np.mean(frames**2, axis=1), 1e-12))
    quiet = db < max(np.percentile(db, 95) - QUIET_BELOW_PEAK_DB, QUIET_FLOOR_DBFS)
    runs: list[tuple[int, int]] = []  # quiet runs (start, end) in frames starting in [first, last)
    start: int | None = None
    for i in range(first, n + 1):
        if i < n and quiet[i]:
            start = i if start is None else start
        elif start is not None:
            runs.append((start, i))
            start = None
    runs = [r for r in runs if r[0] < last]
    long_pause = next((r for r in runs if r[1] - r[0] >= round(LONG_PAUSE_S / FRAME_S)), None)
    short = [r for r in runs if r[1] - r[0] >= round(PAUSE_S / FRAME_S)]
    waited = [r for r in short if r[1] + round(SHORT_PAUSE_WAIT_S / FRAME_S) <= n]
    if long_pause is not None:
        a, b = long_pause
    elif n >= last and short:
        a, b = max(short, key=lambda r: r[1] - r[0])
    elif waited:
        a, b = max(waited, key=lambda r: r[1] - r[0])
    elif n < last:
        return None  # a pause may still come
    else:
        return (first + int(np.argmin(db[first:last]))) * _CUT_STEP
    return ((a + b) // 2) * _CUT_STEP


class Chunker:
    """Cuts a growing stream of 16 kHz samples into chunks at the places :func:`find_cut` picks.

    A cut is looked for only at fixed points of the audio (every ``DECIDE_EVERY_S`` of the chunk),
    each time over exactly the audio up to that point. So the cuts depend on the audio alone: the
    same answer gives the same chunks whether it arrives in 10 ms packets or 1 s ones, quickly or
    late, while Whisper is busy or idle.
    """

    def __init__(self, min_s: float = MIN_CHUNK_S, max_s: float = MAX_CHUNK_S) -> None:
        self.min_s = min_s
        self.max_s = max_s
        self.cut = 0  # where the current chunk starts (the end of the last chunk cut), in samples
        self._looked = 0  # chunk length (samples) up to which cuts have been looked for

    def cuts(self, samples: np.ndarray) -> list[tuple[int, int]]:
        """New chunks (start, end) in sample indices, given all the audio so far (``samples``)."""
        out: list[tuple[int, int]] = []
        while True:
            point = self._next_point()
            if self.cut + point > len(samples):
                return out
            self._looked = point
            cut = find_cut(samples[self.cut : self.cut + point], self.min_s, self.max_s)
            if cut is not None:
                out.append((self.cut, self.cut + cut))
                self.cut += cut
                self._looked = 0

    def _next_point(self) -> int:
        step = _DECIDE_STEP
        first = (int(np.ceil(self.min_s / FRAME_S)) + 1) * _CUT_STEP  # find_cut needs more than min_s
        first = int(np.ceil(first / step)) * step
        return max(first, self._looked + step)
