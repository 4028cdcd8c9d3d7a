"""Structure checks for the hand-labelled validity set in bench/validity_data/answers.json."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from coach_core.questions import bank

DATA = Path(__file__).resolve().parent.parent / "bench" / "validity_data" / "answers.json"
LEVELS = {"strong", "partial", "weak", "strong2", "partial2"}
STAR_KEYS = {"situation", "task", "action", "result"}


@pytest.fixture(scope="module")
def answers():
    data = json.loads(DATA.read_text("utf-8"))
    assert data["version"] == 1
    return data["answers"]


@pytest.fixture(scope="module")
def questions():
    return {q.id: q for q in bank()}


def test_size_and_spread(answers, questions):
    assert len(answers) >= 80
    ids = [a["id"] for a in answers]
    assert len(ids) == len(set(ids)), "answer ids must be unique"
    qids = {a["question_id"] for a in answers}
    assert len(qids) >= 20
    assert qids <= set(questions), f"unknown question ids: {qids - set(questions)}"
    behavioural = {q for q in qids if questions[q].is_behavioural}
    assert 2 * len(behavioural) == len(qids), "half of the questions must be behavioural"


def test_levels_per_question(answers):
    levels = defaultdict(list)
    for a in answers:
        assert a["level"] in LEVELS
        assert a["id"] == f"{a['question_id']}/{a['level']}"
        levels[a["question_id"]].append(a["level"])
    for qid, got in levels.items():
        assert {"strong", "partial", "weak"} <= set(got), qid
        assert len(got) == len(set(got)), qid
        assert set(got) & {"strong2", "partial2"}, f"{qid} has no fourth answer"


def test_answer_records(answers, questions):
    for a in answers:
        q = questions[a["question_id"]]
        assert isinstance(a["text"], str) and a["text"].strip(), a["id"]
        kps = a["key_points"]
        assert len(kps) == len(q.key_points), a["id"]
        for kp in kps:
            assert set(kp) <= {"present", "note"}, a["id"]
            assert isinstance(kp["present"], bool), a["id"]
            assert isinstance(kp.get("note", ""), str), a["id"]
        if q.is_behavioural:
            star = a["star"]
            assert isinstance(star, dict) and set(star) == STAR_KEYS, a["id"]
            assert all(isinstance(v, bool) for v in star.values()), a["id"]
        else:
            assert a["star"] is None, a["id"]
            assert "star_note" not in a, a["id"]


def test_labels_match_levels(answers, questions):
    for a in answers:
        present = sum(kp["present"] for kp in a["key_points"])
        n = len(a["key_points"])
        if a["level"] in {"strong", "strong2"}:
            assert present == n, f"{a['id']}: strong answers cover every key point"
            if questions[a["question_id"]].is_behavioural:
                assert all(a["star"].values()), f"{a['id']}: strong stories are complete STAR"
        elif a["level"] == "weak":
            assert present <= 1, f"{a['id']}: weak answers cover at most one key point"
        else:
            assert 1 <= present < n, f"{a['id']}: partial answers cover some but not all key points"
