"""Speech to timed words with faster-whisper, keeping fillers.

Whisper drops "um"/"uh" unless its prompt already contains them (see shared STACK.md), so the
initial prompt is written with fillers. The English-only default model cannot identify the
language; a low mean word probability is reported as a language/clarity notice instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


MIN_SPEECH_COVERED = 0.7  # share of voice-active time that must hold recognised words


def speech_spans(samples: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of voice activity found by Silero VAD (bundled with faster-whisper)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    spans = get_speech_timestamps(samples, VadOptions(min_silence_duration_ms=500))
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in spans]


def _speech_covered(words: list[Word], spans: list[tuple[float, float]]) -> float:
    """Share of voice-active seconds that fall within a second of some recognised word."""
    total = sum(b - a for a, b in spans)
    if total <= 0:
        return 1.0
    covered = 0.0
    for a, b in spans:
        t = a
        while t < b:
            step = min(0.5, b - t)
            mid = t + step / 2
            if any(w.start - 1.0 <= mid <= w.end + 1.0 for w in words):
                covered += step
            t += step
    return covered / total


def _decode(
    model: Any, samples: np.ndarray, settings: Settings, prompt: str | None, duration: float,
    progress: ProgressFn | None,
) -> tuple[list[Word], list[str], str]:  # fmt: skip
    segments, info = model.transcribe(
        samples,
        language="en" if model.model.is_multilingual is False else None,
        beam_size=settings.whisper_beam_size,
        word_timestamps=True,
        vad_filter=True,
        initial_prompt=prompt,
        # Whisper's default: with False, tiny.en returned an empty first 30 s window on fast speech.
        condition_on_previous_text=True,
        # Greedy/beam decoding only, no sampling fallback: the fallback made tiny.en drop whole
        # windows of fast speech at random; at 0.0 the result is the same on every run.
        temperature=0.0,
    )
    words: list[Word] = []
    texts: list[str] = []
    for segment in segments:  # a generator: decoding happens while we iterate
        texts.append(segment.text.strip())
        for w in segment.words or []:
            words.append(
                Word(word=w.word.strip(), start=float(w.start), end=float(w.end), probability=float(w.probability))
            )
        if progress is not None and duration > 0:
            progress(min(segment.end / duration, 1.0), "transcribing")
    return words, texts, info.language or "en"


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
    spans = speech_spans(samples)
    speech_s = sum(b - a for a, b in spans)
    if speech_s < MIN_SPEECH_S:
        raise MediaError(
            "No speech was found in the recording (it sounds like noise or silence); "
            "check the microphone and answer out loud."
        )
    model = whisper(settings)
    duration = len(samples) / SAMPLE_RATE
    words, texts, language = _decode(model, samples, settings, FILLER_PROMPT, duration, progress)
    if _speech_covered(words, spans) < MIN_SPEECH_COVERED:
        # The model skipped part of the answer (seen on fast speech). Without the filler prompt it
        # keeps more words; fillers may then be under-counted, so keep whichever run heard more.
        retry = _decode(model, samples, settings, None, duration, None)
        if len(retry[0]) > len(words):
            words, texts, language = retry
    if not words:
        raise MediaError("No words could be recognised in the recording; speak closer to the microphone.")
    confidence = float(np.mean([w.probability for w in words]))
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
