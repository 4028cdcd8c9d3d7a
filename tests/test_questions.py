from __future__ import annotations

from collections import Counter

import pytest

from coach_core import questions


def test_bank_has_enough_curated_questions() -> None:
    bank = questions.bank()
    assert len(bank) >= 60
    assert len({q.id for q in bank}) == len(bank)
    roles = Counter(q.role for q in bank)
    assert set(roles) == set(questions.ROLES)
    for q in bank:
        assert q.kind in questions.KINDS
        assert 3 <= len(q.key_points) <= 6
        assert q.time_budget_s and q.time_budget_s > 0
        assert (q.star_hints is not None) == q.is_behavioural
    topics = {q.topic for q in bank}
    for topic in (
        "system design",
        "debugging",
        "testing",
        "failure",
        "conflict",
        "leadership",
        "ambiguity",
        "deadline",
    ):
        assert topic in topics


def test_filter_and_draw() -> None:
    behavioural = questions.filter_questions(questions.bank(), kind="behavioural")
    assert behavioural and all(q.kind == "behavioural" for q in behavioural)
    assert questions.draw(behavioural) in behavioural
    assert questions.draw([]) is None


def test_custom_question_validation() -> None:
    q = questions.custom_question("  Why us? ", ["Knows the product", " "], kind="Behavioral")
    assert q.text == "Why us?" and q.key_points == ["Knows the product"] and q.kind == "behavioural"
    with pytest.raises(ValueError, match="empty"):
        questions.custom_question("   ", [])
    with pytest.raises(ValueError, match="kind"):
        questions.custom_question("Q?", [], kind="casual")


def test_a_users_own_question_is_capped_with_a_clear_message() -> None:
    ok = questions.custom_question("Q" * questions.MAX_QUESTION_CHARS, ["p"] * questions.MAX_KEY_POINTS)
    assert len(ok.key_points) == questions.MAX_KEY_POINTS
    with pytest.raises(ValueError, match=r"1001 characters long; keep it under 1000"):
        questions.custom_question("Q" * 1001, [])
    with pytest.raises(ValueError, match=r"21 key points given; at most 20"):
        questions.custom_question("Why?", [f"point {i}" for i in range(21)])
    with pytest.raises(ValueError, match=r"A key point is 301 characters long"):
        questions.custom_question("Why?", ["x" * 301])
    assert questions.custom_question("Why?", ["a", "  ", ""] + [""] * 30).key_points == ["a"]  # blanks don't count
