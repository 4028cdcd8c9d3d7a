"""Benchmark: the mock interview's two waits (issue 16).

- Question audio after "Next": the interviewer's voice for the next question. The interview page
  synthesises every question when the interview starts (``tts.prefetch``), while the person reads and
  answers the first; "Next" then only finds the cached WAV. Measured: synthesis of one question from
  scratch (what "Next" would cost without the prefetch), and the cached lookup after the prefetch.
  The browser's own start of playback (``<audio autoplay>``) is not included.
- Follow-up chosen after Stop: an answer fed live (real time x ``speed``), then Stop, the session's
  analysis with the live parts handed over (as the page does), then ``choose_follow_up``.

Run: .venv/bin/python -m bench.interview [--speed 1]   (prints JSON; bench.run puts it in RESULTS.md)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from bench.answers import QUESTION, make_answers  # noqa: E402
from coach_core.config import Settings  # noqa: E402


def question_audio(settings: Settings) -> dict[str, Any]:
    from coach_core.interview.plan import plan_interview
    from coach_core.models import tts

    started = time.perf_counter()
    tts.voice()
    load_s = time.perf_counter() - started
    planned = plan_interview("software_engineer", 4, random.Random(7))
    texts = [q.text for q in planned]
    started = time.perf_counter()
    tts.speak(texts[0], settings)  # without a prefetch: what the first question costs
    cold_s = time.perf_counter() - started
    tts.prefetch(texts[1:], settings).result(timeout=600)  # while the person answers the first question
    hits = []
    for text in texts[1:]:
        started = time.perf_counter()
        tts.speak(text, settings)
        hits.append(time.perf_counter() - started)
    return {"voice_load_s": round(load_s, 2), "synthesis_s": round(cold_s, 2),
            "audio_after_next_s": round(max(hits), 4), "question_chars": len(texts[0])}  # fmt: skip


def follow_up_after_stop(settings: Settings, work: Path, speed: float) -> dict[str, Any]:
    from bench import live
    from coach_core.analysis.pipeline import warm_up
    from coach_core.interview.followups import choose_follow_up
    from coach_core.live.analyser import LiveAnalyser
    from coach_core.sessions.lifecycle import analyse_session, save_recording
    from coach_core.storage.store import Store

    warm_up(settings)
    answer = make_answers([30.0], work / "media")[30.0]
    store = Store(settings.database)
    analyser = LiveAnalyser(settings, use_video=False)
    live.feed(analyser, answer, video=False, speed=speed)
    stopped = time.perf_counter()
    analyser.stop()
    session_id = save_recording(store, settings, answer.audio, QUESTION, original_name=answer.audio.name)
    report = analyse_session(store, settings, session_id, live=analyser)
    analysed_s = time.perf_counter() - stopped
    follow_up = choose_follow_up(QUESTION, report)
    chosen_s = time.perf_counter() - stopped
    store.close()
    return {
        "report_after_stop_s": round(analysed_s, 2),
        "follow_up_after_stop_s": round(chosen_s, 2),
        "live_used": "live_chunks" in report.timings,
        "follow_up": follow_up.to_dict() if follow_up else None,
    }


def run(speed: float = 1.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-interview-") as tmp:
        work = Path(tmp)
        settings = Settings(data_dir=work / "data", model_cache_dir=work / "cache")
        return {**question_audio(settings), **follow_up_after_stop(settings, work, speed)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=1.0, help="feed the live answer this many times real time")
    print(json.dumps(run(parser.parse_args().speed), indent=2))
