"""Benchmark answers: espeak-ng speech of a realistic interview answer cut to an exact length, and a
640x480 video of the astronaut's face moving, with that speech as its sound. Made in a temp dir.

Built on the tests' media factory (tests/media_factory.py), so bench and tests make media the same way.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from media_factory import astronaut_png, concat_audio, duration, run, speak  # noqa: E402

from coach_core.schema import Question  # noqa: E402

QUESTION = Question(
    text="Tell me about a time you had to fix an unreliable system under time pressure.",
    key_points=[
        "Describe the situation and why it mattered to the business",
        "Say what you personally were responsible for",
        "Explain the concrete actions you took, such as retries, monitoring and alerts",
        "Give a measurable result, for example fewer failures or faster reports",
    ],
    kind="behavioural",
    role="software_engineer",
    id="bench-unreliable-system",
    time_budget_s=120.0,
)

# One answer told in varied paragraphs (a STAR story, then follow-up detail), with the fillers and
# hedges people really use. Paragraphs are cycled, with rate and pitch varied, to reach any length.
PARAGRAPHS = (
    "Um, so, two years ago I was working at a payments company, and our nightly data import kept failing, "
    "uh, about twice a week. When it failed, the finance team had no reports in the morning.",
    "My task was to make that import reliable before the end of the quarter. I was, you know, the only "
    "engineer on the data team who knew the old code, so it was really on me.",
    "First I analysed the logs from the last three months. Uh, most failures were timeouts from one "
    "partner's server, and I think a few were, um, duplicate files that broke our parser.",
    "Then I rewrote the retry logic with exponential back off, so a slow partner no longer killed the "
    "whole run. I also made the parser skip duplicates and, uh, write them to a quarantine folder.",
    "I added alerts for every failed batch, and a small dashboard, so the on-call person could see, like, "
    "which partner was late without opening the logs at all.",
    "As a result, failures dropped by ninety percent within a month, and the finance team got their "
    "reports on time every single morning. Um, the run also got about twenty minutes faster.",
    "What I learned is, uh, to measure first. I mean, my first guess was the database, and I would have "
    "spent weeks on the wrong problem if I had not looked at the logs.",
    "If I did it again, I would, um, involve the finance team earlier, because they knew which reports "
    "mattered most, and we could have fixed those batches first.",
)
VOICES = ((150, 50), (158, 44), (144, 56), (162, 48))  # (words per minute, pitch) per paragraph, cycled
GAP_S = 0.6  # silence between paragraphs
VIDEO_SIZE = (640, 480)
VIDEO_FPS = 30  # a webcam's usual rate; the analysis samples COACH_FACE_FPS of these


@dataclass(frozen=True)
class Answer:
    seconds: float
    audio: Path  # WAV, espeak speech
    video: Path  # MP4 (H.264 + AAC), the same speech with a moving face


def speech_of_length(seconds: float, out: Path, work: Path) -> Path:
    """Speech of exactly ``seconds``: paragraphs cycled (voices varied) until long enough, then cut."""
    parts: list[Path] = []
    total = 0.0
    i = 0
    while total < seconds + 1:
        rate, pitch = VOICES[i % len(VOICES)]
        text = PARAGRAPHS[i % len(PARAGRAPHS)]
        part = work / f"para_{i:03d}.wav"
        if not part.exists():
            speak(text, part, rate=rate, pitch=pitch)
        parts.append(part)
        total += duration(part) + GAP_S
        i += 1
    joined = concat_audio(parts, work / f"joined_{seconds:.0f}.wav", silence_s=GAP_S)
    run(["sox", str(joined), str(out), "trim", "0", f"{seconds:.3f}", "fade", "0", f"{seconds:.3f}", "0.3"])
    return out


def moving_face_video(png: Path, audio: Path, out: Path, fps: int = VIDEO_FPS) -> Path:
    """The astronaut photo, framed at 640x480 and drifting slowly (a person moving a little), plus the audio."""
    w, h = VIDEO_SIZE
    # Scale a little larger than the frame, then move a 640x480 window around the face.
    vf = (
        f"scale={w + 80}:{h + 60}:force_original_aspect_ratio=increase,"
        f"crop={w}:{h}:x='40+36*sin(t*0.9)':y='30+26*sin(t*0.6)',fps={fps},format=yuv420p"
    )
    run(["ffmpeg", "-y", "-loglevel", "error", "-loop", "1", "-framerate", str(fps), "-i", str(png),
         "-i", str(audio), "-vf", vf, "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", "-b:a", "96k", str(out)])  # fmt: skip
    return out


def make_answers(lengths: list[float], work: Path) -> dict[float, Answer]:
    """Audio-only and video answers of each length (seconds), generated under ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    png = astronaut_png(work / "astronaut.png")
    out: dict[float, Answer] = {}
    for seconds in lengths:
        audio = speech_of_length(seconds, work / f"answer_{seconds:.0f}s.wav", work)
        video = moving_face_video(png, audio, work / f"answer_{seconds:.0f}s.mp4")
        out[seconds] = Answer(seconds=seconds, audio=audio, video=video)
    return out
