"""Voice prosody, face proxies and the four soft-skill scores on real media made at test time."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import STAR_STORY
from media_factory import astronaut_png, convert, face_video, flat_pitch, lively_pitch, run, speak

from coach_core.analysis.pipeline import analyse
from coach_core.config import Settings
from coach_core.schema import Question, Report

Q = Question(text="Tell me about a time you fixed an unreliable process.", kind="behavioural",
             key_points=["Describes the situation", "States a measurable result"])  # fmt: skip
LONG_ANSWER = STAR_STORY + " " + STAR_STORY.replace("Two years ago", "Later that year")


@pytest.fixture(scope="module")
def speech(media_dir: Path) -> Path:
    return speak(LONG_ANSWER, media_dir / "long.wav")


@pytest.fixture(scope="module")
def png(media_dir: Path) -> Path:
    return astronaut_png(media_dir / "astronaut.png")


@pytest.fixture(scope="module")
def video_report(media_dir: Path, png: Path, speech: Path) -> Report:
    video = face_video(png, speech, media_dir / "answer.mp4", no_face_from=8.0, no_face_to=14.0)
    return analyse(video, Q, settings=Settings())


def test_flat_voice_scores_lower_engagement_than_lively(media_dir: Path, speech: Path) -> None:
    flat = analyse(flat_pitch(speech, media_dir / "flat.wav"), Q, settings=Settings())
    lively = analyse(lively_pitch(speech, media_dir / "lively.wav"), Q, settings=Settings())
    assert flat.voice.pitch_variability_st < 1.0 < lively.voice.pitch_variability_st
    assert flat.voice.monotone and not lively.voice.monotone
    assert flat.scores.engagement < lively.scores.engagement
    assert any("pitch varied" in t for t in flat.tips)


def test_voice_measures_are_sane(speech: Path) -> None:
    report = analyse(speech, Q, settings=Settings())
    v = report.voice
    assert 70 < v.pitch_median_hz < 300
    assert v.jitter_local_pct is not None and 0 < v.jitter_local_pct < 10
    assert v.shimmer_local_pct is not None and 0 < v.shimmer_local_pct < 40
    assert v.hnr_db is not None and v.hnr_db > 0
    assert -40 < v.loudness_dbfs < 0 and v.clipped_ratio < 0.001
    n = int(report.duration_s) + 1
    for series in (v.pitch, v.loudness, v.pace, v.pauses):
        assert abs(len(series.t) - n) <= 1
    # Audio only: face parts are unavailable, never guessed; voice scores remain.
    assert report.face is not None and not report.face.available
    assert report.scores.confidence is not None and report.scores.engagement is not None
    assert "steady gaze (eye contact)" in report.scores.details["confidence"].unavailable
    assert "facial expressiveness" in report.scores.details["engagement"].unavailable


def test_faster_answer_shows_higher_pace(media_dir: Path) -> None:
    slow = analyse(speak(LONG_ANSWER, media_dir / "slow.wav", rate=120), Q, settings=Settings())
    fast = analyse(speak(LONG_ANSWER, media_dir / "fast.wav", rate=190), Q, settings=Settings())

    def median_pace(r: Report) -> float:
        values = sorted(v for v in r.voice.pace.values if v)
        return values[len(values) // 2]

    assert median_pace(fast) > median_pace(slow) * 1.2  # clearly faster, beyond window noise
    assert fast.metrics.wpm > slow.metrics.wpm


def test_face_video_visible_stretch_and_proxies(video_report: Report) -> None:
    face = video_report.face
    assert face is not None and face.available, face
    assert "not certified FACS" in face.label and "not emotion detection" in face.label
    visible = dict(zip(face.visible.t, face.visible.values, strict=True))
    assert all(visible[t] == 0.0 for t in visible if 9 <= t <= 13)  # the black stretch
    assert all(visible[t] == 1.0 for t in visible if t <= 7 or 15 <= t < video_report.duration_s - 1)
    assert 0.5 < face.visible_ratio < 0.9
    assert any("out of view" in n for n in video_report.notices)
    assert face.smile is not None and face.smile > 0.5  # the astronaut smiles
    assert set(face.au_proxies) >= {"AU4 brow lowerer", "AU12 lip corner puller", "AU26 jaw drop"}
    assert 0 <= face.eye_contact_ratio <= 1
    # A file is sampled at face_fps_file (fewer frames than live, so the face fits beside Whisper).
    assert face.sample_fps == Settings().face_fps_file
    assert face.frames_analysed == pytest.approx(video_report.duration_s * Settings().face_fps_file, rel=0.15)
    # With video, the face inputs count in the scores.
    assert video_report.scores.details["engagement"].unavailable == []


def test_removing_video_keeps_voice_scores(video_report: Report, media_dir: Path) -> None:
    audio_only = analyse(media_dir / "answer.mp4", Q, settings=Settings(), use_video=False)
    assert not audio_only.face.available
    assert audio_only.scores.clarity == video_report.scores.clarity
    assert audio_only.scores.engagement is not None


def test_black_video_completes_without_face(media_dir: Path, speech: Path) -> None:
    out = media_dir / "black.webm"
    run(["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=black:s=320x240:r=10", "-i", str(speech),
         "-shortest", "-c:v", "libvpx", "-b:v", "200k", "-c:a", "libopus", str(out)])  # fmt: skip
    report = analyse(out, Q, settings=Settings())
    assert not report.face.available and "No face" in report.face.reason
    assert report.scores.overall is not None and report.transcript


@pytest.mark.parametrize("variant", ["rotated", "odd", "vfr"])
def test_awkward_videos(media_dir: Path, png: Path, variant: str) -> None:
    short = speak(
        "I keep my answers short and clear, and I look at the camera while I talk.", media_dir / f"s_{variant}.wav"
    )
    base = face_video(png, short, media_dir / f"base_{variant}.mp4")
    out = media_dir / f"{variant}.mp4"
    if variant == "rotated":  # stored sideways with a rotation flag, as phones do
        run(
            [
                "ffmpeg",
                "-y",
                "-loglevel",
                "error",
                "-i",
                str(base),
                "-c",
                "copy",
                "-metadata:s:v:0",
                "rotate=90",
                str(out),
            ]
        )
    elif variant == "odd":
        convert(
            base,
            out,
            "-vf",
            "scale=333:247",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv444p",
            "-preset",
            "ultrafast",
            "-c:a",
            "copy",
        )
    else:
        convert(base, out, "-vf", "setpts='PTS+0.05*sin(N)/TB'", "-fps_mode", "vfr", "-c:v", "libx264",
                "-preset", "ultrafast", "-c:a", "copy")  # fmt: skip
    report = analyse(out, Q, settings=Settings())
    assert report.face.available, report.face.reason
    assert report.face.visible_ratio > 0.8


def test_face_work_stays_on_one_core_and_the_thread_gets_its_cores_back() -> None:
    import os
    import threading

    from coach_core.analysis.face import one_core

    before = os.sched_getaffinity(0)
    seen: list[set[int]] = []
    with one_core():
        inside = os.sched_getaffinity(0)
        worker = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))  # like MediaPipe's threads
        worker.start()
        worker.join()
    assert os.sched_getaffinity(0) == before  # pool threads are reused: restored
    if len(before) > 1:
        assert len(inside) == 1 and inside <= before
        assert seen == [inside]  # threads started inside inherit the one core
    else:
        assert inside == before
