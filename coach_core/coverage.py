"""Content coverage: how well the answer's sentences cover the question's key points (MiniLM)."""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from .engines import embedder
from .schema import Coverage, KeyPointMatch, Word
from .text_metrics import Sentence, split_sentences, strip_fillers

# all-MiniLM-L6-v2 cosine, measured on spoken answers transcribed by tiny.en (docs/scoring.md):
# a key point said in other words scores 0.33-0.77 (ASR errors pull it down), a different point on
# the same topic 0.25-0.30, unrelated talk under 0.12.
MATCH_THRESHOLD = 0.4
UNRELATED_BELOW = 0.15


CACHE_SIZE = 4096  # embeddings kept per process (1.5 kB each): key points, and a live answer's sentences
_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length MiniLM embeddings, one row per text (texts seen recently come from a cache)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    with _cache_lock:
        known = {t: _cache[t] for t in texts if t in _cache}
        for t in known:
            _cache.move_to_end(t)
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    if missing:
        vectors = np.asarray(
            embedder().encode(missing, normalize_embeddings=True, show_progress_bar=False), dtype=np.float32
        )
        with _cache_lock:
            for t, v in zip(missing, vectors, strict=True):
                _cache[t] = known[t] = v
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return np.stack([known[t] for t in texts])


def embed_ahead(words: Sequence[Word]) -> None:
    """Embed the sentences of a transcript so far (a live answer while it is spoken), so the
    content steps after Stop find most of them already done."""
    clean = [strip_fillers(u.text) for u in matching_units(split_sentences(words))]
    embed([c for c in clean if c])


def matching_units(sentences: Sequence[Sentence]) -> list[Sentence]:
    """Sentences plus pairs of neighbours, since a key point is often spread over two."""
    units = list(sentences)
    for a, b in itertools.pairwise(sentences):
        units.append(Sentence(text=f"{a.text} {b.text}", start=a.start, end=b.end))
    return units


def key_point_credit(similarity: float) -> float:
    """1 at or above the match threshold, falling linearly to 0 at 'unrelated'."""
    if similarity >= MATCH_THRESHOLD:
        return 1.0
    return (
        float(
            np.clip(
                (similarity - UNRELATED_BELOW) / (MATCH_THRESHOLD - UNRELATED_BELOW),
                0,
                1,
            )
        )
        * 0.5
    )


def coverage(key_points: Sequence[str], sentences: Sequence[Sentence]) -> Coverage | None:
    """Compare each key point with the answer; ``None`` when the question has no key points."""
    points = [k.strip() for k in key_points if k and k.strip()]
    if not points:
        return None
    units = matching_units(sentences)
    clean = [strip_fillers(u.text) for u in units]
    keep = [i for i, c in enumerate(clean) if c]
    if not keep:
        missed = [KeyPointMatch(key_point=k, similarity=0.0, sentence="", matched=False) for k in points]
        return Coverage(score=0.0, matched=[], missed=missed, threshold=MATCH_THRESHOLD)
    vectors = embed(points + [clean[i] for i in keep])
    sims = vectors[: len(points)] @ vectors[len(points) :].T
    matched: list[KeyPointMatch] = []
    missed: list[KeyPointMatch] = []
    credits: list[float] = []
    for k, point in enumerate(points):
        best = int(np.argmax(sims[k]))
        sim = float(sims[k, best])
        unit = units[keep[best]]
        match = KeyPointMatch(
            key_point=point,
            similarity=sim,
            sentence=unit.text,
            matched=sim >= MATCH_THRESHOLD,
            start=unit.start,
        )
        (matched if match.matched else missed).append(match)
        credits.append(key_point_credit(sim))
    return Coverage(
        score=float(np.mean(credits)),
        matched=matched,
        missed=missed,
        threshold=MATCH_THRESHOLD,
    )
