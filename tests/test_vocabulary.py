"""The question's vocabulary biases transcription without costing fillers or words.

Unit tests on the vocabulary itself; one real-model test on the spoken caching answer (overlap and
WER bounds, never exact words: tiny.en's int8 output on synthetic speech differs between CPUs).
"""

from __future__ import annotations

import re
from pathlib import Path

import jiwer
import pytest
from conftest import CACHE_FULL, CACHE_FULL_FILLERS, CACHE_QUESTION

from coach_core.analysis.text_metrics import speech_metrics
from coach_core.analysis.transcribe import decode_options, transcribe
from coach_core.analysis.vocabulary import VOCABULARY_MAX_TERMS, question_vocabulary
from coach_core.config import Settings
from coach_core.media.decode import decode_audio


def test_vocabulary_holds_domain_terms_not_function_words() -> None:
    terms = question_vocabulary(CACHE_QUESTION["text"], CACHE_QUESTION["key_points"])
    lowered = {t.lower() for t in terms}
    assert {"cache", "redis", "database", "reads", "indexes", "latency"} <= lowered
    assert not lowered & {"how", "would", "you", "the", "such", "a", "to", "and", "each"}
    assert len(lowered) == len(terms)  # each term once, whatever its case


def test_vocabulary_is_bounded_and_every_key_point_is_represented() -> None:
    points = [f"Point {i} mentions termnumber{i} and otherword{i} and thirdword{i}" for i in range(30)]
    terms = question_vocabulary("A long question about everything", points)
    assert len(terms) == VOCABULARY_MAX_TERMS
    assert sum(t.startswith("termnumber") for t in terms) >= 20  # the first word of each point first
    assert question_vocabulary("") == []


def test_no_vocabulary_leaves_decoding_as_it_was() -> None:
    class Model:
        class model:  # mimics faster-whisper's WhisperModel.model
            is_multilingual = False

    assert decode_options(Model(), Settings(), "Um.")["hotwords"] is None
    assert decode_options(Model(), Settings(), "Um.", ["cache", "Redis"])["hotwords"] == "cache, Redis"


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


@pytest.fixture(scope="module")
def both(cache_full_wav: Path):
    samples = decode_audio(cache_full_wav).samples
    vocabulary = question_vocabulary(CACHE_QUESTION["text"], CACHE_QUESTION["key_points"])
    return transcribe(samples, Settings()), transcribe(samples, Settings(), vocabulary=vocabulary), vocabulary


def test_vocabulary_keeps_fillers_and_words_and_recovers_terms(both) -> None:
    plain, biased, vocabulary = both
    reference = _norm(CACHE_FULL)
    assert jiwer.wer(reference, _norm(biased.text)) <= jiwer.wer(reference, _norm(plain.text)) + 0.05
    assert len(biased.words) >= 0.9 * len(plain.words)  # no skipping
    fillers = speech_metrics(biased.words, 60.0).filler_count
    assert fillers >= CACHE_FULL_FILLERS - 2, biased.text
    terms = {p for t in vocabulary for p in re.findall(r"[a-z0-9]+", t.lower())} & set(reference.split())
    heard = set(_norm(biased.text).split())
    assert len(terms & heard) >= 0.7 * len(terms), (terms - heard, biased.text)
