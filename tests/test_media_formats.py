"""Any recording FFmpeg can decode is analysed (no container list); what has no decodable sound is
refused in one plain line."""

from __future__ import annotations

from pathlib import Path

import pytest
from media_factory import run, speak

from coach_core.analysis.pipeline import analyse
from coach_core.config import Settings
from coach_core.media.decode import UPLOAD_EXTENSIONS, MediaError, decode_audio, probe
from coach_core.schema import Question

Q = Question(text="Tell me about yourself.", key_points=["Current role"])
TEXT = "I lead a small team that builds the payment service, and I like measuring before I change things."
BLUE_VIDEO = ["-f", "lavfi", "-i", "color=c=blue:s=160x120:r=15"]
# (file name, ffmpeg options before the output): containers outside the old whitelist
ODD = {
    "answer.aiff": [],
    "answer.mpg": [*BLUE_VIDEO, "-shortest", "-c:v", "mpeg2video", "-c:a", "mp2"],  # MPEG-PS, sound + picture
    "answer.3gp": ["-c:a", "aac", "-ar", "16000", "-ac", "1"],
}
MORE = {
    "answer.au": [],
    "answer.wma": [],
    "answer.caf": [],
    "answer.ts": ["-c:a", "mp2"],
}


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speak(TEXT, tmp_path_factory.mktemp("formats") / "answer.wav", rate=150)


def make(src: Path, name: str, options: list[str]) -> Path:
    out = src.parent / name
    if not out.exists():
        video_first = options[:4] == BLUE_VIDEO
        inputs = [*BLUE_VIDEO, "-i", str(src)] if video_first else ["-i", str(src)]
        rest = options[4:] if video_first else options
        run(["ffmpeg", "-y", "-loglevel", "error", *inputs, *rest, str(out)])
    return out


def refused(path: Path, match: str) -> str:
    with pytest.raises(MediaError, match=match) as info:
        analyse(path, Q, settings=Settings())
    message = str(info.value)
    assert "\n" not in message and len(message) < 300
    return message


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_containers_are_analysed(spoken: Path, name: str) -> None:
    path = make(spoken, name, ODD[name])
    report = analyse(path, Q, settings=Settings())
    assert report.duration_s == pytest.approx(decode_audio(spoken).duration_s, abs=0.3)
    assert len(report.words) >= 12  # the answer was heard, not just opened
    assert report.voice is not None and report.voice.pitch_median_hz is not None
    if name.endswith(".mpg"):
        assert report.media is not None and report.media.has_video  # the picture is seen too


@pytest.mark.parametrize("name", sorted(MORE))
def test_more_containers_decode_alike(spoken: Path, name: str) -> None:
    base = decode_audio(spoken)
    audio = decode_audio(make(spoken, name, MORE[name]))
    assert audio.duration_s == pytest.approx(base.duration_s, abs=0.2)
    assert audio.level_dbfs == pytest.approx(base.level_dbfs, abs=3.0)


def test_upload_widget_offers_the_odd_extensions() -> None:
    for ext in ("aiff", "aif", "mpg", "3gp", "au", "wma", "caf", "ts", "wav", "mp3", "mp4", "webm"):
        assert ext in UPLOAD_EXTENSIONS


def test_text_renamed_mp3_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "answer.mp3"
    path.write_text("Dear hiring manager, please find my answer attached.\n" * 40)
    refused(path, "Not a (readable audio or video file|recording)")


def test_truncated_odd_container_is_refused(spoken: Path, tmp_path: Path) -> None:
    full = make(spoken, "answer.aiff", ODD["answer.aiff"])
    cut = tmp_path / "cut.aiff"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    refused(cut, "damaged or truncated")


def test_video_only_file_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "silent.mpg"
    run(["ffmpeg", "-y", "-loglevel", "error", *BLUE_VIDEO, "-t", "2", "-c:v", "mpeg2video", str(out)])
    message = refused(out, "no audio track")
    assert "video without sound" in message
    with pytest.raises(MediaError):
        probe(out)
