"""Mock interviews of this owner: the questions planned, the session answering each, the follow-ups."""

from __future__ import annotations

import json
import uuid
from typing import Any

from coach_core.storage.database import StoreError, now
from coach_core.storage.rows import InterviewItemRow, InterviewRow
from coach_core.storage.session_repo import SessionRepository


class InterviewRepository(SessionRepository):
    """An interview belongs to one person; its answers are that person's sessions."""

    def create_interview(self, questions: list[dict[str, Any]], role: str | None = None) -> str:
        owner = self._new_owner()
        interview_id = uuid.uuid4().hex[:12]
        with self.transaction() as con:
            con.execute(
                "INSERT INTO interviews VALUES (?, ?, ?, ?, ?, 'in_progress', NULL)",
                [interview_id, owner, now(), now(), role],
            )
            con.executemany(
                "INSERT INTO interview_items VALUES (?, ?, ?, NULL, NULL, NULL)",
                [[interview_id, i, json.dumps(q)] for i, q in enumerate(questions)],
            )
        return interview_id

    def _owns_interview(self, interview_id: str) -> bool:
        mine, args = self._mine()
        with self._cursor() as con:
            row = con.execute(f"SELECT 1 FROM interviews WHERE id = ? AND {mine}", [interview_id, *args]).fetchone()
        return row is not None

    def _update_item(self, interview_id: str, position: int, **fields: Any) -> None:
        if not self._owns_interview(interview_id):
            raise StoreError(f"Interview {interview_id} not found.")
        for name in ("session_id", "follow_up_session_id"):
            if fields.get(name) is not None and not self.owns(fields[name]):
                raise StoreError(f"Session {fields[name]} not found.")
        sets = ", ".join(f"{k} = ?" for k in fields)
        values = [json.dumps(v) if k == "follow_up" and v is not None else v for k, v in fields.items()]
        with self.transaction() as con:
            con.execute(
                f"UPDATE interview_items SET {sets} WHERE interview_id = ? AND position = ?",
                [*values, interview_id, position],
            )
            con.execute("UPDATE interviews SET updated_at = ? WHERE id = ?", [now(), interview_id])

    def set_interview_answer(self, interview_id: str, position: int, session_id: str) -> None:
        """The session that answers question ``position``."""
        self._update_item(interview_id, position, session_id=session_id)

    def set_follow_up(self, interview_id: str, position: int, follow_up: dict[str, Any] | None,
                      session_id: str | None = None) -> None:  # fmt: skip
        """The follow-up asked after question ``position`` (None: none was needed), and its answer's session."""
        self._update_item(interview_id, position, follow_up=follow_up, follow_up_session_id=session_id)

    def finish_interview(self, interview_id: str, summary: dict[str, Any]) -> None:
        mine, args = self._mine()
        with self._cursor() as con:
            con.execute(
                f"UPDATE interviews SET status = 'finished', summary = ?, updated_at = ? WHERE id = ? AND {mine}",
                [json.dumps(summary), now(), interview_id, *args],
            )

    def interview(self, interview_id: str) -> InterviewRow | None:
        mine, args = self._mine()
        with self._cursor() as con:
            row = con.execute(
                f"SELECT id, created_at, role, status, summary FROM interviews WHERE id = ? AND {mine}",
                [interview_id, *args],
            ).fetchone()
            if row is None:
                return None
            items = con.execute(
                "SELECT position, question, session_id, follow_up, follow_up_session_id FROM interview_items "
                "WHERE interview_id = ? ORDER BY position",
                [interview_id],
            ).fetchall()
        return InterviewRow(
            id=row[0], created_at=row[1], role=row[2], status=row[3],
            summary=json.loads(row[4]) if row[4] else None,
            items=[InterviewItemRow(p, json.loads(q), s, json.loads(f) if f else None, fs) for p, q, s, f, fs in items],
        )  # fmt: skip

    def interviews(self, limit: int | None = 50) -> list[InterviewRow]:
        """This person's interviews, newest first."""
        mine, args = self._mine()
        sql = f"SELECT id FROM interviews WHERE {mine} ORDER BY created_at DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._cursor() as con:
            ids = [r[0] for r in con.execute(sql, args).fetchall()]
        return [row for i in ids if (row := self.interview(i)) is not None]

    def interview_of_session(self, session_id: str) -> tuple[str, int] | None:
        """(interview id, position) when this session answered a question (or its follow-up) of an interview."""
        mine, args = self._mine("i.owner")
        with self._cursor() as con:
            row = con.execute(
                "SELECT it.interview_id, it.position FROM interview_items it "
                "JOIN interviews i ON i.id = it.interview_id "
                f"WHERE (it.session_id = ? OR it.follow_up_session_id = ?) AND {mine}",
                [session_id, session_id, *args],
            ).fetchone()
        return (row[0], int(row[1])) if row else None

    def delete_interview(self, interview_id: str) -> bool:
        """Delete the interview record (its answers stay as sessions, deleted on their own)."""
        if not self._owns_interview(interview_id):
            return False
        with self.transaction() as con:
            con.execute("DELETE FROM interview_items WHERE interview_id = ?", [interview_id])
            con.execute("DELETE FROM interviews WHERE id = ?", [interview_id])
        return True
