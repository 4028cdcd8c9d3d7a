"""Filled pauses on real recordings (not TTS): recall and precision against the verbatim references.

Uses the same measure as ``bench/fillers_real.py``. Bounds have margin below what was measured
(bench/FILLERS.md); the clips are read from ../shared/media/real-speech, never copied here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fillers_real import CLASSES, REAL, Counts, measure

CLIPS = ("mfa_acoustic_corpus.wav", "mfa_cold_corpus.wav")
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"real recordings not found at {REAL}")


@pytest.fixture(scope="module")
def pooled() -> Counts:
    total = Counts()
    for name in CLIPS:
        counts, _, _ = measure(Path(REAL) / name)
        total.add(counts["um/uh"])
    return total


def test_um_and_uh_on_real_speech_are_found_and_not_invented(pooled: Counts) -> None:
    assert pooled.tp + pooled.fn == 8  # the references hold 8 filled pauses (um 3, uh 5)
    assert pooled.recall >= 0.85, pooled  # measured 8/8 (one miss allowed); 6/8 before the wider decode pad
    assert pooled.precision >= 0.85, pooled
    assert set(CLASSES) == {"um", "uh"}
