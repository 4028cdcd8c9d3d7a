"""Which session files are archived to S3, under which key, and with what result."""

from __future__ import annotations

from coach_core.storage.database import Database, now
from coach_core.storage.rows import ArchiveObjectRow


class ArchiveRepository(Database):
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
