"""Sessions, their recordings and reports, per-metric trend rows."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Unpack

from coach_core.schema import Question, Report
from coach_core.storage.database import Database, StoreError, _one, now, trend_values
from coach_core.storage.rows import SessionFilters, SessionRow


class SessionRepository(Database):
    """Sessions of this view's owner; a session id of someone else's reads as absent and writes nothing."""

    def owns(self, session_id: str) -> bool:
        """Whether this session exists and belongs to this view's owner."""
        mine, args = self._mine()
        with self._cursor() as con:
            return (
                con.execute(f"SELECT 1 FROM sessions WHERE id = ? AND {mine}", [session_id, *args]).fetchone()
                is not None
            )

    def owner_of(self, session_id: str) -> str | None:
        """The owner of a session this view can see (None: no such session here)."""
        mine, args = self._mine()
        with self._cursor() as con:
            row = con.execute(f"SELECT owner FROM sessions WHERE id = ? AND {mine}", [session_id, *args]).fetchone()
        return row[0] if row else None

    def create_session(
        self,
        question: Question,
        recording_path: Path | str,
        *,
        original_name: str | None = None,
        duration_s: float | None = None,
        media_format: str | None = None,
        has_video: bool | None = None,
        session_id: str | None = None,
    ) -> str:
        owner = self._new_owner()
        session_id = session_id or uuid.uuid4().hex[:12]
        path = Path(recording_path)
        size = path.stat().st_size if path.exists() else None
        with self.transaction() as con:
            con.execute(
                "INSERT INTO sessions (id, created_at, updated_at, question_id, question_text, role, kind, question, "
                "status, error, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'recorded', NULL, ?)",
                [session_id, now(), now(), question.id, question.text, question.role, question.kind,
                 json.dumps(question.to_dict()), owner],
            )  # fmt: skip
            con.execute(
                "INSERT INTO recordings VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    session_id,
                    str(path),
                    original_name,
                    duration_s,
                    media_format,
                    has_video,
                    size,
                ],
            )
        return session_id

    def set_status(self, session_id: str, status: str, error: str | None = None) -> None:
        mine, args = self._mine()
        with self._cursor() as con:
            con.execute(
                f"UPDATE sessions SET status = ?, error = ?, updated_at = ? WHERE id = ? AND {mine}",
                [status, error, now(), session_id, *args],
            )

    def update_recording(self, session_id: str, **fields: Any) -> None:
        allowed = {"duration_s", "format", "has_video", "path"}
        sets = [(k, v) for k, v in fields.items() if k in allowed]
        if not sets or not self.owns(session_id):
            return
        with self._cursor() as con:
            con.execute(
                f"UPDATE recordings SET {', '.join(f'{k} = ?' for k, _ in sets)} WHERE session_id = ?",
                [v for _, v in sets] + [session_id],
            )

    def question_of(self, session_id: str) -> Question | None:
        mine, args = self._mine()
        with self._cursor() as con:
            row = con.execute(f"SELECT question FROM sessions WHERE id = ? AND {mine}", [session_id, *args]).fetchone()
        return Question.from_dict(json.loads(row[0])) if row and row[0] else None

    def save_report(self, report: Report) -> None:
        data = report.to_dict()
        if not self.owns(report.session_id):
            raise StoreError(f"Session {report.session_id} not found.")
        with self.transaction() as con:
            con.execute("DELETE FROM analyses WHERE session_id = ?", [report.session_id])
            con.execute("DELETE FROM metrics WHERE session_id = ?", [report.session_id])
            con.execute(
                "INSERT INTO analyses VALUES (?, ?, ?, ?, ?, ?)",
                [report.session_id, now(), report.scores.overall, report.scores.content, report.scores.delivery,
                 json.dumps(data)],
            )  # fmt: skip
            values = trend_values(data)
            if values:
                con.executemany(
                    "INSERT INTO metrics VALUES (?, ?, ?)",
                    [[report.session_id, k, v] for k, v in values.items()],
                )
            con.execute(
                "UPDATE sessions SET status = 'analysed', error = NULL, updated_at = ? WHERE id = ?",
                [now(), report.session_id],
            )

    def report(self, session_id: str) -> Report | None:
        data = self.report_dict(session_id)
        return Report.from_dict(data) if data is not None else None

    def report_dict(self, session_id: str) -> dict[str, Any] | None:
        mine, args = self._mine("s.owner")
        with self._cursor() as con:
            row = con.execute(
                "SELECT a.report FROM analyses a JOIN sessions s ON s.id = a.session_id "
                f"WHERE a.session_id = ? AND {mine}",
                [session_id, *args],
            ).fetchone()
        return json.loads(row[0]) if row else None

    _SESSION_SELECT = """
        SELECT s.id, s.created_at, s.question_id, s.question_text, s.role, s.kind, s.status, s.error,
               a.overall, r.path, r.duration_s, r.has_video
        FROM sessions s LEFT JOIN analyses a ON a.session_id = s.id
        LEFT JOIN recordings r ON r.session_id = s.id"""

    def session(self, session_id: str) -> SessionRow | None:
        mine, args = self._mine("s.owner")
        with self._cursor() as con:
            row = con.execute(self._SESSION_SELECT + f" WHERE s.id = ? AND {mine}", [session_id, *args]).fetchone()
        return SessionRow(*row) if row else None

    def sessions(
        self, limit: int | None = 50, *, offset: int = 0, **filters: Unpack[SessionFilters]
    ) -> list[SessionRow]:
        """Sessions, newest first, filtered; ``limit``/``offset`` page through them."""
        where, args = self._filters(**filters)
        sql = self._SESSION_SELECT + where + " ORDER BY s.created_at DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {max(int(offset), 0)}"
        with self._cursor() as con:
            return [SessionRow(*row) for row in con.execute(sql, args).fetchall()]

    def count_sessions(self, **filters: Unpack[SessionFilters]) -> int:
        """How many sessions ``sessions`` would list with these filters and no limit."""
        where, args = self._filters(**filters)
        with self._cursor() as con:
            return int(_one(con.execute("SELECT count(*) FROM sessions s" + where, args)))

    def practised_questions(self) -> list[tuple[str, int]]:
        """(question text, number of sessions) for every question answered, most practised first."""
        mine, args = self._mine()
        with self._cursor() as con:
            rows = con.execute(
                f"SELECT question_text, count(*) AS n FROM sessions WHERE {mine} "
                "GROUP BY question_text ORDER BY n DESC, question_text",
                args,
            ).fetchall()
        return [(text, int(n)) for text, n in rows]

    def _filters(
        self,
        *,
        role: str | None = None,
        kind: str | None = None,
        question_id: str | None = None,
        question_text: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        status: str | None = None,
    ) -> tuple[str, list[Any]]:
        mine, args = self._mine("s.owner")
        clauses: list[str] = [mine]
        for column, value in (("s.role", role), ("s.kind", kind), ("s.question_id", question_id),
                              ("s.question_text", question_text), ("s.status", status)):  # fmt: skip
            if value:
                clauses.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            clauses.append("s.created_at >= ?")
            args.append(since)
        if until is not None:
            clauses.append("s.created_at <= ?")
            args.append(until)
        return " WHERE " + " AND ".join(clauses), args

    def trends(
        self, names: list[str] | None = None, **filters: Unpack[SessionFilters]
    ) -> list[tuple[str, datetime, str, float]]:
        """(session id, time, metric, value) rows, oldest first."""
        where, args = self._filters(**filters)
        if names:
            where += " AND " + f"m.name IN ({', '.join('?' for _ in names)})"
            args += list(names)
        sql = f"""SELECT s.id, s.created_at, m.name, m.value FROM metrics m
                  JOIN sessions s ON s.id = m.session_id {where} ORDER BY s.created_at"""
        with self._cursor() as con:
            return con.execute(sql, args).fetchall()

    def summary(self, name: str = "overall", **filters: Unpack[SessionFilters]) -> dict[str, float | int | None]:
        """Best, average and count of one metric over the filtered sessions."""
        values = [v for _, _, _, v in self.trends([name], **filters)]
        if not values:
            return {"count": 0, "best": None, "average": None, "latest": None}
        return {
            "count": len(values),
            "best": max(values),
            "average": sum(values) / len(values),
            "latest": values[-1],
        }

    def previous_attempt(self, session_id: str) -> str | None:
        """The latest analysed session before this one on the same question (the same person's)."""
        mine, args = self._mine("s.owner")
        with self._cursor() as con:
            row = con.execute(
                f"""SELECT p.id FROM sessions s JOIN sessions p ON p.question_text = s.question_text
                   AND p.created_at < s.created_at AND p.status = 'analysed' AND p.owner = s.owner
                   WHERE s.id = ? AND {mine} ORDER BY p.created_at DESC LIMIT 1""",
                [session_id, *args],
            ).fetchone()
        return row[0] if row else None

    def delete_session(self, session_id: str) -> str | None:
        """Delete a session's rows; returns its recording path so the caller can remove files.

        Someone else's session (or none) is left alone: nothing is deleted and None is returned.
        """
        if not self.owns(session_id):
            return None
        with self.transaction() as con:
            row = con.execute("SELECT path FROM recordings WHERE session_id = ?", [session_id]).fetchone()
            for table, column in (("metrics", "session_id"), ("analyses", "session_id"), ("jobs", "session_id"),
                                  ("archive_objects", "session_id"),
                                  ("recordings", "session_id"), ("sessions", "id")):  # fmt: skip
                con.execute(f"DELETE FROM {table} WHERE {column} = ?", [session_id])
            for column in ("session_id", "follow_up_session_id"):  # an interview keeps its place for the answer
                con.execute(f"UPDATE interview_items SET {column} = NULL WHERE {column} = ?", [session_id])
        return row[0] if row else None
