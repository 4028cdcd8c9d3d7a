"""Benchmark: seconds from Stop to a stored report for answers recorded live, and peak memory.

Run: .venv/bin/python -m bench.live [--quick] [--lengths 30 120 300] [--audio-only] [--speed 1]
(writes bench/results/live.json and prints a table). ``--quick`` skips the 5-minute answer.

Each answer (bench/answers.py: espeak speech with fillers, and a 640x480 30 fps video of the astronaut's
face moving) is fed to a :class:`coach_core.live.analyser.LiveAnalyser` at real-time pace, the way the recorder
page feeds it: 20 ms audio frames of 48 kHz stereo int16 (what aiortc delivers) from one thread, video
frames from another, each converted to RGB only when the analyser wants one (``face_fps``). Then Stop:
the recording is saved, the analyser handed to the session's analysis, and the session analysed as the app's
job runner does (``sessions.analyse_session``). "after Stop" is the time from Stop to the stored report.
The browser, WebRTC and the file encoder are not part of this measurement (they run during the answer,
not after Stop).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from bench.answers import QUESTION, Answer, make_answers  # noqa: E402
from coach_core.analysis.pipeline import warm_up  # noqa: E402
from coach_core.config import Settings  # noqa: E402
from coach_core.live.analyser import LiveAnalyser  # noqa: E402
from coach_core.sessions.lifecycle import analyse_session, save_recording  # noqa: E402
from coach_core.storage.store import Store  # noqa: E402

AUDIO_FRAME = 960  # 20 ms at 48 kHz


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _webrtc_audio(path: Path) -> Any:
    import av
    import numpy as np

    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)  # FFmpeg's upmix would lower it 3 dB
        out = [f.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for f in resampler.resample(frame)]
        out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.repeat(np.concatenate(out), 2)  # stereo: the browser's two identical channels, interleaved


def feed(analyser: LiveAnalyser, answer: Answer, *, video: bool, speed: float = 1.0) -> float:
    """Feed one answer at ``speed`` times real time; returns the wall time the feed took."""
    import av

    pcm = _webrtc_audio(answer.video if video else answer.audio)
    start = time.monotonic() + 0.2
    errors: list[BaseException] = []

    def pace(t: float) -> None:
        ahead = start + t / speed - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)

    def audio() -> None:
        try:
            for i in range(0, len(pcm) // 2, AUDIO_FRAME):
                t = i / 48000
                pace(t + AUDIO_FRAME / 48000)  # a frame arrives once it has been spoken
                analyser.add_audio(pcm[2 * i : 2 * (i + AUDIO_FRAME)].reshape(1, -1), 48000, channels=2)
        except BaseException as exc:
            errors.append(exc)

    def frames() -> None:
        try:
            with av.open(str(answer.video)) as container:
                first = None
                for frame in container.decode(video=0):
                    if frame.time is None:
                        continue
                    first = frame.time if first is None else first
                    t = frame.time - first
                    pace(t)
                    if analyser.wants_video(t):
                        analyser.add_video(frame.to_ndarray(format="rgb24"), t)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=audio, name="bench-audio")]
    if video:
        threads.append(threading.Thread(target=frames, name="bench-video"))
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.monotonic() - began


def run(durations: list[float], *, video: bool = True, speed: float = 1.0, work: Path | None = None) -> list[dict]:
    """Record each answer live and time the report after Stop. One dict per answer length.

    Keys: duration_s, after_stop_s (Stop → report stored), live_used, chunks, tail_s (Stop → last
    chunk transcribed), behind_s (audio not yet transcribed at Stop), face_frames_pending_at_stop,
    content_s (MiniLM coverage and STAR after Stop), face_frames, feed_s, peak_rss_mb.
    """
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        base = Path(work or tmp)
        answers = make_answers(sorted(set(durations)), base / "media")
        settings = Settings(data_dir=base / "data")
        warm_up(settings)  # the app loads the models at start
        store = Store(settings.database)
        try:
            for seconds in durations:
                answer = answers[seconds]
                analyser = LiveAnalyser(settings, use_video=video)
                feed_s = feed(analyser, answer, video=video, speed=speed)
                at_stop = analyser.progress()
                stopped = time.perf_counter()
                analyser.stop()
                recording = answer.video if video else answer.audio
                session_id = save_recording(store, settings, recording, QUESTION, original_name=recording.name)
                report = analyse_session(store, settings, session_id, live=analyser)
                after_stop = time.perf_counter() - stopped
                results.append(
                    {
                        "duration_s": round(report.duration_s, 1),
                        "video": video,
                        "after_stop_s": round(after_stop, 2),
                        "live_used": "live_chunks" in report.timings,
                        "chunks": int(report.timings.get("live_chunks", 0)),
                        "tail_s": report.timings.get("live_tail"),
                        "behind_s": round(at_stop.audio_s - at_stop.transcribed_s, 1),
                        "face_frames_pending_at_stop": at_stop.face_pending,
                        "content_s": report.timings.get("content"),
                        "face_frames": report.face.frames_analysed if report.face else 0,
                        "feed_s": round(feed_s, 1),
                        "peak_rss_mb": round(peak_rss_mb()),
                    }
                )
        finally:
            store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 5-minute answer")
    parser.add_argument("--lengths", type=float, nargs="+", help="answer lengths in seconds (default 30 120 300)")
    parser.add_argument("--audio-only", action="store_true", help="feed the audio only (no camera)")
    parser.add_argument("--speed", type=float, default=1.0, help="feed pace, times real time (default 1)")
    args = parser.parse_args()
    lengths = args.lengths or ([30.0, 120.0] if args.quick else [30.0, 120.0, 300.0])
    results = run(lengths, video=not args.audio_only, speed=args.speed)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "live.json").write_text(json.dumps(results, indent=2))
    print(
        "| answer | after Stop (s) | live used | chunks | tail (s) | behind at Stop (s) | face frames | peak RSS (MB) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['duration_s']:.0f} s {'video' if r['video'] else 'audio'} | {r['after_stop_s']:.2f} | "
            f"{r['live_used']} | {r['chunks']} | {r['tail_s']} | {r['behind_s']} | {r['face_frames']} | "
            f"{r['peak_rss_mb']} |"
        )


if __name__ == "__main__":
    main()
