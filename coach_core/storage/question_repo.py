"""Questions people add themselves."""

from __future__ import annotations

import json
import uuid

from coach_core.schema import Question
from coach_core.storage.database import Database, now


class QuestionRepository(Database):
    def add_custom_question(self, question: Question) -> Question:
        owner = self._new_owner()
        qid = question.id or f"custom-{uuid.uuid4().hex[:8]}"
        with self._cursor() as con:
            con.execute(
                "INSERT INTO custom_questions (id, created_at, role, kind, text, key_points, time_budget_s, owner) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [qid, now(), question.role, question.kind, question.text, json.dumps(question.key_points),
                 question.time_budget_s, owner],
            )  # fmt: skip
        return Question(
            text=question.text, key_points=question.key_points, kind=question.kind, role=question.role,
            id=qid, time_budget_s=question.time_budget_s, topic="my questions",
        )  # fmt: skip

    def custom_questions(self) -> list[Question]:
        mine, args = self._mine()
        with self._cursor() as con:
            rows = con.execute(
                f"SELECT id, role, kind, text, key_points, time_budget_s FROM custom_questions WHERE {mine} "
                "ORDER BY created_at",
                args,
            ).fetchall()
        return [
            Question(id=r[0], role=r[1], kind=r[2], text=r[3], key_points=json.loads(r[4] or "[]"),
                     time_budget_s=r[5], topic="my questions")
            for r in rows
        ]  # fmt: skip

    def delete_custom_question(self, question_id: str) -> None:
        mine, args = self._mine()
        with self._cursor() as con:
            con.execute(f"DELETE FROM custom_questions WHERE id = ? AND {mine}", [question_id, *args])
