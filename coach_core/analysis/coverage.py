"""Content coverage: how well the answer's sentences cover the question's key points (MiniLM)."""

from __future__ import annotations

import itertools
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from coach_core.analysis.text_metrics import Sentence, split_clauses, split_sentences, strip_fillers
from coach_core.models.engines import embedder
from coach_core.schema import Coverage, KeyPointMatch, Question, Word

# all-MiniLM-L6-v2 cosine, measured on spoken answers transcribed by tiny.en (docs/scoring.md):
# a key point said in other words scores 0.33-0.77 (ASR errors pull it down), a different point on
# the same topic 0.25-0.30, unrelated talk under 0.12.
MATCH_THRESHOLD = 0.4
UNRELATED_BELOW = 0.15
# Bank key points with evidence phrasings (docs/scoring.md, bench/VALIDITY.md): a part of the answer
# meets a point when closeness + SPECIFIC_WEIGHT x its lead over the question's next point reaches the
# threshold. Chosen on half of the labelled questions and checked on the other half.
SPECIFIC_WEIGHT = 2.0
EVIDENCE_THRESHOLD = {"technical": 0.66, "behavioural": 0.45}
EVIDENCE_RAMP = 0.3  # a point this far under the threshold gets no partial credit
BREAKS_MARGIN = 0.1  # closer by this much to what breaks a point than to what meets it: not met


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
    clean = [strip_fillers(u.text) for u in units_of(split_sentences(words))]
    embed([c for c in clean if c])


def matching_units(sentences: Sequence[Sentence]) -> list[Sentence]:
    """Sentences plus pairs of neighbours, since a key point is often spread over two."""
    units = list(sentences)
    for a, b in itertools.pairwise(sentences):
        units.append(Sentence(text=f"{a.text} {b.text}", start=a.start, end=b.end))
    return units


@dataclass(frozen=True)
class Evidence:
    """How answers that meet a key point tend to say it (``says``), and, for a point phrased as a
    contrast ("without blaming others"), what an answer that breaks it says (``breaks``)."""

    says: tuple[str, ...] = ()
    breaks: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _evidence_bank() -> dict[str, Evidence]:
    """Evidence phrasings of the bank's key points, keyed by the key point's text."""
    from coach_core.questions import bank

    raw = json.loads(resources.files("coach_core").joinpath("data/key_point_evidence.json").read_text("utf-8"))
    out: dict[str, Evidence] = {}
    for question in bank():
        entries = raw["questions"].get(question.id or "", [])
        for point, entry in zip(question.key_points, entries, strict=False):
            out[point.strip()] = Evidence(tuple(entry.get("evidence", ())), tuple(entry.get("counter", ()) or ()))
    return out


def evidence_for(question: Question) -> list[Evidence]:
    """Evidence for each of the question's key points (empty for a user's own points)."""
    known = _evidence_bank()
    return [known.get(k.strip(), Evidence()) for k in question.key_points]


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


def units_of(sentences: Sequence[Sentence]) -> list[Sentence]:
    """What a key point is looked for in: sentences, their clauses, and runs of two and three sentences
    (a point is often said in part of a sentence, or spread over a few)."""
    units = matching_units(sentences)
    units += [Sentence(text=c.text, start=c.start, end=c.start) for c in split_clauses(sentences)]
    for a, b, c in zip(sentences, sentences[1:], sentences[2:], strict=False):
        units.append(Sentence(text=f"{a.text} {b.text} {c.text}", start=a.start, end=c.end))
    return units


def coverage(
    key_points: Sequence[str],
    sentences: Sequence[Sentence],
    evidence: Sequence[Evidence] | None = None,
    kind: str = "technical",
) -> Coverage | None:
    """Compare each key point with the answer; ``None`` when the question has no key points.

    A bank key point comes with evidence phrasings (how answers that meet it say it). For each part
    of the answer its closeness to a point is the best of the point's own text and its phrasings,
    and the part counts for the point it fits clearly better than the question's other points
    (``SPECIFIC_WEIGHT`` x the lead over the next point is added). A user's own point without
    phrasings is matched on its text alone, as before (``MATCH_THRESHOLD``). A point phrased as a
    contrast is not met when the answer is closer to what breaks it than to what meets it.
    """
    points = [k.strip() for k in key_points if k and k.strip()]
    if not points:
        return None
    evidence = list(evidence or [])
    evidence += [Evidence()] * (len(points) - len(evidence))
    units = units_of(sentences)
    clean = [strip_fillers(u.text) for u in units]
    keep = [i for i, c in enumerate(clean) if c]
    if not keep:
        nothing = [KeyPointMatch(key_point=k, similarity=0.0, sentence="", matched=False) for k in points]
        return Coverage(score=0.0, matched=[], missed=nothing, threshold=MATCH_THRESHOLD)
    texts = [clean[i] for i in keep]
    vectors = embed(texts)
    direct = embed(points) @ vectors.T  # points x units
    close = direct.copy()
    breaks = np.full(len(points), -1.0, dtype=np.float32)
    says_best = np.full(len(points), -1.0, dtype=np.float32)
    for k, ev in enumerate(evidence):
        if ev.says:
            said = (embed(list(ev.says)) @ vectors.T).max(axis=0)
            close[k] = np.maximum(close[k], said)
            says_best[k] = float(said.max())
        if ev.breaks:
            breaks[k] = float((embed(list(ev.breaks)) @ vectors.T).max())
    if len(points) > 1:
        lead = np.stack([close[k] - np.delete(close, k, axis=0).max(axis=0) for k in range(len(points))])
    else:
        lead = np.zeros_like(close)
    specific = close + SPECIFIC_WEIGHT * lead
    threshold = EVIDENCE_THRESHOLD.get(kind, EVIDENCE_THRESHOLD["technical"])
    matched: list[KeyPointMatch] = []
    missed: list[KeyPointMatch] = []
    credits: list[float] = []
    for k, point in enumerate(points):
        if evidence[k].says:
            best = int(np.argmax(specific[k]))
            strength = float(specific[k, best])
            met = strength >= threshold
            if met and breaks[k] > says_best[k] + BREAKS_MARGIN:
                met = False  # the answer reads like what breaks the point (e.g. blaming others)
            credit = 1.0 if met else _ramp(strength, threshold - EVIDENCE_RAMP, threshold)
        else:
            best = int(np.argmax(direct[k]))
            strength = float(direct[k, best])
            met = strength >= MATCH_THRESHOLD
            credit = key_point_credit(strength)
        unit = units[keep[best]]
        match = KeyPointMatch(
            key_point=point,
            similarity=round(strength, 4),
            sentence=unit.text,
            matched=met,
            start=unit.start,
        )
        (matched if met else missed).append(match)
        credits.append(credit)
    return Coverage(
        score=float(np.mean(credits)),
        matched=matched,
        missed=missed,
        threshold=threshold if any(e.says for e in evidence) else MATCH_THRESHOLD,
    )


def _ramp(value: float, low: float, high: float) -> float:
    """Partial credit for a point touched but not met: 0 at ``low``, half at ``high``."""
    return float(np.clip((value - low) / (high - low), 0.0, 1.0)) * 0.5
