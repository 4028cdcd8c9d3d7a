"""The database file: one DuckDB connection shared by the threads of one process, and its migrations.

One process owns the database file (DuckDB has a single writer process); inside it, one
connection is shared by all threads behind a lock. Schema changes are forward migrations,
numbered, recorded in ``schema_version``.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import duckdb

LOCAL_USER = "local"  # the one implicit person on a laptop (no login); rows made before accounts are theirs
ANY_OWNER = None  # the job runners' view: they act on rows whatever their owner and never change it


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


def _v5(con: duckdb.DuckDBPyConnection) -> None:
    """Owners: every session (with its recording, report, jobs and archived files), custom question and job
    belongs to one person; rows made before accounts existed go to the local user."""
    for table in ("sessions", "custom_questions", "jobs"):
        con.execute(f"ALTER TABLE {table} ADD COLUMN owner VARCHAR")
        con.execute(f"UPDATE {table} SET owner = ?", [LOCAL_USER])


def _v6(con: duckdb.DuckDBPyConnection) -> None:
    """Mock interviews: a plan of questions, each answered by a session, with at most one follow-up."""
    con.execute("""
        CREATE TABLE interviews (
            id VARCHAR PRIMARY KEY, owner VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP,
            role VARCHAR, status VARCHAR NOT NULL, summary JSON)""")
    con.execute("""
        CREATE TABLE interview_items (
            interview_id VARCHAR NOT NULL, position INTEGER NOT NULL, question JSON NOT NULL,
            session_id VARCHAR, follow_up JSON, follow_up_session_id VARCHAR,
            PRIMARY KEY (interview_id, position))""")


MIGRATIONS: list[Callable[[duckdb.DuckDBPyConnection], None]] = [_v1, _v2, _v3, _v4, _v5, _v6]
SCHEMA_LATEST = len(MIGRATIONS)


def _one(cursor: duckdb.DuckDBPyConnection) -> Any:
    """The single value an aggregate query returns."""
    row = cursor.fetchone()
    assert row is not None  # an aggregate always returns one row
    return row[0]


def migrate(con: duckdb.DuckDBPyConnection, target: int = SCHEMA_LATEST) -> int:
    """Apply the missing migrations up to ``target``; returns the version now in force."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
    current = _one(con.execute("SELECT coalesce(max(version), 0) FROM schema_version"))
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


class Database:
    """The open database file, seen as one person (``owner``). Thread-safe within one process.

    Every read and write is limited to the rows of ``owner``: another person's session is simply not
    there ("not found"). :meth:`as_user` gives the same open database seen as someone else; only the
    job runners use :data:`ANY_OWNER`.
    """

    def __init__(self, path: Path | str, owner: str | None = LOCAL_USER) -> None:
        self.owner = owner
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

    def as_user(self, owner: str | None) -> Self:
        """The same open database (one connection, one lock), limited to ``owner``'s rows."""
        if owner is not None and not owner.strip():
            raise ValueError("An owner cannot be blank.")
        view = copy.copy(self)
        view.owner = owner
        return view

    def _mine(self, column: str = "owner") -> tuple[str, list[Any]]:
        """The SQL condition (and its argument) that limits a query to this view's owner."""
        if self.owner is None:
            return "TRUE", []
        return f"{column} = ?", [self.owner]

    def _new_owner(self) -> str:
        if self.owner is None:
            raise StoreError("Rows are created by a person's view of the store, not by a job runner's.")
        return self.owner

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
