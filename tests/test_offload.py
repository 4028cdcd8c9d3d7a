"""The voice measures run in a helper process (Praat holds the GIL); the result is the same as
in-process, and a helper that dies costs nothing but time."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from coach_core.analysis import voice_process as offload
from coach_core.analysis.voice import acoustic_features
from coach_core.media.decode import decode_audio


@pytest.fixture(scope="module")
def samples(cache_full_wav: Path) -> np.ndarray:
    return decode_audio(cache_full_wav).samples


def same(a: object, b: object) -> None:
    for name, value in vars(a).items():
        other = getattr(b, name)
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, other), name
        else:
            assert value == pytest.approx(other), name


def test_helper_process_gives_the_in_process_result(samples: np.ndarray) -> None:
    via_helper = offload.voice_features(samples)
    pid = offload.helper_pid()
    assert pid is not None and pid != os.getpid()  # measured in another process
    same(via_helper, acoustic_features(samples))
    assert via_helper.f0_hz.size > 0 and via_helper.periods > 0


def test_dead_helper_costs_time_not_the_result(samples: np.ndarray) -> None:
    expected = acoustic_features(samples)
    offload.voice_features(samples)
    first = offload.helper_pid()
    assert first is not None
    os.kill(first, signal.SIGKILL)
    same(offload.voice_features(samples), expected)  # measured in-process this time
    same(offload.voice_features(samples), expected)  # and by a new helper
    second = offload.helper_pid()
    assert second is not None and second != first
