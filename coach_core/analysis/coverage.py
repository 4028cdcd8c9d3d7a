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
# Bank key points with evidence phrasings are judged by a small logistic model over six measures
# (FEATURES; weights in data/coverage_model.json, fitted by bench/fit_coverage.py on the labelled
# validity answers and the model answers, checked by leaving each question out in turn; docs/scoring.md).
FEATURES = ("centroid", "centroid_specific", "top2_specific", "best_specific", "answer_topic", "behavioural")
SPECIFIC_WEIGHT = 2.0  # a unit counts for a point it fits clearly better than the question's others
MODEL_THRESHOLD = 0.5  # probability that the point is met
# ... and a floor on best_specific (the previous rule's strength, whose thresholds were 0.66 / 0.45): the
# model learned from answers of 40-200 words and credited points to a two-sentence headline ("An index
# is like the index of a book. It makes things faster."); the floor keeps a point from being met by
# closeness to the topic alone. bench/fit_coverage.py applies it when it scores left-out questions.
SPECIFIC_FLOOR = {"technical": 0.56, "behavioural": 0.35}
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
    embed(matchable(split_sentences(words))[1])


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


def matchable(sentences: Sequence[Sentence]) -> tuple[list[Sentence], list[str]]:
    """The units of ``units_of`` that say something once fillers are removed, and that text (what is
    embedded and compared)."""
    pairs = [(u, strip_fillers(u.text)) for u in units_of(sentences)]
    kept = [(u, c) for u, c in pairs if c]
    return [u for u, _ in kept], [c for _, c in kept]


@dataclass(frozen=True)
class PointModel:
    """Logistic model: P(point met) = sigmoid(bias + weights . features), features as in FEATURES."""

    weights: tuple[float, ...]
    bias: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(features @ np.asarray(self.weights) + self.bias)))


@lru_cache(maxsize=1)
def point_model() -> PointModel:
    raw = json.loads(resources.files("coach_core").joinpath("data/coverage_model.json").read_text("utf-8"))
    assert tuple(raw["features"]) == FEATURES, raw["features"]
    return PointModel(tuple(float(w) for w in raw["weights"]), float(raw["bias"]))


def _specific(close: np.ndarray) -> np.ndarray:
    """closeness + SPECIFIC_WEIGHT x its lead over the question's next point, per (point, unit)."""
    if len(close) < 2:
        return close.copy()
    others = np.stack([np.delete(close, k, axis=0).max(axis=0) for k in range(len(close))])
    return close + SPECIFIC_WEIGHT * (close - others)


@dataclass(frozen=True)
class PointFeatures:
    values: np.ndarray  # points x len(FEATURES)
    best_unit: np.ndarray  # per point: the unit that fits it best (the words shown as the match)


def point_features(
    points: np.ndarray,
    units: np.ndarray,
    says: Sequence[np.ndarray],
    topic: np.ndarray | None,
    behavioural: bool = False,
) -> PointFeatures:
    """The model's inputs from unit-length embeddings: key points (k x d), answer units (u x d),
    each point's evidence phrasings (n_k x d; empty for a point without them) and the question text.

    - centroid: the best cosine of a unit with the mean of the point's phrasings (what they share,
      rather than the topic words of any one of them);
    - centroid_specific: the same plus SPECIFIC_WEIGHT x its lead over the question's other points;
    - top2_specific: as above with the mean of a unit's two best phrasings;
    - best_specific: as above with the best of the point's own text and any one phrasing;
    - answer_topic: how close the answer's units are to the question itself, on average (an answer
      that only talks around the topic is close to every point; the model learns to discount that). The
      mean, not the closest unit: a good answer that opens by restating the question ("The project I'm
      most proud of ...") must not lose every point for it;
    - behavioural: 1 for a behavioural question (its rubric points sit further from any answer).
    """
    direct = points @ units.T
    centroid, top2, best = direct.copy(), direct.copy(), direct.copy()
    for k, ev in enumerate(says):
        if len(ev):
            mean = ev.mean(axis=0)
            centroid[k] = (mean / np.linalg.norm(mean)) @ units.T
            sims = ev @ units.T
            top2[k] = np.sort(sims, axis=0)[-2:].mean(axis=0)
            best[k] = np.maximum(direct[k], sims.max(axis=0))
    centroid_specific = _specific(centroid)
    answer_topic = float((topic @ units.T).mean()) if topic is not None else 0.0
    values = np.stack(
        [
            centroid.max(axis=1),
            centroid_specific.max(axis=1),
            _specific(top2).max(axis=1),
            _specific(best).max(axis=1),
            np.full(len(points), answer_topic),
            np.full(len(points), float(behavioural)),
        ],
        axis=1,
    )
    return PointFeatures(values=values, best_unit=centroid_specific.argmax(axis=1))


def coverage(
    key_points: Sequence[str],
    sentences: Sequence[Sentence],
    evidence: Sequence[Evidence] | None = None,
    kind: str = "technical",
    question_text: str = "",
) -> Coverage | None:
    """Compare each key point with the answer; ``None`` when the question has no key points.

    A bank key point comes with evidence phrasings (how answers that meet it say it); whether the
    answer meets it is the probability from ``point_model`` over ``point_features`` (the closeness of
    the answer's parts to what the phrasings share, and how specific that closeness is to this point
    rather than the question's others). A user's own point without phrasings is matched on its text
    alone (``MATCH_THRESHOLD``). A point phrased as a contrast is not met when the answer is closer
    to what breaks it than to what meets it.
    """
    points = [k.strip() for k in key_points if k and k.strip()]
    if not points:
        return None
    evidence = list(evidence or [])
    evidence += [Evidence()] * (len(points) - len(evidence))
    units, clean = matchable(sentences)
    with_evidence = any(e.says for e in evidence)
    threshold = MODEL_THRESHOLD if with_evidence else MATCH_THRESHOLD
    if not units:
        nothing = [KeyPointMatch(key_point=k, similarity=0.0, sentence="", matched=False) for k in points]
        return Coverage(score=0.0, matched=[], missed=nothing, threshold=threshold)
    vectors = embed(clean)
    point_vectors = embed(points)
    direct = point_vectors @ vectors.T  # points x units
    says = [embed(list(ev.says)) if ev.says else np.zeros((0, vectors.shape[1])) for ev in evidence]
    features = None
    if with_evidence:
        topic = embed([question_text])[0] if question_text.strip() else None
        features = point_features(point_vectors, vectors, says, topic, behavioural=kind == "behavioural")
        probability = point_model().probability(features.values)
    matched: list[KeyPointMatch] = []
    missed: list[KeyPointMatch] = []
    credits: list[float] = []
    for k, point in enumerate(points):
        if features is not None and evidence[k].says:
            best = int(features.best_unit[k])
            strength = float(probability[k])
            floor = SPECIFIC_FLOOR["behavioural" if kind == "behavioural" else "technical"]
            met = bool(strength >= MODEL_THRESHOLD and features.values[k, FEATURES.index("best_specific")] >= floor)
            if met and evidence[k].breaks:
                breaks = float((embed(list(evidence[k].breaks)) @ vectors.T).max())
                if breaks > float((says[k] @ vectors.T).max()) + BREAKS_MARGIN:
                    met = False  # the answer reads like what breaks the point (e.g. blaming others)
            credit = 1.0 if met else min(strength, MODEL_THRESHOLD)
        else:
            best = int(np.argmax(direct[k]))
            strength = float(direct[k, best])
            met = strength >= MATCH_THRESHOLD
            credit = key_point_credit(strength)
        unit = units[best]
        match = KeyPointMatch(
            key_point=point,
            similarity=round(strength, 4),
            sentence=unit.text,
            matched=met,
            start=unit.start,
        )
        (matched if met else missed).append(match)
        credits.append(credit)
    return Coverage(score=float(np.mean(credits)), matched=matched, missed=missed, threshold=threshold)
