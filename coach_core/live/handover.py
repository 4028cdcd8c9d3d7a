"""Handing a live analysis to the analysis of the saved recording (explicitly: nothing global)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from coach_core.analysis.pipeline import ProgressFn, analyse
from coach_core.config import Settings, load_settings
from coach_core.live.analyser import LiveAnalyser
from coach_core.media.decode import SILENCE_DBFS, probe, rms_dbfs
from coach_core.schema import Question, Report

log = logging.getLogger(__name__)

# The live parts stand in for the file when their audio is this close to its length.
LIVE_COVER_TOLERANCE_S = 1.0
LIVE_COVER_TOLERANCE_RATIO = 0.03


def analyse_with_live(
    path: Path | str,
    question: Question,
    live: LiveAnalyser,
    *,
    settings: Settings | None = None,
    session_id: str | None = None,
    progress: ProgressFn | None = None,
    use_video: bool = True,
) -> Report:
    """Analyse a recorded answer, using what ``live`` analysed while it was recorded when that covers the file.

    Otherwise (or when the live parts fail) the file is analysed from scratch, as
    :func:`coach_core.analysis.pipeline.analyse` does. ``live`` is closed in every case.
    """
    settings = settings or load_settings()
    try:
        report = _analyse_live(path, question, live, settings, session_id, progress, use_video)
    except Exception as exc:  # the file alone decides; its analysis gives the canonical error
        log.info("live parts not used for %s: %s", path, exc)
        report = None
    finally:
        live.close()
    if report is not None:
        return report
    return analyse(path, question, settings=settings, session_id=session_id, progress=progress, use_video=use_video)


def _analyse_live(
    path: Path | str, question: Question, live: LiveAnalyser, settings: Settings, session_id: str | None,
    progress: ProgressFn | None, use_video: bool,
) -> Report | None:  # fmt: skip
    """The report from the live parts, or None when they do not cover the saved recording."""
    t0 = time.perf_counter()
    info = probe(path, max_duration_s=settings.max_duration_s)
    parts = live.parts()
    declared = info.duration_s
    covered = declared > 0 and abs(parts.duration_s - declared) <= max(
        LIVE_COVER_TOLERANCE_S, LIVE_COVER_TOLERANCE_RATIO * declared
    )
    if not covered:
        log.info("live audio %.1f s does not cover the file's %.1f s", parts.duration_s, declared)
        return None
    if use_video and info.has_video and (not live.use_video or not parts.face_frames):
        return None  # the face was not followed live: the file has it
    if rms_dbfs(parts.samples) < SILENCE_DBFS:
        return None
    info.duration_s = parts.duration_s
    report = live.finish(question, session_id, media=info, progress=progress, use_video=use_video and info.has_video)
    report.timings["total"] = round(time.perf_counter() - t0, 3)
    return report
