"""Live audio packets (any rate, layout and sample type) to 16 kHz mono float samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from coach_core.media.decode import SAMPLE_RATE


def to_mono_float(samples: np.ndarray, channels: int, planar: bool) -> np.ndarray:
    data = np.asarray(samples)
    if data.dtype == np.int16:
        data = data.astype(np.float32) / 32768.0
    elif data.dtype == np.int32:
        data = data.astype(np.float32) / 2147483648.0
    else:
        data = data.astype(np.float32, copy=False)
    if channels <= 1:
        return data.reshape(-1)
    if planar:
        return data.reshape(channels, -1).mean(axis=0)
    return data.reshape(-1, channels).mean(axis=1)  # packed: interleaved L R L R ...


class Resampler:
    """Stateful resampling to 16 kHz (FFmpeg's, as for files), so frame edges leave no seams."""

    def __init__(self) -> None:
        self._rate: int | None = None
        self._resampler: Any = None

    def __call__(self, mono: np.ndarray, rate: int) -> np.ndarray:
        if rate == SAMPLE_RATE:
            return mono
        import av

        if rate != self._rate:
            self._rate = rate
            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(mono.reshape(1, -1)), format="flt", layout="mono")
        frame.sample_rate = rate
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def flush(self) -> np.ndarray:
        if self._resampler is None:
            return np.zeros(0, np.float32)
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(None)]
        return np.concatenate(out) if out else np.zeros(0, np.float32)
