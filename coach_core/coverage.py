"""Content coverage: how well the answer's sentences cover the question's key points (MiniLM)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from .engines import embedder
from .schema import Coverage, KeyPointMatch
from .text_metrics import Sentence, strip_fillers

# all-MiniLM-L6-v2 cosine, measured on spoken answers transcribed by tiny.en (docs/scoring.md):
# a key point said in other words scores 0.33-0.77 (ASR errors pull it down), a different point on
# the same topic 0.25-0.30, unrelated talk under 0.12.
MATCH_THRESHOLD = 0.4
UNRELATED_BELOW = 0.15


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length MiniLM embeddings, one row per text."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.asarray(
        embedder().encode(list(texts), normalize_embeddings=True, show_progress_bar=False),
        dtype=np.float32,
    )


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
