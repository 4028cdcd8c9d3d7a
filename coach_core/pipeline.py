"""The analysis pipeline: a recording and a question in, one typed :class:`Report` out.

Steps: decode → transcribe (face analysis runs alongside on the other core) → speech metrics →
content coverage and STAR → voice → stress → scores and tips. Progress is reported per step.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from .config import Settings, load_settings
from .coverage import coverage
from .face import FaceMetrics, analyse_face
from .media import decode_audio
from .schema import Question, Report, Series
from .scoring import score_all
from .star import analyse_star
from .stress import analyse_stress
from .text_metrics import speech_metrics, split_sentences
from .tips import build_tips
from .transcribe import transcribe
from .voice import analyse_voice

ProgressFn = Callable[[str, float], None]  # (step name, overall fraction 0..1)

STEPS = ("decoding", "transcribing", "content", "voice", "face", "scoring")


def stress_cues(voice_pace: Series, voice_pitch: Series, face: FaceMetrics | None) -> dict[str, Series]:
    cues = {"pitch rise": voice_pitch, "speech-rate jump": voice_pace}
    if face is not None and face.available:
        cues.update(
            {
                "brow lowering": face.brow_lowering,
                "lip press": face.lip_press,
                "blinking": face.blinks,
                "gaze aversion": face.gaze_away,
            }
        )
    return cues


def analyse(
    path: Path | str,
    question: Question,
    *,
    settings: Settings | None = None,
    session_id: str | None = None,
    progress: ProgressFn | None = None,
    use_video: bool = True,
) -> Report:
    """Analyse one recorded answer.

    Args:
        path: audio or video file (wav, mp3, m4a, ogg/opus, webm, mp4, mov, mkv, flac).
        question: the question answered, with its key points.
        settings: limits and model settings; defaults from the environment.
        session_id: id to put in the report (a new one if omitted).
        progress: called with (step, overall fraction) as the work advances.
        use_video: analyse the face when the file has a video track.

    Raises:
        MediaError: the recording cannot be analysed; the message says why.
    """
    settings = settings or load_settings()
    timings: dict[str, float] = {}
    report_progress = progress or (lambda step, fraction: None)

    def mark(step: str, started: float) -> None:
        timings[step] = round(time.perf_counter() - started, 3)

    t0 = time.perf_counter()
    report_progress("decoding", 0.0)
    audio = decode_audio(
        path,
        max_duration_s=settings.max_duration_s,
        min_duration_s=settings.min_duration_s,
    )
    mark("decoding", t0)
    duration = audio.duration_s
    notices = list(audio.notices)

    face: FaceMetrics | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="face") as pool:
        face_job = None
        if use_video and audio.info.has_video:
            face_started = time.perf_counter()
            face_job = pool.submit(analyse_face, path, duration, settings.face_fps)
        t = time.perf_counter()
        transcript = transcribe(
            audio.samples,
            settings,
            progress=lambda f, _msg: report_progress("transcribing", 0.05 + 0.55 * f),
        )
        mark("transcribing", t)

        report_progress("content", 0.62)
        t = time.perf_counter()
        metrics = speech_metrics(transcript.words, duration)
        sentences = split_sentences(transcript.words)
        metrics.coverage = coverage(question.key_points, sentences)
        if question.is_behavioural:
            metrics.star = analyse_star(sentences)
        mark("content", t)

        report_progress("voice", 0.72)
        t = time.perf_counter()
        voice = analyse_voice(audio.samples, transcript.words, sentences)
        mark("voice", t)

        if face_job is not None:
            report_progress("face", 0.8)
            face = face_job.result()
            timings["face"] = round(time.perf_counter() - face_started, 3)
            notices.extend(face.notices)
            if not face.available:
                notices.append(f"Face analysis unavailable: {face.reason}")
        else:
            face = FaceMetrics(
                available=False,
                reason="No video in this recording (audio-only)."
                if not audio.info.has_video
                else "Camera analysis was turned off.",
            )

    report_progress("scoring", 0.95)
    t = time.perf_counter()
    stress = analyse_stress(stress_cues(voice.pace, voice.pitch, face))
    scores = score_all(question, metrics, duration, voice=voice, face=face, stress=stress)
    tips = build_tips(question, metrics, duration, scores, voice=voice, face=face, stress=stress)
    mark("scoring", t)
    if transcript.language_notice:
        notices.insert(0, transcript.language_notice)
    notices.extend(voice.warnings)
    timings["total"] = round(time.perf_counter() - t0, 3)
    report_progress("done", 1.0)
    return Report(
        session_id=session_id or uuid.uuid4().hex[:12],
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        question=question,
        duration_s=duration,
        language=transcript.language,
        transcript=transcript.text,
        words=transcript.words,
        metrics=metrics,
        scores=scores,
        tips=tips,
        language_notice=transcript.language_notice,
        language_confidence=transcript.language_confidence,
        voice=voice,
        face=face,
        stress=stress,
        notices=notices,
        media=audio.info,
        timings=timings,
    )
