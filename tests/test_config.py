"""Settings: each default written once (on the dataclass); COACH_<FIELD> overrides each of them."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from coach_core.config import Settings, env_name, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for f in fields(Settings):
        monkeypatch.delenv(env_name(f.name), raising=False)
    return monkeypatch


def test_without_environment_the_settings_are_the_dataclass_defaults(clean_env: pytest.MonkeyPatch) -> None:
    assert load_settings() == Settings()


def test_every_setting_is_read_from_its_variable(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    samples = {Path: str(tmp_path / "x"), int: "7", float: "2.5", str: "value", bool: "yes"}
    want = {}
    for f in fields(Settings):
        kind = type(getattr(Settings(), f.name)) if getattr(Settings(), f.name) is not None else Path
        kind = Path if issubclass(kind, Path) else kind
        clean_env.setenv(env_name(f.name), samples[kind])
        want[f.name] = Path(samples[kind]) if kind is Path else True if kind is bool else kind(samples[kind])
    got = load_settings()
    for name, value in want.items():
        if name == "queue_fallback":
            value = value.lower()
        assert getattr(got, name) == value, name


def test_bad_numbers_are_named(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("COACH_FACE_FPS", "fast")
    with pytest.raises(ValueError, match="COACH_FACE_FPS must be a number, got 'fast'"):
        load_settings()
    clean_env.setenv("COACH_FACE_FPS", "5")
    clean_env.setenv("COACH_WORKERS", "2.5")
    with pytest.raises(ValueError, match="COACH_WORKERS must be a whole number"):
        load_settings()


def test_blank_means_default_and_paths_expand(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("COACH_S3_PREFIX", "   ")
    clean_env.setenv("COACH_DB_PATH", "~/coach.db")
    clean_env.setenv("COACH_WHISPER_WORKERS", "0")
    got = load_settings()
    assert got.s3_prefix == Settings().s3_prefix
    assert got.db_path == Path("~/coach.db").expanduser()
    assert got.whisper_workers == 1  # at least one transcription at a time
