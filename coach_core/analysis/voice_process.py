"""Work that holds Python's GIL for seconds, run in one helper process beside the analysis.

Praat (parselmouth) keeps the GIL for the whole of each call. Measuring the voice of a 5-minute
answer takes ~7.5 s, and in a thread beside Whisper it made the transcription ~9 s slower (30.2 s
→ 39.6 s: faster-whisper's Python steps between decoder calls waited for the GIL). In a helper
process both really run in parallel.

The helper is ``python -m coach_core.analysis.voice_process``, started on first use (or by the app's warm-up) and
reused, talking length-prefixed pickles over its stdin/stdout. A plain subprocess, not
multiprocessing: ``fork`` of a process with the models loaded hangs (see :mod:`coach_core.jobs.rq_worker`)
and ``spawn`` re-runs the parent's main script. If the helper cannot run or dies, the work is done
in the calling thread instead — same result, only slower.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from typing import IO, Any

import numpy as np

from coach_core.analysis.voice import VoiceFeatures, acoustic_features

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")
_FUNCTIONS = {"acoustic_features": acoustic_features}


def _send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the helper process closed its pipe")
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the helper process closed its pipe")
    return pickle.loads(data)  # our own child process, over a private pipe


class _Helper:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self.failures = 0  # calls failed in a row

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "coach_core.analysis.voice_process"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            )
        return self._proc

    def call(self, name: str, *args: Any) -> Any:
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            _send(proc.stdin, (name, args))
            status, value = _receive(proc.stdout)
        if status != "ok":
            raise RuntimeError(value)
        return value

    def stop(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.close()  # the helper exits at the end of its input
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()


_helper = _Helper()
atexit.register(_helper.stop)


MAX_FAILURES = 3  # the helper failing this many times in a row: measure in-process from then on


def voice_features(samples: np.ndarray) -> VoiceFeatures:
    """:func:`coach_core.analysis.voice.acoustic_features` of a whole answer, computed in the helper process."""
    if _helper.failures < MAX_FAILURES:
        try:
            features = _helper.call("acoustic_features", np.ascontiguousarray(samples, dtype=np.float32))
            _helper.failures = 0
            return features
        except Exception as exc:  # no helper here, or it died: a new one next time; this one in-thread
            log.warning("voice helper process failed, measuring in-process: %s", exc)
            _helper.stop()
            _helper.failures += 1
    return acoustic_features(samples)


def helper_pid() -> int | None:
    """The helper's process id while it runs (for tests and diagnostics)."""
    proc = _helper._proc
    return proc.pid if proc is not None and proc.poll() is None else None


def start() -> None:
    """Start the helper now (the app's warm-up does this, so the first analysis does not wait)."""
    voice_features(np.zeros(1600, np.float32))


def _serve() -> None:
    """The helper's loop: read (function, args), answer ("ok", result) or ("error", message)."""
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the replies
    while True:
        try:
            name, args = _receive(requests)
        except EOFError:
            return
        try:
            _send(replies, ("ok", _FUNCTIONS[name](*args)))
        except Exception as exc:  # reported to the caller, which then works in-process
            _send(replies, ("error", f"{type(exc).__name__}: {exc}"))


if __name__ == "__main__":
    _serve()
