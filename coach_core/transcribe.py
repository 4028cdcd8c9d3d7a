"""Speech to timed words with faster-whisper, keeping fillers.

Whisper drops "um"/"uh" unless its prompt already contains them (see shared STACK.md), so the
initial prompt is written with fillers. The English-only default model cannot identify the
language; a low mean word probability is reported as a language/clarity notice instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import Settings, load_settings
from .engines import whisper
from .media import SAMPLE_RATE, MediaError
from .schema import Word

# Only fillers go in the prompt: putting the question there as context made tiny.en skip most of
# an answer in a trial (prompt-induced skipping), so domain words are left to the model.
FILLER_PROMPT = "Um, uh, so, uh, I mean, um, you know, like, I was, uh, thinking about it, er, ah."
MIN_SPEECH_S = 0.5  # less voiced speech than this (Silero VAD) means there is no answer to analyse
# Mean word probability under which the transcript is likely not English or badly recorded.
# English speech from several voices scored 0.75-0.95 with tiny.en; other languages 0.3-0.55.
LANGUAGE_CONFIDENCE_MIN = 0.6

ProgressFn = Callable[[float, str], None]


@dataclass
class Transcript:
    words: list[Word]
    text: str
    language: str
    language_confidence: float
    language_notice: str | None
    speech_s: float


def speech_seconds(samples: np.ndarray) -> float:
    """Seconds of voice activity found by Silero VAD (bundled with faster-whisper)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    spans = get_speech_timestamps(samples, VadOptions(min_silence_duration_ms=500))
    return sum(s["end"] - s["start"] for s in spans) / SAMPLE_RATE


def transcribe(
    samples: np.ndarray,
    settings: Settings | None = None,
    progress: ProgressFn | None = None,
) -> Transcript:
    """Transcribe 16 kHz mono audio into timed words.

    Args:
        samples: float32 mono audio at 16 kHz.
        settings: model name, compute type, threads and beam size come from here.
        progress: called with (fraction 0..1, message) as segments are decoded.

    Raises:
        MediaError: when the audio holds no speech (noise or silence).
    """
    settings = settings or load_settings()
    speech_s = speech_seconds(samples)
    if speech_s < MIN_SPEECH_S:
        raise MediaError(
            "No speech was found in the recording (it sounds like noise or silence); "
            "check the microphone and answer out loud."
        )
    model = whisper(settings)
    duration = len(samples) / SAMPLE_RATE
    segments, info = model.transcribe(
        samples,
        language="en" if model.model.is_multilingual is False else None,
        beam_size=settings.whisper_beam_size,
        word_timestamps=True,
        vad_filter=True,
        initial_prompt=FILLER_PROMPT,
        # True (Whisper's default): with False, tiny.en returned an empty first 30 s window on
        # fast speech (~250 wpm) in a trial, losing most of the answer.
        condition_on_previous_text=True,
    )
    words: list[Word] = []
    texts: list[str] = []
    for segment in segments:  # a generator: decoding happens while we iterate
        texts.append(segment.text.strip())
        for w in segment.words or []:
            words.append(
                Word(
                    word=w.word.strip(),
                    start=float(w.start),
                    end=float(w.end),
                    probability=float(w.probability),
                )
            )
        if progress is not None and duration > 0:
            progress(min(segment.end / duration, 1.0), "transcribing")
    if not words:
        raise MediaError("No words could be recognised in the recording; speak closer to the microphone.")
    confidence = float(np.mean([w.probability for w in words]))
    language = info.language or "en"
    notice = None
    if language != "en":
        notice = f"The answer seems to be in '{language}'; coaching norms here are for English."
    elif confidence < LANGUAGE_CONFIDENCE_MIN:
        notice = (
            f"The transcript is uncertain (mean word confidence {confidence:.0%}): the answer may "
            "not be in English, or the audio is unclear. Scores may be unreliable."
        )
    return Transcript(
        words=words,
        text=" ".join(t for t in texts if t),
        language=language,
        language_confidence=confidence,
        language_notice=notice,
        speech_s=speech_s,
    )
