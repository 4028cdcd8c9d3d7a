"""Speech to timed words with faster-whisper, keeping fillers.

Whisper drops "um"/"uh" unless its prompt already contains them (see shared STACK.md), so the
initial prompt is written with fillers. The English-only default model cannot identify the
language: when its own signs say "maybe not English" (few credible words for the voice, two decodes
that disagree, a low mean word probability, a second decode needed) the multilingual Whisper base
names the language from up to 30 s of the voiced audio (:func:`identify_language`). A clear English
answer pays nothing for this; an unclear one ~2-3 s on one core.

A whole file is one stretch; a live recording is transcribed in chunks as it comes in
(:mod:`coach_core.live.analyser`). Both use :func:`transcribe_chunk` (same decoding rules) and
:func:`assemble_transcript` (the language notice is judged once, on the whole answer).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coach_core.analysis.asr_checks import FILLER_TOKENS, LoopCheck, collapse_loops, settle_suspects, understood
from coach_core.analysis.language import (
    _voiced,
    english_in_doubt,
    identify_language,
    language_notice,
)
from coach_core.analysis.redecode import (
    MIN_SPEECH_COVERED,
    RETRY_PAD_S,
    retry_windows,
    speech_covered,
    without_displaced,
)
from coach_core.config import Settings, load_settings
from coach_core.media.decode import SAMPLE_RATE, MediaError
from coach_core.models.engines import whisper
from coach_core.schema import Word

# The prompt holds only fillers (putting the question there made tiny.en skip much of an answer in a
# trial); the question's own words go in as faster-whisper's ``hotwords``, which sit before the
# prompt in every 30 s window, so the fillers stay the text closest to the audio (bench/VOCABULARY.md).
FILLER_PROMPT = "Um, uh, so, uh, I mean, um, you know, like, I was, uh, thinking about it, er, ah."
MIN_SPEECH_S = 0.5  # less voiced speech than this (Silero VAD) means there is no answer to analyse


log = logging.getLogger(__name__)

DecodeProgress = Callable[[float, str], None]  # (fraction of the audio decoded, message)


@dataclass
class Transcript:
    words: list[Word]
    text: str
    language: str
    language_confidence: float
    language_notice: str | None
    speech_s: float


END_EDGE_S = 0.05  # a word starting this close to the end of the audio has no sound of its own
REMAINDER_S = 0.25  # audio left after a decoded segment shorter than this is not decoded (too short for a word)
# A filler whose time (± WORD_SLACK_S) holds no 25 ms frame within SILENT_BELOW_PEAK_DB of the loud
# end of the audio (95th percentile), nor above SILENT_FLOOR_DBFS, was said in silence: a phantom.
WORD_LEVEL_FRAME_S = 0.025
WORD_SLACK_S = 0.1
_NON_WORD = re.compile(r"[^\w']+")
SILENT_BELOW_PEAK_DB = 30.0
SILENT_FLOOR_DBFS = -55.0
LOOP_RETRY_WORDS = 5  # words dropped as repetition loops that trigger a second decode
# The second decode covers only the stretches in trouble (a loop, voice without words), unless
# they add up to this share of the audio: then the whole stretch is decoded again, as before.
RETRY_WHOLE_SHARE = 0.5


VAD_PAD_S = 0.4  # Silero VAD's spans reach this far beyond the voice (faster-whisper's speech_pad_ms)
# The audio Whisper decodes reaches this far beyond each voiced span. Silero scores a filled pause
# ("uh" before a sentence) lower than words, so one at the edge of a span fell outside it and was
# never decoded; filled pauses last ~0.2-0.8 s (Shriberg 2001, "To 'errrr' is human"), so this pad
# covers a whole one. A filler Whisper then places in silence is dropped by _heard.
DECODE_PAD_MS = 800


def speech_spans(samples: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of voice activity found by Silero VAD (bundled with faster-whisper)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=500, speech_pad_ms=round(VAD_PAD_S * 1000))
    spans = get_speech_timestamps(samples, options)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in spans]


def decode_options(
    model: Any, settings: Settings, prompt: str | None, vocabulary: Sequence[str] = ()
) -> dict[str, Any]:
    """faster-whisper's transcribe() options used for every answer (the benchmark's baseline uses them too)."""
    return {
        "hotwords": ", ".join(vocabulary) or None,
        "language": "en" if model.model.is_multilingual is False else None,
        "beam_size": settings.whisper_beam_size,
        "word_timestamps": True,
        "vad_filter": True,
        "vad_parameters": {"speech_pad_ms": DECODE_PAD_MS},
        "initial_prompt": prompt,
        # Whisper's default: with False, tiny.en returned an empty first 30 s window on fast speech.
        "condition_on_previous_text": True,
        # Greedy/beam decoding only, no sampling fallback: the fallback made tiny.en drop whole
        # windows of fast speech at random; at 0.0 the result is the same on every run.
        "temperature": 0.0,
    }


def _decode(
    model: Any, samples: np.ndarray, settings: Settings, prompt: str | None, duration: float,
    progress: DecodeProgress | None, speech_end: Callable[[], float] | None = None, vocabulary: Sequence[str] = (),
) -> tuple[list[Word], list[str], str]:  # fmt: skip
    """Decode with faster-whisper; ``speech_end`` gives where the voice ends, once known (else ``duration``)."""
    segments, info = model.transcribe(samples, **decode_options(model, settings, prompt, vocabulary))
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
        end = min(duration, speech_end()) if speech_end is not None else duration
        if segment.end >= end - REMAINDER_S:
            # faster-whisper would go on to decode the last sliver after the last word on its own
            # (it seeks to the last word's end when the voice runs to the edge of what it decodes:
            # a live answer stopped mid-word, or the end of the voice its VAD keeps); on a few ms
            # of audio Whisper loops to its token limit: seconds of work for no word.
            break
    return words, texts, info.language or "en"


@dataclass
class ChunkTranscript:
    """One stretch of audio transcribed: a whole answer, or one chunk of a live recording."""

    offset_s: float  # where the stretch starts in the answer
    duration_s: float
    words: list[Word]  # the decode kept, loops collapsed; times from the start of the answer
    texts: list[str]
    language: str
    speech_s: float  # seconds of voice activity (Silero VAD)
    first_words: list[Word]  # the filler-prompted decode, loops collapsed (the understanding check)
    second_words: list[Word] | None = None  # the decode without the prompt, when one was made
    # Up to LANGUAGE_ID_S of this stretch's voiced audio: the language is identified from it when in doubt.
    voiced: np.ndarray | None = field(default=None, repr=False)


def _no_speech() -> MediaError:
    return MediaError(
        "No speech was found in the recording (it sounds like noise or silence); "
        "check the microphone and answer out loud."
    )


def _shift(words: list[Word], offset_s: float) -> list[Word]:
    if not offset_s:
        return words
    return [Word(word=w.word, start=w.start + offset_s, end=w.end + offset_s, probability=w.probability) for w in words]


def _heard(words: list[Word], texts: list[str], samples: np.ndarray) -> tuple[list[Word], list[str]]:
    """Drop phantom words: placed at the very end of the audio, or fillers placed in silence.

    The filler prompt makes Whisper end on an "Uh," stamped in the silence after the last word
    (seen at the end of files and of live chunks). A real filler is voiced, as loud as speech.
    """
    duration = len(samples) / SAMPLE_RATE
    step = round(WORD_LEVEL_FRAME_S * SAMPLE_RATE)
    count = len(samples) // step
    if count == 0:
        return words, texts
    frames = samples[: count * step].reshape(count, step).astype(np.float64)
    db = 10.0 * np.log10(np.maximum(np.mean(frames**2, axis=1), 1e-12))
    silent_below = max(float(np.percentile(db, 95)) - SILENT_BELOW_PEAK_DB, SILENT_FLOOR_DBFS)

    def heard(w: Word) -> bool:
        if w.start >= duration - END_EDGE_S:
            return False
        if _NON_WORD.sub("", w.word.lower()) not in FILLER_TOKENS:
            return True
        lo = max(0, int((w.start - WORD_SLACK_S) / WORD_LEVEL_FRAME_S))
        hi = min(count, int((w.end + WORD_SLACK_S) / WORD_LEVEL_FRAME_S) + 1)
        return hi > lo and float(db[lo:hi].max()) >= silent_below

    kept = [w for w in words if heard(w)]
    if len(kept) == len(words):
        return words, texts
    return kept, [" ".join(w.word for w in kept)]


def redecode_windows(
    model: Any, samples: np.ndarray, settings: Settings, context: str, windows: list[tuple[float, float]],
    first: list[Word], speech_end: float | None = None, vocabulary: Sequence[str] = (),
) -> LoopCheck:  # fmt: skip
    """Decode each window again without the filler prompt; the first decode's words stand elsewhere,
    less any squeezed next to a window (:func:`without_displaced`: that window's text, misplaced).

    ``speech_end`` (seconds into ``samples``): where the voice ends; a window's decode stops there too,
    as the first decode does, instead of decoding the sliver after the last word."""
    retried: list[Word] = []
    loops: list[tuple[float, float]] = []
    dropped = 0
    for a, b in windows:
        piece = samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)]
        voice_end = None if speech_end is None else (lambda start=a: speech_end - start)
        words, texts, _ = _decode(model, piece, settings, context or None, b - a, None, voice_end, vocabulary)
        words, _ = _heard(words, texts, piece)
        check = collapse_loops(_shift(words, a))
        retried += check.words
        loops += check.loops
        dropped += check.dropped

    def outside(w: Word) -> bool:
        mid = (w.start + w.end) / 2
        return not any(a <= mid < b for a, b in windows)

    merged = sorted([w for w in without_displaced(first, windows) if outside(w)] + retried, key=lambda w: w.start)
    return LoopCheck(words=merged, dropped=dropped, loops=loops)


def transcribe_chunk(
    samples: np.ndarray,
    settings: Settings | None = None,
    *,
    offset_s: float = 0.0,
    context: str = "",
    min_speech_s: float = 0.0,
    progress: DecodeProgress | None = None,
    vocabulary: Sequence[str] = (),
) -> ChunkTranscript:
    """Transcribe one stretch of 16 kHz mono audio with the filler prompt and the retry rules.

    Args:
        samples: float32 mono audio at 16 kHz.
        settings: model name, compute type, threads and beam size come from here.
        offset_s: where the stretch starts in the answer (added to word times).
        context: text said just before this stretch, appended to the prompt.
        min_speech_s: raise when the stretch holds less voice activity than this.
        progress: called with (fraction 0..1, message) as segments are decoded.
        vocabulary: domain terms of the question (:func:`question_vocabulary`) to bias decoding towards.

    Raises:
        MediaError: less voice activity than ``min_speech_s``.
    """
    settings = settings or load_settings()
    model = whisper(settings)
    duration = len(samples) / SAMPLE_RATE
    prompt = f"{FILLER_PROMPT} {context}".strip()
    # Silero VAD runs single-threaded on the other core while Whisper decodes on this one.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vad") as pool:
        spans_job = pool.submit(speech_spans, samples)

        def speech_end() -> float:  # where the voice ends, once the VAD has finished (long before Whisper)
            if not spans_job.done() or spans_job.exception() is not None:
                return duration
            spans = spans_job.result()
            return spans[-1][1] - VAD_PAD_S if spans else duration

        words, texts, language = _decode(model, samples, settings, prompt, duration, progress, speech_end, vocabulary)
        spans = spans_job.result()
    words, texts = _heard(words, texts, samples)
    speech_s = sum(b - a for a, b in spans)
    if speech_s < min_speech_s:
        raise _no_speech()
    checked = collapse_loops(words)
    if checked.suspects:  # long filler runs at a speaking pace: hesitation or loop? Decode them without the prompt.
        windows = [(max(0.0, a - RETRY_PAD_S), min(duration, b + RETRY_PAD_S)) for a, b in checked.suspects]
        retry = redecode_windows(model, samples, settings, context, windows, [], speech_end(), vocabulary)
        checked = settle_suspects(checked, retry.words)
    chosen = checked
    second: LoopCheck | None = None
    if checked.dropped >= LOOP_RETRY_WORDS or speech_covered(checked.words, spans) < MIN_SPEECH_COVERED:
        # The model looped or skipped part of the answer (seen on fast speech and on other
        # languages). Without the filler prompt it often keeps more words; fillers may then be
        # under-counted, so keep whichever run heard more real words.
        windows = retry_windows(checked, spans, duration)
        whole = sum(b - a for a, b in windows) >= RETRY_WHOLE_SHARE * duration
        if whole:
            decoded = _decode(model, samples, settings, context or None, duration, None, speech_end, vocabulary)
            retry_words, retry_texts, retry_language = decoded
            retry_words, retry_texts = _heard(retry_words, retry_texts, samples)
            second = collapse_loops(retry_words)
        else:  # only the windows in trouble: the rest of the first decode stands
            second = redecode_windows(
                model, samples, settings, context, windows, checked.words, speech_end(), vocabulary
            )
            retry_texts, retry_language = [" ".join(w.word for w in second.words)], language
        if len(second.words) > len(checked.words):
            chosen, texts, language = second, retry_texts, retry_language
        if whole and speech_covered(chosen.words, spans) < MIN_SPEECH_COVERED:
            # Decoded whole, tiny.en can skip the same 30 s window twice (a neural voice's answer
            # without pauses: 28 of 47 s lost both times); that window alone decodes in full.
            gaps = retry_windows(LoopCheck(words=chosen.words, dropped=0), spans, duration)
            third = redecode_windows(model, samples, settings, context, gaps, chosen.words, speech_end(), vocabulary)
            if len(third.words) > len(chosen.words):
                chosen = LoopCheck(words=third.words, dropped=chosen.dropped + third.dropped, loops=chosen.loops)
                texts = [" ".join(w.word for w in chosen.words)]
    if chosen.dropped:
        texts = [" ".join(w.word for w in chosen.words)]
    return ChunkTranscript(
        offset_s=offset_s,
        duration_s=duration,
        words=_shift(chosen.words, offset_s),
        texts=texts,
        language=language,
        speech_s=speech_s,
        first_words=_shift(checked.words, offset_s),
        second_words=_shift(second.words, offset_s) if second is not None else None,
        voiced=_voiced(samples, spans),
    )


def whole_answer_language(
    parts: Sequence[ChunkTranscript], language: str, confidence: float, settings: Settings | None = None
) -> tuple[str, str | None]:
    """The answer's language and its notice, judged once on the whole answer (all its chunks together).

    The multilingual model is asked only when the English-only model's signs are doubtful.
    """
    speech_s = sum(p.speech_s for p in parts)
    first = [w for p in parts for w in p.first_words]
    seconds = [p.second_words for p in parts if p.second_words is not None]
    second = [w for s in seconds for w in s] if seconds else None
    was_understood = understood(first, speech_s, second)
    identified = None
    if language == "en" and english_in_doubt(confidence, was_understood, bool(seconds)):
        voiced = [p.voiced for p in parts if p.voiced is not None and p.voiced.size]
        if voiced:
            identified = identify_language(np.concatenate(voiced), settings)
    if identified and identified[0][0] != "en":
        language = identified[0][0]
    return language, language_notice(language, confidence, was_understood, identified)


def whole_answer_notice(parts: Sequence[ChunkTranscript], language: str, confidence: float) -> str | None:
    """The language/clarity notice, judged once on the whole answer (all its chunks together)."""
    return whole_answer_language(parts, language, confidence)[1]


def assemble_transcript(parts: Sequence[ChunkTranscript], settings: Settings | None = None) -> Transcript:
    """Join the transcribed stretches of one answer (in order) into its transcript.

    Raises:
        MediaError: when the answer holds no speech, or no words could be recognised.
    """
    parts = sorted(parts, key=lambda p: p.offset_s)
    speech_s = sum(p.speech_s for p in parts)
    if speech_s < MIN_SPEECH_S:
        raise _no_speech()
    words = [w for p in parts for w in p.words]
    if not words:
        raise MediaError("No words could be recognised in the recording; speak closer to the microphone.")
    confidence = float(np.mean([w.probability for w in words]))
    language = Counter(p.language for p in parts if p.words).most_common(1)[0][0]
    language, notice = whole_answer_language(parts, language, confidence, settings)
    return Transcript(
        words=words,
        text=" ".join(t for p in parts for t in p.texts if t),
        language=language,
        language_confidence=confidence,
        language_notice=notice,
        speech_s=speech_s,
    )


def transcribe(
    samples: np.ndarray,
    settings: Settings | None = None,
    progress: DecodeProgress | None = None,
    vocabulary: Sequence[str] = (),
) -> Transcript:
    """Transcribe 16 kHz mono audio into timed words.

    Args:
        samples: float32 mono audio at 16 kHz.
        settings: model name, compute type, threads and beam size come from here.
        progress: called with (fraction 0..1, message) as segments are decoded.
        vocabulary: domain terms of the question (:func:`question_vocabulary`) to bias decoding towards.

    Raises:
        MediaError: when the audio holds no speech (noise or silence).
    """
    part = transcribe_chunk(samples, settings, min_speech_s=MIN_SPEECH_S, progress=progress, vocabulary=vocabulary)
    return assemble_transcript([part], settings)
