"""Sentence embeddings are cached, so a live answer's sentences embedded while it is spoken are not
embedded again after Stop, and the coverage result is the same as without the head start."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from coach_core.analysis import coverage as cov
from coach_core.analysis.text_metrics import split_sentences
from coach_core.models.engines import embedder
from coach_core.schema import Word

ANSWER = (
    "Um, first I would put an in-memory cache in front of the database. "
    "Every entry gets a time to live, so stale data expires. "
    "Then I would add indexes for the slowest queries. "
    "And I would measure latency before and after each change."
)
KEY_POINTS = [
    "Put a cache such as Redis in front of the database",
    "Set a time to live so stale cache entries expire",
    "Measure latency before and after each change",
]


def words_of(text: str) -> list[Word]:
    return [Word(word=w, start=i * 0.3, end=i * 0.3 + 0.25, probability=0.9) for i, w in enumerate(text.split())]


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The texts MiniLM really encodes (a spy around the real model; nothing is replaced)."""
    model = embedder()
    real = model.encode
    seen: list[str] = []

    def spy(texts: list[str], **kw: object) -> np.ndarray:
        seen.extend(texts)
        return real(texts, **kw)

    monkeypatch.setattr(model, "encode", spy)
    with cov._cache_lock:
        cov._cache.clear()
    yield seen
    with cov._cache_lock:
        cov._cache.clear()


def test_sentences_embedded_ahead_are_not_embedded_again(encoded: list[str]) -> None:
    words = words_of(ANSWER)
    sentences = split_sentences(words)
    fresh = cov.coverage(KEY_POINTS, sentences)
    assert fresh is not None and len(fresh.matched) >= 2
    with cov._cache_lock:
        cov._cache.clear()
    encoded.clear()

    cov.embed_ahead(words)  # while the person speaks
    ahead = len(encoded)
    assert ahead >= len(sentences)
    again = cov.coverage(KEY_POINTS, sentences)  # after Stop
    assert sorted(encoded[ahead:]) == sorted(KEY_POINTS)  # only the key points were new
    assert again is not None
    assert again.score == pytest.approx(fresh.score, abs=1e-4)
    assert [m.key_point for m in again.matched] == [m.key_point for m in fresh.matched]
    for a, b in zip(again.matched + again.missed, fresh.matched + fresh.missed, strict=True):
        assert a.similarity == pytest.approx(b.similarity, abs=1e-4)


def test_cached_and_fresh_embeddings_agree_and_repeats_are_encoded_once(encoded: list[str]) -> None:
    texts = ["a cache in front of the database", "measure latency", "a cache in front of the database"]
    first = cov.embed(texts)
    assert encoded == texts[:2]  # the repeat inside one call is encoded once
    second = cov.embed(list(reversed(texts)))
    assert len(encoded) == 2  # all from the cache
    assert np.allclose(second[::-1], first, atol=1e-6)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-4)
