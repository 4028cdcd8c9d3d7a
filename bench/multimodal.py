"""Benchmark: face analysis frames/s at 640x480 and voice analysis time per minute of audio.

Run: .venv/bin/python bench/multimodal.py  (writes bench/results/multimodal.json and prints a table)
Media is generated here (espeak-ng speech, astronaut video), as in the tests.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from media_factory import astronaut_png, concat_audio, face_video, speak  # noqa: E402

from coach_core.analysis.face import FaceTracker, sample_frames  # noqa: E402
from coach_core.analysis.voice import analyse_voice  # noqa: E402
from coach_core.media.decode import decode_audio  # noqa: E402

TEXT = (
    "I was working at a payment company and our nightly import kept failing. My task was to make it reliable. "
    "I analysed the logs, rewrote the retry logic and added alerts. Failures dropped by ninety percent. "
)


def main() -> None:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        part = speak(TEXT, d / "part.wav")
        audio = concat_audio([part] * 4, d / "minute.wav", silence_s=0.5)
        video = face_video(astronaut_png(d / "a.png"), audio, d / "answer.mp4", size="640x480", fps=30)
        decoded = decode_audio(audio)
        minutes = decoded.duration_s / 60
        analyse_voice(decoded.samples[:16000], [], [])  # first-call costs out of the way
        t = time.perf_counter()
        analyse_voice(decoded.samples, [], [])
        out["voice_s_per_audio_minute"] = (time.perf_counter() - t) / minutes
        frames = list(sample_frames(video, fps=30))
        with FaceTracker() as tracker:
            tracker.process(0.0, frames[0][1])
            t = time.perf_counter()
            for ts, rgb in frames[1:]:
                tracker.process(ts, rgb)
            out["face_frames_per_s_640x480"] = (len(frames) - 1) / (time.perf_counter() - t)
        t = time.perf_counter()
        n = sum(1 for _ in sample_frames(video, fps=10))
        out["video_decode_sample_10fps_s_per_minute"] = (time.perf_counter() - t) / minutes
        out["frames_sampled_10fps"] = n
        out["audio_minutes"] = minutes
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "multimodal.json").write_text(json.dumps(out, indent=2))
    for k, v in out.items():
        print(f"| {k} | {v:.2f} |")


if __name__ == "__main__":
    main()
