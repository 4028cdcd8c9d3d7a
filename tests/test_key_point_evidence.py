"""The evidence phrasings data file: one entry per bank question, one object per key point, in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coach_core.questions import bank

EVIDENCE_FILE = Path(__file__).resolve().parents[1] / "coach_core" / "data" / "key_point_evidence.json"


@pytest.fixture(scope="module")
def evidence() -> dict:
    doc = json.loads(EVIDENCE_FILE.read_text("utf-8"))
    assert doc["version"] == 1
    assert isinstance(doc["questions"], dict)
    return doc["questions"]


def test_every_bank_question_has_an_entry_per_key_point(evidence: dict) -> None:
    questions = bank()
    ids = [q.id for q in questions]
    assert set(evidence) == set(ids), "evidence entries must match the bank exactly"
    for q in questions:
        assert len(evidence[q.id]) == len(q.key_points), q.id


def test_evidence_sentences_are_well_formed(evidence: dict) -> None:
    for q in bank():
        seen: set[str] = set()
        for key_point, entry in zip(q.key_points, evidence[q.id], strict=True):
            assert set(entry) <= {"evidence", "counter"}, q.id
            sentences = entry["evidence"]
            assert 3 <= len(sentences) <= 8, (q.id, key_point)
            for sentence in sentences:
                assert isinstance(sentence, str) and sentence.strip() == sentence and sentence, (q.id, sentence)
                assert 8 <= len(sentence.split()) <= 25, (q.id, sentence)
                # A copy of the rubric line would add nothing the key point itself doesn't already match.
                assert key_point.lower().rstrip(".") not in sentence.lower(), (q.id, sentence)
                assert sentence not in seen, f"duplicate sentence in {q.id}: {sentence}"
                seen.add(sentence)


def test_counter_examples_are_optional_and_distinct(evidence: dict) -> None:
    with_counter = 0
    for q in bank():
        for entry in evidence[q.id]:
            counter = entry.get("counter", [])
            assert isinstance(counter, list)
            if counter:
                with_counter += 1
                assert len(counter) == 3, q.id
                assert not set(counter) & set(entry["evidence"]), q.id
                assert all(isinstance(s, str) and s.strip() for s in counter), q.id
    # The negatively phrased behavioural points ("without blaming others", "rather than a disguised strength") have them.
    assert with_counter >= 20
    failure = next(q for q in bank() if q.id == "beh-failure-01")
    assert all(entry["counter"] for entry in evidence[failure.id][:2])
