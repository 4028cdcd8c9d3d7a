"""Mock interviews in the store: planned questions, answers, follow-ups, the summary; one person's only."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_store import Q, save

from coach_core.schema import Question
from coach_core.storage.store import Store, StoreError

TECH = Question(text="How would you cache?", key_points=["TTL", "Invalidation"], id="swe-cache")


def test_an_interview_keeps_its_questions_answers_and_follow_ups(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb").as_user("alice@example.com")
    iid = store.create_interview([TECH.to_dict(), Q.to_dict()], role="software_engineer")
    first = save(store, tmp_path, TECH, 70)
    follow = save(store, tmp_path, Question(text="How do entries expire?", key_points=["TTL"]), 60)
    store.set_interview_answer(iid, 0, first)
    store.set_follow_up(iid, 0, {"text": "How do entries expire?", "reason": "Not said: TTL", "kind": "missed_key_point"},
                        session_id=follow)  # fmt: skip
    store.set_follow_up(iid, 1, None)
    row = store.interview(iid)
    assert row is not None and row.status == "in_progress" and row.role == "software_engineer"
    assert [i.question["id"] for i in row.items] == ["swe-cache", "beh-x"]
    assert row.items[0].session_id == first and row.items[0].follow_up_session_id == follow
    assert row.items[0].follow_up is not None and row.items[0].follow_up["reason"] == "Not said: TTL"
    assert row.items[1].session_id is None  # not answered yet: an interview left halfway keeps what was answered
    assert store.interview_of_session(follow) == (iid, 0)
    store.finish_interview(iid, {"averages": {"overall": 65.0}})
    done = store.interview(iid)
    assert done is not None and done.status == "finished" and done.summary == {"averages": {"overall": 65.0}}
    assert [r.id for r in store.interviews()] == [iid]
    store.delete_session(first)  # the interview keeps its place, without the deleted answer
    assert store.interview(iid).items[0].session_id is None  # type: ignore[union-attr]


def test_another_persons_interview_is_not_found_and_cannot_be_changed(tmp_path: Path) -> None:
    base = Store(tmp_path / "db.duckdb")
    alice, bob = base.as_user("alice@example.com"), base.as_user("bob@example.com")
    iid = alice.create_interview([TECH.to_dict()])
    bobs_session = save(bob, tmp_path, TECH, 50)
    assert bob.interview(iid) is None and bob.interviews() == [] and bob.interview_of_session(bobs_session) is None
    with pytest.raises(StoreError, match="not found"):
        bob.set_interview_answer(iid, 0, bobs_session)
    with pytest.raises(StoreError, match="not found"):  # alice cannot attach bob's session either
        alice.set_interview_answer(iid, 0, bobs_session)
    bob.finish_interview(iid, {"x": 1})
    assert bob.delete_interview(iid) is False
    row = alice.interview(iid)
    assert row is not None and row.status == "in_progress" and row.items[0].session_id is None
