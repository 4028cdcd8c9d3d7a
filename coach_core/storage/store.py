"""DuckDB storage: sessions, recordings, analyses (the JSON report), per-metric rows, custom questions.

One process owns the database file (DuckDB has a single writer process); inside it, one
connection is shared by all threads behind a lock. Schema changes are forward migrations,
numbered, recorded in ``schema_version``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict, Unpack

import duckdb

from coach_core.schema import Question, Report


class StoreError(RuntimeError):
    """The database could not be opened or used; the message says why."""


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# Metric rows kept per analysis for fast trends: name -> path into the report's dict.
TREND_METRICS: dict[str, tuple[str, ...]] = {
    "overall": ("scores", "overall"),
    "content": ("scores", "content"),
    "delivery": ("scores", "delivery"),
    "confidence": ("scores", "confidence"),
    "clarity": ("scores", "clarity"),
    "resilience": ("scores", "resilience"),
    "engagement": ("scores", "engagement"),
    "wpm": ("metrics", "wpm"),
    "filler_rate_per_100_words": ("metrics", "filler_rate_per_100_words"),
    "filler_count": ("metrics", "filler_count"),
    "long_pauses": ("metrics", "pauses", "long_count"),
    "coverage": ("metrics", "coverage", "score"),
    "pitch_variability_st": ("voice", "pitch_variability_st"),
    "eye_contact_ratio": ("face", "eye_contact_ratio"),
    "duration_s": ("duration_s",),
}


def trend_values(report: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, path in TREND_METRICS.items():
        value: Any = report
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def _v1(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE sessions (
            id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP,
            question_id VARCHAR, question_text VARCHAR NOT NULL, role VARCHAR, kind VARCHAR,
            question JSON, status VARCHAR NOT NULL, error VARCHAR)""")
    con.execute("""
        CREATE TABLE recordings (
            session_id VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, original_name VARCHAR,
            duration_s DOUBLE, format VARCHAR, has_video BOOLEAN, size_bytes BIGINT)""")
    con.execute("""
        CREATE TABLE analyses (
            session_id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL,
            overall DOUBLE, content DOUBLE, delivery DOUBLE, report JSON NOT NULL)""")
    con.execute("""
        CREATE TABLE custom_questions (
            id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL, role VARCHAR, kind VARCHAR,
            text VARCHAR NOT NULL, key_points JSON, time_budget_s DOUBLE)""")


def _v2(con: duckdb.DuckDBPyConnection) -> None:
    """Per-metric rows for trends, back-filled from the stored reports."""
    con.execute("CREATE TABLE metrics (session_id VARCHAR, name VARCHAR, value DOUBLE, PRIMARY KEY (session_id, name))")
    rows = con.execute("SELECT session_id, report FROM analyses").fetchall()
    for session_id, report in rows:
        for name, value in trend_values(json.loads(report)).items():
            con.execute("INSERT INTO metrics VALUES (?, ?, ?)", [session_id, name, value])


def _v3(con: duckdb.DuckDBPyConnection) -> None:
    """Analysis jobs, so a page reload or an app restart does not lose them."""
    con.execute("""
        CREATE TABLE jobs (
            id VARCHAR PRIMARY KEY, session_id VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP, status VARCHAR NOT NULL, step VARCHAR, progress DOUBLE,
            error VARCHAR, attempts INTEGER DEFAULT 0, backend VARCHAR)""")


def _v4(con: duckdb.DuckDBPyConnection) -> None:
    """S3 archive state per session file (recording, report JSON, PDF): key, status, reason, size."""
    con.execute("""
        CREATE TABLE archive_objects (
            session_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, key VARCHAR NOT NULL, status VARCHAR NOT NULL,
            error VARCHAR, size_bytes BIGINT, etag VARCHAR, md5 VARCHAR, updated_at TIMESTAMP,
            PRIMARY KEY (session_id, kind))""")


MIGRATIONS: list[Callable[[duckdb.DuckDBPyConnection], None]] = [_v1, _v2, _v3, _v4]
SCHEMA_LATEST = len(MIGRATIONS)


class SessionFilters(TypedDict, total=False):
    """The filters ``sessions``, ``count_sessions``, ``trends`` and ``summary`` take (None: any)."""

    role: str | None
    kind: str | None
    question_id: str | None
    question_text: str | None
    since: datetime | None  # created at or after
    until: datetime | None  # created at or before
    status: str | None


@dataclass
class SessionRow:
    id: str
    created_at: datetime
    question_id: str | None
    question_text: str
    role: str | None
    kind: str | None
    status: str
    error: str | None
    overall: float | None = None
    recording_path: str | None = None
    duration_s: float | None = None
    has_video: bool | None = None


@dataclass
class ArchiveObjectRow:
    """One session file's archive state; ``status`` is 'archived', 'pending' or 'failed' (with ``error``)."""

    session_id: str
    kind: str
    key: str
    status: str
    error: str | None
    size_bytes: int | None
    etag: str | None
    md5: str | None
    updated_at: datetime | None


def migrate(con: duckdb.DuckDBPyConnection, target: int = SCHEMA_LATEST) -> int:
    """Apply the missing migrations up to ``target``; returns the version now in force."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
    current = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
    for version in range(current + 1, target + 1):
        con.execute("BEGIN TRANSACTION")
        try:
            MIGRATIONS[version - 1](con)
            con.execute("INSERT INTO schema_version VALUES (?, ?)", [version, now()])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return max(current, target)


class Store:
    """The app's database. Thread-safe within one process."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreError(
                    f"The database {self.path} is in use by another process (is the app or a worker running?)."
                ) from exc
            raise StoreError(f"The database {self.path} could not be opened: {exc}") from exc
        self._lock = threading.RLock()
        with self._lock:
            self.schema_version = migrate(self._con)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            yield self._con

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                yield self._con
                self._con.execute("COMMIT")
            except Exception:
                self._con.execute("ROLLBACK")
                raise

    # Sessions and recordings -------------------------------------------------------------
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
        session_id = session_id or uuid.uuid4().hex[:12]
        path = Path(recording_path)
        size = path.stat().st_size if path.exists() else None
        with self.transaction() as con:
            con.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'recorded', NULL)",
                [session_id, now(), now(), question.id, question.text, question.role, question.kind,
                 json.dumps(question.to_dict())],
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
        with self._cursor() as con:
            con.execute(
                "UPDATE sessions SET status = ?, error = ?, updated_at = ? WHERE id = ?",
                [status, error, now(), session_id],
            )

    def update_recording(self, session_id: str, **fields: Any) -> None:
        allowed = {"duration_s", "format", "has_video", "path"}
        sets = [(k, v) for k, v in fields.items() if k in allowed]
        if not sets:
            return
        with self._cursor() as con:
            con.execute(
                f"UPDATE recordings SET {', '.join(f'{k} = ?' for k, _ in sets)} WHERE session_id = ?",
                [v for _, v in sets] + [session_id],
            )

    def question_of(self, session_id: str) -> Question | None:
        with self._cursor() as con:
            row = con.execute("SELECT question FROM sessions WHERE id = ?", [session_id]).fetchone()
        return Question.from_dict(json.loads(row[0])) if row and row[0] else None

    def save_report(self, report: Report) -> None:
        data = report.to_dict()
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
        with self._cursor() as con:
            row = con.execute("SELECT report FROM analyses WHERE session_id = ?", [session_id]).fetchone()
        return json.loads(row[0]) if row else None

    _SESSION_SELECT = """
        SELECT s.id, s.created_at, s.question_id, s.question_text, s.role, s.kind, s.status, s.error,
               a.overall, r.path, r.duration_s, r.has_video
        FROM sessions s LEFT JOIN analyses a ON a.session_id = s.id
        LEFT JOIN recordings r ON r.session_id = s.id"""

    def session(self, session_id: str) -> SessionRow | None:
        with self._cursor() as con:
            row = con.execute(self._SESSION_SELECT + " WHERE s.id = ?", [session_id]).fetchone()
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
            return int(con.execute("SELECT count(*) FROM sessions s" + where, args).fetchone()[0])

    def practised_questions(self) -> list[tuple[str, int]]:
        """(question text, number of sessions) for every question answered, most practised first."""
        with self._cursor() as con:
            rows = con.execute(
                "SELECT question_text, count(*) AS n FROM sessions "
                "GROUP BY question_text ORDER BY n DESC, question_text"
            ).fetchall()
        return [(text, int(n)) for text, n in rows]

    @staticmethod
    def _filters(
        *,
        role: str | None = None,
        kind: str | None = None,
        question_id: str | None = None,
        question_text: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        status: str | None = None,
    ) -> tuple[str, list[Any]]:
        clauses, args = [], []
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
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def trends(
        self, names: list[str] | None = None, **filters: Unpack[SessionFilters]
    ) -> list[tuple[str, datetime, str, float]]:
        """(session id, time, metric, value) rows, oldest first."""
        where, args = self._filters(**filters)
        if names:
            where += (" AND " if where else " WHERE ") + f"m.name IN ({', '.join('?' for _ in names)})"
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
        """The latest analysed session before this one on the same question."""
        with self._cursor() as con:
            row = con.execute(
                """SELECT p.id FROM sessions s JOIN sessions p ON p.question_text = s.question_text
                   AND p.created_at < s.created_at AND p.status = 'analysed'
                   WHERE s.id = ? ORDER BY p.created_at DESC LIMIT 1""",
                [session_id],
            ).fetchone()
        return row[0] if row else None

    def delete_session(self, session_id: str) -> str | None:
        """Delete a session's rows; returns its recording path so the caller can remove files."""
        with self.transaction() as con:
            row = con.execute("SELECT path FROM recordings WHERE session_id = ?", [session_id]).fetchone()
            for table, column in (("metrics", "session_id"), ("analyses", "session_id"), ("jobs", "session_id"),
                                  ("archive_objects", "session_id"),
                                  ("recordings", "session_id"), ("sessions", "id")):  # fmt: skip
                con.execute(f"DELETE FROM {table} WHERE {column} = ?", [session_id])
        return row[0] if row else None

    # Jobs ----------------------------------------------------------------------------------
    def create_job(self, job_id: str, session_id: str, backend: str) -> None:
        with self._cursor() as con:
            con.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, 'queued', NULL, 0, NULL, 0, ?)",
                [job_id, session_id, now(), now(), backend],
            )

    def update_job(self, job_id: str, **fields: Any) -> None:
        allowed = {"status", "step", "progress", "error", "attempts"}
        sets = [(k, v) for k, v in fields.items() if k in allowed]
        with self._cursor() as con:
            con.execute(
                f"UPDATE jobs SET {', '.join(f'{k} = ?' for k, _ in sets)}, updated_at = ? WHERE id = ?",
                [v for _, v in sets] + [now(), job_id],
            )

    def job(self, job_id: str) -> dict[str, Any] | None:
        with self._cursor() as con:
            cur = con.execute("SELECT * FROM jobs WHERE id = ?", [job_id])
            row = cur.fetchone()
            names = [d[0] for d in cur.description]
        return dict(zip(names, row, strict=True)) if row else None

    def jobs(self, status: str | None = None, session_id: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM jobs", []
        clauses = []
        if status:
            clauses.append("status = ?")
            args.append(status)
        if session_id:
            clauses.append("session_id = ?")
            args.append(session_id)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        with self._cursor() as con:
            cur = con.execute(sql + " ORDER BY created_at", args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    # Archive (S3) ------------------------------------------------------------------------------
    def record_archive_object(
        self,
        session_id: str,
        kind: str,
        key: str,
        status: str,
        *,
        error: str | None = None,
        size_bytes: int | None = None,
        etag: str | None = None,
        md5: str | None = None,
    ) -> None:
        """Insert or replace the archive state of one session file."""
        with self._cursor() as con:
            con.execute(
                "INSERT OR REPLACE INTO archive_objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [session_id, kind, key, status, error, size_bytes, etag, md5, now()],
            )

    def archive_objects(self, session_id: str | None = None) -> list[ArchiveObjectRow]:
        sql, args = "SELECT * FROM archive_objects", []
        if session_id is not None:
            sql, args = sql + " WHERE session_id = ?", [session_id]
        with self._cursor() as con:
            return [ArchiveObjectRow(*r) for r in con.execute(sql + " ORDER BY session_id, kind", args).fetchall()]

    def pending_archive_sessions(self) -> list[str]:
        """Sessions with a file whose upload failed or was interrupted."""
        with self._cursor() as con:
            rows = con.execute(
                "SELECT DISTINCT session_id FROM archive_objects WHERE status <> 'archived' ORDER BY session_id"
            ).fetchall()
        return [r[0] for r in rows]

    # Custom questions ----------------------------------------------------------------------
    def add_custom_question(self, question: Question) -> Question:
        qid = question.id or f"custom-{uuid.uuid4().hex[:8]}"
        with self._cursor() as con:
            con.execute(
                "INSERT INTO custom_questions VALUES (?, ?, ?, ?, ?, ?, ?)",
                [qid, now(), question.role, question.kind, question.text, json.dumps(question.key_points),
                 question.time_budget_s],
            )  # fmt: skip
        return Question(
            text=question.text, key_points=question.key_points, kind=question.kind, role=question.role,
            id=qid, time_budget_s=question.time_budget_s, topic="my questions",
        )  # fmt: skip

    def custom_questions(self) -> list[Question]:
        with self._cursor() as con:
            rows = con.execute(
                "SELECT id, role, kind, text, key_points, time_budget_s FROM custom_questions ORDER BY created_at"
            ).fetchall()
        return [
            Question(id=r[0], role=r[1], kind=r[2], text=r[3], key_points=json.loads(r[4] or "[]"),
                     time_budget_s=r[5], topic="my questions")
            for r in rows
        ]  # fmt: skip

    def delete_custom_question(self, question_id: str) -> None:
        with self._cursor() as con:
            con.execute("DELETE FROM custom_questions WHERE id = ?", [question_id])
