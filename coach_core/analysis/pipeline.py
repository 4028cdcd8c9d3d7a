"""The analysis pipeline: a recording and a question in, one typed :class:`Report` out.

Steps: decode → transcribe (face analysis and the word-independent voice measures run alongside on
the other core) → speech metrics → content coverage and STAR → voice → stress → scores and tips.
Progress is reported per step. A live recording may already have done the first steps while the
person spoke (:mod:`coach_core.live.analyser`); both paths end in the same :func:`build_report`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from coach_core.analysis import voice_process as offload
from coach_core.analysis.coverage import coverage, evidence_for
from coach_core.analysis.face import FaceMetrics, analyse_face
from coach_core.analysis.scoring import score_all
from coach_core.analysis.star import analyse_star
from coach_core.analysis.stress import UNRELIABLE_VOICE_REASON, analyse_stress, voice_cues
from coach_core.analysis.text_metrics import Sentence, speech_metrics, split_sentences
from coach_core.analysis.tips import build_tips
from coach_core.analysis.transcribe import Transcript, transcribe
from coach_core.analysis.vocabulary import question_vocabulary
from coach_core.analysis.voice import VoiceFeatures, voice_metrics
from coach_core.config import Settings, load_settings
from coach_core.media.decode import decode_audio
from coach_core.schema import Coverage, MediaInfo, Question, Report, Series, Star, VoiceMetrics, Word

log = logging.getLogger(__name__)
T = TypeVar("T")

ProgressFn = Callable[[str, float], None]  # (step name, overall fraction 0..1)

STEPS = ("decoding", "transcribing", "content", "voice", "face", "scoring")


def content_metrics(
    question: Question, words: Sequence[Word], sentences: Sequence[Sentence] | None = None
) -> tuple[Coverage | None, Star | None]:
    """Key-point coverage (None without key points) and, for a behavioural question, STAR."""
    sentences = split_sentences(words) if sentences is None else sentences
    found = coverage(
        question.key_points,
        sentences,
        evidence=evidence_for(question),
        kind=question.kind,
        question_text=question.text,
    )
    return found, analyse_star(sentences) if question.is_behavioural else None


def stress_cues(voice: VoiceMetrics, face: FaceMetrics | None) -> dict[str, Series]:
    cues = voice_cues(voice)  # none when the voice measures are unreliable (quiet, noisy)
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


def face_unavailable(*, has_video: bool) -> FaceMetrics:
    """The face section when the face is not analysed: no video, or the camera analysis turned off."""
    reason = "No video in this recording (audio-only)." if not has_video else "Camera analysis was turned off."
    return FaceMetrics(available=False, reason=reason)


def build_report(
    question: Question,
    transcript: Transcript,
    voice_features: VoiceFeatures,
    face: FaceMetrics | Future[FaceMetrics],
    *,
    duration_s: float,
    media: MediaInfo | None,
    notices: list[str],
    session_id: str | None,
    timings: dict[str, float],
    progress: ProgressFn | None = None,
    face_attempted: bool = False,
) -> Report:
    """The steps after transcription, shared by uploaded files and live recordings.

    Args:
        question: the question answered, with its key points.
        transcript: timed words of the whole answer.
        voice_features: word-independent voice measures of the whole answer.
        face: the face section (unavailable when there was no video), or the job computing it.
        duration_s: length of the answer.
        media: what the recording holds.
        notices: notices so far (decoding); face, language and voice notices are added here.
        session_id: id to put in the report (a new one if omitted).
        timings: step timings so far; this adds its own.
        progress: called with (step, overall fraction).
        face_attempted: the face was looked for in a video (its notices then go in the report).
    """
    report_progress = progress or (lambda step, fraction: None)

    def mark(step: str, started: float) -> None:
        timings[step] = round(time.perf_counter() - started, 3)

    report_progress("content", 0.62)
    t = time.perf_counter()
    metrics = speech_metrics(transcript.words, duration_s)
    sentences = split_sentences(transcript.words)
    metrics.coverage, metrics.star = content_metrics(question, transcript.words, sentences)
    mark("content", t)

    report_progress("voice", 0.72)
    t = time.perf_counter()
    voice = voice_metrics(voice_features, transcript.words, sentences)
    mark("voice_words", t)

    if isinstance(face, Future):
        report_progress("face", 0.8)
        t = time.perf_counter()
        face = face.result()
        mark("face_wait", t)
    notices = list(notices)
    if face_attempted:
        notices.extend(face.notices)
        if not face.available:
            notices.append(f"Face analysis unavailable: {face.reason}")

    report_progress("scoring", 0.95)
    t = time.perf_counter()
    stress = analyse_stress(stress_cues(voice, face), voice.voiced, "" if voice.reliable else UNRELIABLE_VOICE_REASON)
    scores = score_all(question, metrics, duration_s, voice=voice, face=face, stress=stress)
    tips = build_tips(question, metrics, duration_s, scores, voice=voice, face=face, stress=stress)
    mark("scoring", t)
    if transcript.language_notice:
        notices.insert(0, transcript.language_notice)
    notices.extend(voice.warnings)
    report_progress("done", 1.0)
    return Report(
        session_id=session_id or uuid.uuid4().hex[:12],
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        question=question,
        duration_s=duration_s,
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
        media=media,
        timings=timings,
    )


def analyse(
    path: Path | str,
    question: Question,
    *,
    settings: Settings | None = None,
    session_id: str | None = None,
    progress: ProgressFn | None = None,
    use_video: bool = True,
) -> Report:
    """Analyse one recorded answer from its file.

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
    return _analyse_file(path, question, settings or load_settings(), session_id, progress, use_video)


def _analyse_file(
    path: Path | str, question: Question, settings: Settings, session_id: str | None,
    progress: ProgressFn | None, use_video: bool,
) -> Report:  # fmt: skip
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
    face_attempted = use_video and audio.info.has_video

    # Whisper decodes on one core (cpu_threads=1 was the faster setting); the face and the
    # word-independent voice measures share the other.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="analysis") as pool:
        face: FaceMetrics | Future[FaceMetrics]
        if face_attempted:
            face = pool.submit(_timed, timings, "face", analyse_face, path, duration, settings.face_fps_file)
        else:
            face = face_unavailable(has_video=audio.info.has_video)
        # Praat holds the GIL: in a helper process it does not slow Whisper's Python steps.
        voice_job = pool.submit(_timed, timings, "voice", offload.voice_features, audio.samples)
        t = time.perf_counter()
        transcript = transcribe(
            audio.samples,
            settings,
            progress=lambda f, _msg: report_progress("transcribing", 0.05 + 0.55 * f),
            vocabulary=question_vocabulary(question.text, question.key_points),
        )
        mark("transcribing", t)
        report = build_report(
            question,
            transcript,
            voice_job.result(),
            face,
            duration_s=duration,
            media=audio.info,
            notices=list(audio.notices),
            session_id=session_id,
            timings=timings,
            progress=progress,
            face_attempted=face_attempted,
        )
    timings["total"] = round(time.perf_counter() - t0, 3)
    return report


def _timed(timings: dict[str, float], step: str, fn: Callable[..., T], *args: Any) -> T:
    started = time.perf_counter()
    try:
        return fn(*args)
    finally:
        timings[step] = round(time.perf_counter() - started, 3)


def warm_up(settings: Settings | None = None) -> None:
    """Load every model the analysis uses now (the app calls this in a background thread at start)."""
    from coach_core.analysis.star import prototype_vectors  # the STAR reference sentences, embedded once
    from coach_core.models.engines import embedder, whisper

    whisper(settings)
    embedder().encode(["warm up"], show_progress_bar=False)
    prototype_vectors()
    offload.start()  # the voice helper process
