"""Analysis jobs: their state survives a page reload and an app restart."""

from __future__ import annotations

from typing import Any, cast

from coach_core.storage.database import Database, now
from coach_core.storage.rows import JobRow

JOB_FIELDS = ("status", "step", "progress", "error", "attempts")  # what update_job may change


class JobRepository(Database):
    """Analysis jobs, one row each (:class:`JobRow`)."""

    def create_job(self, job_id: str, session_id: str, backend: str) -> None:
        """A job for a session; it belongs to the session's owner (whoever submits it)."""
        mine, args = self._mine()
        with self._cursor() as con:
            con.execute(
                "INSERT INTO jobs (id, session_id, created_at, updated_at, status, step, progress, error, attempts, "
                "backend, owner) SELECT ?, id, ?, ?, 'queued', NULL, 0, NULL, 0, ?, owner FROM sessions "
                f"WHERE id = ? AND {mine}",
                [job_id, now(), now(), backend, session_id, *args],
            )

    def update_job(self, job_id: str, **fields: Any) -> None:
        unknown = set(fields) - set(JOB_FIELDS)
        if unknown:
            raise ValueError(f"update_job cannot change {sorted(unknown)}; it changes {list(JOB_FIELDS)}")
        sets = list(fields.items())
        mine, args = self._mine()
        with self._cursor() as con:
            con.execute(
                f"UPDATE jobs SET {', '.join(f'{k} = ?' for k, _ in sets)}, updated_at = ? WHERE id = ? AND {mine}",
                [v for _, v in sets] + [now(), job_id, *args],
            )

    def job(self, job_id: str) -> JobRow | None:
        mine, args = self._mine()
        with self._cursor() as con:
            cur = con.execute(f"SELECT * FROM jobs WHERE id = ? AND {mine}", [job_id, *args])
            row = cur.fetchone()
            names = [d[0] for d in cur.description]
        return cast(JobRow, dict(zip(names, row, strict=True))) if row else None

    def jobs(self, status: str | None = None, session_id: str | None = None) -> list[JobRow]:
        mine, args = self._mine()
        sql, clauses = "SELECT * FROM jobs", [mine]
        if status:
            clauses.append("status = ?")
            args.append(status)
        if session_id:
            clauses.append("session_id = ?")
            args.append(session_id)
        sql += " WHERE " + " AND ".join(clauses)
        with self._cursor() as con:
            cur = con.execute(sql + " ORDER BY created_at", args)
            names = [d[0] for d in cur.description]
            return [cast(JobRow, dict(zip(names, r, strict=True))) for r in cur.fetchall()]
