"""Which session files are archived to S3, under which key, and with what result."""

from __future__ import annotations

from coach_core.storage.database import StoreError, now
from coach_core.storage.rows import ArchiveObjectRow
from coach_core.storage.session_repo import SessionRepository


class ArchiveRepository(SessionRepository):
    """Archive state of this owner's session files."""

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
        """Insert or replace the archive state of one session file (of this owner's sessions only)."""
        if not self.owns(session_id):
            raise StoreError(f"Session {session_id} not found.")
        with self._cursor() as con:
            con.execute(
                "INSERT OR REPLACE INTO archive_objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [session_id, kind, key, status, error, size_bytes, etag, md5, now()],
            )

    def archive_objects(self, session_id: str | None = None) -> list[ArchiveObjectRow]:
        mine, args = self._mine("s.owner")
        sql = f"SELECT o.* FROM archive_objects o JOIN sessions s ON s.id = o.session_id WHERE {mine}"
        if session_id is not None:
            sql, args = sql + " AND o.session_id = ?", [*args, session_id]
        with self._cursor() as con:
            rows = con.execute(sql + " ORDER BY o.session_id, o.kind", args).fetchall()
        return [ArchiveObjectRow(*r) for r in rows]

    def pending_archive_sessions(self) -> list[str]:
        """Sessions with a file whose upload failed or was interrupted."""
        mine, args = self._mine("s.owner")
        with self._cursor() as con:
            rows = con.execute(
                "SELECT DISTINCT o.session_id FROM archive_objects o JOIN sessions s ON s.id = o.session_id "
                f"WHERE o.status <> 'archived' AND {mine} ORDER BY o.session_id",
                args,
            ).fetchall()
        return [r[0] for r in rows]
