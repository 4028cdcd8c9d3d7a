"""Which language an answer is in, and the notice that says so (tiny.en cannot tell; the multilingual base can)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from coach_core.config import Settings
from coach_core.media.decode import SAMPLE_RATE
from coach_core.models.engines import ModelUnavailable, language_model

# Mean word probability under which the transcript is likely not English or badly recorded.
# English speech from several voices scored 0.75-0.95 with tiny.en; other languages 0.3-0.55.
LANGUAGE_CONFIDENCE_MIN = 0.6

# Below this mean word probability tiny.en's transcript is doubtful enough to ask the multilingual
# model which language it is (English clips: 0.74-0.93; German/Spanish/French/Japanese: 0.0-0.64).
LANGUAGE_CHECK_BELOW = 0.8
LANGUAGE_ID_S = 30.0  # Whisper identifies the language from one 30 s window: the voiced audio, up to this
# The multilingual model's probability for its top language above which the notice names it outright;
# below it the notice names the two likeliest languages.
LANGUAGE_SURE = 0.5
LANGUAGE_NAMES = {
    "en": "English", "de": "German", "es": "Spanish", "fr": "French", "ru": "Russian", "ja": "Japanese",
    "zh": "Chinese", "pt": "Portuguese", "it": "Italian", "nl": "Dutch", "pl": "Polish", "uk": "Ukrainian",
    "tr": "Turkish", "ar": "Arabic", "hi": "Hindi", "ko": "Korean", "sv": "Swedish", "no": "Norwegian",
    "nn": "Norwegian", "da": "Danish", "fi": "Finnish", "cs": "Czech", "el": "Greek", "he": "Hebrew",
    "hu": "Hungarian", "ro": "Romanian", "vi": "Vietnamese", "th": "Thai", "id": "Indonesian",
    "ms": "Malay", "fa": "Persian", "bn": "Bengali", "ur": "Urdu", "ta": "Tamil", "te": "Telugu",
    "ca": "Catalan", "bg": "Bulgarian", "sr": "Serbian", "hr": "Croatian", "sk": "Slovak", "la": "Latin",
    "mn": "Mongolian", "ka": "Georgian", "tl": "Tagalog", "sw": "Swahili", "af": "Afrikaans",
}  # fmt: skip
log = logging.getLogger(__name__)

MIN_ID_SPEECH_S = 0.5  # less voiced audio than this: no language to identify


def language_name(code: str) -> str:
    """The English name of a Whisper language code ("es" -> "Spanish"); the code itself if unknown."""
    return LANGUAGE_NAMES.get(code, code)


def other_language_notice(languages: Sequence[tuple[str, float]]) -> str:
    """The notice for an answer that is not in English, naming the language (the likeliest first)."""
    (top, p), *rest = languages
    if p >= LANGUAGE_SURE or not rest:
        heard = f"This answer sounds like {language_name(top)}"
    else:
        heard = f"This answer does not sound like English (perhaps {language_name(top)} or {language_name(rest[0][0])})"
    return (
        f"{heard}; the coach analyses English answers, so the transcript, fillers and content scores "
        "will not be reliable. Answer in English for full coaching."
    )


def language_notice(
    language: str, confidence: float, was_understood: bool, identified: Sequence[tuple[str, float]] | None = None
) -> str | None:
    """The notice shown when the answer is probably not English (or too unclear to coach).

    Args:
        language: the language the transcription model reported ("en" for tiny.en).
        confidence: mean word probability of the transcript.
        was_understood: tiny.en's own check (credible words for the voice, decodes that agree).
        identified: the multilingual model's languages, likeliest first, when it was asked.
    """
    if identified:
        top, p = identified[0]
        if top != "en":
            return other_language_notice(identified)
        if p >= LANGUAGE_SURE:
            return None  # English, said the multilingual model: tiny.en's doubts were about clarity of words only
    elif language != "en":
        return other_language_notice([(language, 1.0)])
    if not was_understood:
        return (
            "Much of the speech could not be recognised as English: the answer may be in another "
            "language, or the audio is unclear. Coaching norms here are for English; scores may be unreliable."
        )
    if confidence < LANGUAGE_CONFIDENCE_MIN:
        return (
            f"The transcript is uncertain (mean word confidence {confidence:.0%}): the answer may "
            "not be in English, or the audio is unclear. Scores may be unreliable."
        )
    return None


def english_in_doubt(confidence: float, was_understood: bool, second_decode: bool) -> bool:
    """tiny.en's own signs that the answer may not be English: then the multilingual model is asked."""
    return not was_understood or confidence < LANGUAGE_CHECK_BELOW or second_decode


def identify_language(voiced: np.ndarray, settings: Settings | None = None) -> list[tuple[str, float]] | None:
    """Languages the multilingual Whisper base hears in ``voiced`` (16 kHz, voice only), likeliest first.

    Returns None when that model is not installed (the notice then falls back to tiny.en's signs).
    """
    if voiced.size < SAMPLE_RATE * MIN_ID_SPEECH_S:
        return None
    try:
        model = language_model(settings)
    except ModelUnavailable as exc:
        log.warning("language identification unavailable: %s", exc)
        return None
    _, _, languages = model.detect_language(voiced[: int(LANGUAGE_ID_S * SAMPLE_RATE)])
    return [(code, float(p)) for code, p in languages[:3]]


def _voiced(samples: np.ndarray, spans: list[tuple[float, float]], limit_s: float = LANGUAGE_ID_S) -> np.ndarray:
    """The voice-active audio, joined, up to ``limit_s`` seconds (what language identification listens to)."""
    pieces: list[np.ndarray] = []
    total = 0
    for a, b in spans:
        piece = samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)]
        pieces.append(piece)
        total += piece.size
        if total >= limit_s * SAMPLE_RATE:
            break
    return np.concatenate(pieces)[: int(limit_s * SAMPLE_RATE)] if pieces else np.zeros(0, np.float32)
