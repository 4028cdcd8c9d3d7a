"""Where a decode skipped or looped, and which stretches of the audio to decode again.

Pure geometry over timed words and voice-active spans (Silero VAD); ``transcribe`` decodes the
windows. Method and measurements: docs/scoring.md, section 3.
"""

from __future__ import annotations

from coach_core.analysis.asr_checks import LoopCheck
from coach_core.schema import Word

MIN_SPEECH_COVERED = 0.7  # share of voice-active time that must hold recognised words
# A word covers at most this much of the voice from its start. When Whisper skips a stretch of
# speech, its word timings stretch the word before the skip over it ("first" at 0.3-21.2 s on a
# neural voice's answer, the next 20 s never decoded); a spoken word, even a drawn-out filler, is
# far shorter (filled pauses last ~0.2-0.8 s, Shriberg 2001).
MAX_WORD_S = 2.0
RETRY_PAD_S = 1.0  # a re-decoded window reaches this far beyond the trouble ...
RETRY_JOIN_S = 3.0  # ... windows closer than this are decoded as one ...
RETRY_SNAP_S = 3.0  # ... or to a pause / gap between words this much further out
# Consecutive words this short, this many in a row (>= 20 words/s, faster than any speaker), carry
# no audio of their own: text misplaced by the decode (see without_displaced).
SQUEEZED_WORD_S = 0.05
SQUEEZED_RUN = 3


def uncovered(words: list[Word], spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Voice-active stretches (in 0.5 s steps) with no recognised word within a second of them.

    A word counts for at most ``MAX_WORD_S`` from its start: one stretched over many seconds of
    voice stands for speech the model skipped."""
    gaps: list[tuple[float, float]] = []
    reach = [(w.start - 1.0, min(w.end, w.start + MAX_WORD_S) + 1.0) for w in words]
    for a, b in spans:
        t = a
        while t < b:
            step = min(0.5, b - t)
            mid = t + step / 2
            if not any(lo <= mid <= hi for lo, hi in reach):
                if gaps and abs(gaps[-1][1] - t) < 1e-6:
                    gaps[-1] = (gaps[-1][0], t + step)
                else:
                    gaps.append((t, t + step))
            t += step
    return gaps


def speech_covered(words: list[Word], spans: list[tuple[float, float]]) -> float:
    """Share of voice-active seconds that fall within a second of some recognised word."""
    total = sum(b - a for a, b in spans)
    if total <= 0:
        return 1.0
    return 1.0 - sum(b - a for a, b in uncovered(words, spans)) / total


def without_displaced(words: list[Word], windows: list[tuple[float, float]]) -> list[Word]:
    """The words minus runs squeezed next to a window: text of the skipped stretch, misplaced.

    A window tiny.en skipped can come back as its first sentence stamped at the window's edge, each
    word ~0-40 ms long ("I'd start with what we're actually trying to achieve this" in 0.2 s); once
    the window is decoded again, keeping them would say that sentence twice."""
    squeezed = [w.end - w.start < SQUEEZED_WORD_S for w in words]
    drop: set[int] = set()
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and squeezed[j]:
            j += 1
        if j - i >= SQUEEZED_RUN and any(a - RETRY_SNAP_S <= words[i].start <= b + RETRY_SNAP_S for a, b in windows):
            drop.update(range(i, j))
        i = max(j, i + 1)
    return [w for k, w in enumerate(words) if k not in drop]


def retry_windows(check: LoopCheck, spans: list[tuple[float, float]], duration: float) -> list[tuple[float, float]]:
    """The stretches worth decoding again: each loop and each voiced stretch without words, widened.

    Each edge goes to the nearest pause (a voiced span's edge) within ``RETRY_PAD_S + RETRY_SNAP_S``
    of the trouble; without one it is padded by ``RETRY_PAD_S`` and moved out to the nearest gap
    between recognised words within ``RETRY_SNAP_S``, so no word is cut in two. Windows closer
    than ``RETRY_JOIN_S`` are joined.
    """
    starts = sorted(a for a, _ in spans)
    ends = sorted(b for _, b in spans)
    words = check.words
    windows: list[tuple[float, float]] = []
    for t0, t1 in sorted(check.loops + uncovered(words, spans)):
        # The nearest pause around the trouble (a voiced span starts or ends there) ...
        pause = [s for s in starts if t0 - RETRY_PAD_S - RETRY_SNAP_S <= s <= t0]
        # ... else the padded edge, moved to the nearest gap between recognised words.
        a = t0 - RETRY_PAD_S
        gap = [w.end for w in words if a - RETRY_SNAP_S <= w.end <= a]
        a = max(0.0, pause[-1] if pause else gap[-1] if gap else a)
        pause = [e for e in ends if t1 <= e <= t1 + RETRY_PAD_S + RETRY_SNAP_S]
        b = t1 + RETRY_PAD_S
        gap = [w.start for w in words if b <= w.start <= b + RETRY_SNAP_S]
        b = min(duration, pause[0] if pause else gap[0] if gap else b)
        if windows and a - windows[-1][1] < RETRY_JOIN_S:
            windows[-1] = (min(windows[-1][0], a), max(windows[-1][1], b))
        else:
            windows.append((a, b))
    return windows
