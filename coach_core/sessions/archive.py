"""Archiving each session's files to S3 (the recording, the JSON report and the PDF) and restoring them.

Off unless a bucket is configured (``COACH_S3_BUCKET``). State per file lives in the store; local files
are never touched by a failed upload, so a later retry uploads whatever is missing.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from coach_core.config import Settings
from coach_core.schema import Report
from coach_core.storage.rows import FILE_KINDS
from coach_core.storage.s3 import ARCHIVED, FAILED, PENDING, Archive, ArchiveError, md5_of
from coach_core.storage.store import LOCAL_USER, ArchiveObjectRow, Store

log = logging.getLogger(__name__)


@dataclass
class ArchiveResult:
    """What ``archive_session`` did, per kind of file."""

    session_id: str
    uploaded: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # no local file to upload
    failed: dict[str, str] = field(default_factory=dict)  # kind -> reason

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        parts = []
        if self.uploaded:
            parts.append("uploaded " + ", ".join(self.uploaded))
        if self.already:
            parts.append("already archived " + ", ".join(self.already))
        if self.missing:
            parts.append("no local " + ", ".join(self.missing))
        for kind, reason in self.failed.items():
            parts.append(f"{kind} not archived: {reason}")
        return f"Session {self.session_id}: " + ("; ".join(parts) or "nothing to do")


@dataclass
class RestoreResult:
    """What ``restore_session`` did, per kind of file."""

    session_id: str
    restored: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)  # local file already there
    unavailable: dict[str, str] = field(default_factory=dict)  # kind -> reason
    report_reimported: bool = False

    def summary(self) -> str:
        parts = []
        if self.restored:
            parts.append("restored " + ", ".join(self.restored))
        if self.present:
            parts.append("already on disk " + ", ".join(self.present))
        for kind, reason in self.unavailable.items():
            parts.append(f"{kind} not restored: {reason}")
        if self.report_reimported:
            parts.append("report re-imported into the database")
        return f"Session {self.session_id}: " + "; ".join(parts)


def require_archive(settings: Settings) -> Archive:
    archive = Archive.from_settings(settings)
    if archive is None:
        raise ArchiveError("S3 archiving is off: set COACH_S3_BUCKET (and COACH_S3_ENDPOINT_URL for S3-compatible "
                           "stores) to turn it on.")  # fmt: skip
    return archive


def local_paths(store: Store, settings: Settings, session_id: str) -> dict[str, Path]:
    """Where each of a session's files lives on this machine."""
    row = store.session(session_id)
    recording = (
        Path(row.recording_path) if row and row.recording_path else settings.recordings_dir / session_id / "recording"
    )
    return {
        "recording": recording,
        "report": settings.reports_dir / f"{session_id}.json",
        "pdf": settings.reports_dir / f"{session_id}.pdf",
    }


def write_report_json(store: Store, settings: Settings, session_id: str) -> Path | None:
    """Write the stored report as the JSON export (rewritten only when it changed); None if not analysed."""
    data = store.report_dict(session_id)
    if data is None:
        return None
    path = settings.reports_dir / f"{session_id}.json"
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return path


def _pdf_is_current(path: Path, report: dict[str, Any]) -> bool:
    if not path.is_file():
        return False
    try:
        made = datetime.fromisoformat(report["created_at"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return True  # age unknown: keep the PDF there is
    return path.stat().st_mtime >= made


def _ensure_pdf(store: Store, settings: Settings, session_id: str) -> None:
    """Render the PDF when it is missing or older than the report, if Chromium is available.

    Never raises: without a PDF the other files are still archived.
    """
    data = store.report_dict(session_id)
    if data is None or _pdf_is_current(settings.reports_dir / f"{session_id}.pdf", data):
        return
    try:
        from coach_core.reporting import pdf  # HTML → PDF with Chromium

        pdf.chromium_executable(settings)  # a quick, readable refusal when Chromium is not installed
        pdf.write_session_pdf(settings, Report.from_dict(data))
    except Exception as exc:
        log.warning("PDF for session %s not rendered: %s", session_id, exc)


def archive_session(
    store: Store,
    settings: Settings,
    session_id: str,
    *,
    archive: Archive | None = None,
    kinds: tuple[str, ...] = FILE_KINDS,
) -> ArchiveResult:
    """Upload whichever of the session's files exist and are not archived yet (or changed since).

    Each file's key, status, reason, size and ETag go to the store. A failure marks the file
    'failed' with the reason and never touches the local file; raises ArchiveError only when
    archiving is off or the session does not exist.
    """
    archive = archive or require_archive(settings)
    if store.session(session_id) is None:
        raise ArchiveError(f"No session with id {session_id}.")
    keys = archive.session_keys(session_id, store.owner_of(session_id) or LOCAL_USER)
    write_report_json(store, settings, session_id)
    if "pdf" in kinds:
        _ensure_pdf(store, settings, session_id)
    paths = local_paths(store, settings, session_id)
    known = {o.kind: o for o in store.archive_objects(session_id)}
    result = ArchiveResult(session_id)
    stop: ArchiveError | None = None
    for kind in kinds:
        path, key = paths[kind], keys[kind]
        if not path.is_file():
            result.missing.append(kind)
            continue
        size, md5 = path.stat().st_size, md5_of(path)
        old = known.get(kind)
        if old and old.status == ARCHIVED and old.key == key and old.size_bytes == size and old.md5 == md5:
            result.already.append(kind)
            continue
        if stop is not None:  # the endpoint/bucket/credentials already failed: same reason, no new wait
            store.record_archive_object(session_id, kind, key, FAILED, error=str(stop), size_bytes=size, md5=md5)
            result.failed[kind] = str(stop)
            continue
        store.record_archive_object(session_id, kind, key, PENDING, size_bytes=size, md5=md5)
        try:
            stored = archive.upload_file(path, key)
        except ArchiveError as exc:
            store.record_archive_object(session_id, kind, key, FAILED, error=str(exc), size_bytes=size, md5=md5)
            result.failed[kind] = str(exc)
            stop = exc if exc.whole_archive else None
            continue
        store.record_archive_object(
            session_id, kind, key, ARCHIVED, size_bytes=stored.size_bytes, etag=stored.etag, md5=md5
        )
        result.uploaded.append(kind)
    if result.failed:
        log.warning("%s", result.summary())
    return result


def archive_after_analysis(store: Store, settings: Settings, session_id: str) -> ArchiveResult | None:
    """The post-analysis hook: archive when configured; never raises (the reason is stored instead)."""
    archive = Archive.from_settings(settings)
    if archive is None:
        return None
    try:
        return archive_session(store, settings, session_id, archive=archive)
    except Exception as exc:
        reason = str(exc) if isinstance(exc, ArchiveError) else f"archiving failed ({type(exc).__name__}: {exc})"
        log.warning("Session %s not archived: %s", session_id, reason)
        try:
            done = {o.kind for o in store.archive_objects(session_id) if o.status == ARCHIVED}
            for kind, key in archive.session_keys(session_id, store.owner_of(session_id) or LOCAL_USER).items():
                if kind not in done:
                    store.record_archive_object(session_id, kind, key, FAILED, error=reason)
        except Exception:
            log.exception("Could not record the archive failure of session %s", session_id)
        return None


def archive_all(store: Store, settings: Settings) -> list[ArchiveResult]:
    """Archive every analysed session (already archived files are skipped)."""
    archive = require_archive(settings)
    archive.check()
    rows = store.sessions(limit=None, status="analysed")
    return [archive_session(store, settings, r.id, archive=archive) for r in reversed(rows)]


def retry_pending(store: Store, settings: Settings) -> list[ArchiveResult]:
    """Upload again what failed or was interrupted. Raises ArchiveError if the archive is still down."""
    archive = require_archive(settings)
    pending = store.pending_archive_sessions()
    if not pending:
        return []
    archive.check()
    return [archive_session(store, settings, sid, archive=archive) for sid in pending if store.session(sid) is not None]


def archive_status(objects: list[ArchiveObjectRow]) -> str:
    """One phrase for a session: 'archived', 'archiving', 'not archived: <reason>' or 'not archived'."""
    failed = [o for o in objects if o.status == FAILED]
    if failed:
        return f"not archived: {failed[0].error}"
    if any(o.status == PENDING for o in objects):
        return "archiving"
    return "archived" if objects else "not archived"


def restore_session(
    store: Store, settings: Settings, session_id: str, *, archive: Archive | None = None
) -> RestoreResult:
    """Download a session's missing local files (recording, report JSON, PDF) back to their places.

    If the database has lost the analysis but the archived JSON report is there, it is imported
    again, so the dashboard can show it and the PDF can be made from it.
    """
    archive = archive or require_archive(settings)
    if store.session(session_id) is None:
        raise ArchiveError(f"No session with id {session_id}.")
    keys = archive.session_keys(session_id, store.owner_of(session_id) or LOCAL_USER)
    recorded = {o.kind: o for o in store.archive_objects(session_id) if o.status == ARCHIVED}
    result = RestoreResult(session_id)
    stop: ArchiveError | None = None
    for kind, path in local_paths(store, settings, session_id).items():
        if path.is_file():
            result.present.append(kind)
            continue
        if stop is not None:
            result.unavailable[kind] = str(stop)
            continue
        # Keys are deterministic, so a file is looked for even if this database never recorded it.
        key = recorded[kind].key if kind in recorded else keys[kind]
        try:
            archive.download_file(key, path)
        except ArchiveError as exc:
            result.unavailable[kind] = "not in the archive" if exc.not_found else str(exc)
            stop = exc if exc.whole_archive else None
            continue
        result.restored.append(kind)
    report_json = local_paths(store, settings, session_id)["report"]
    if store.report_dict(session_id) is None and report_json.is_file():
        try:
            report = Report.from_dict(json.loads(report_json.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            result.unavailable["report"] = f"the archived report could not be read ({type(exc).__name__})"
        else:
            if report.session_id == session_id:
                store.save_report(report)
                result.report_reimported = True
    return result


def session_link(
    store: Store,
    settings: Settings,
    session_id: str,
    kind: str,
    expires_s: int | None = None,
    *,
    archive: Archive | None = None,
) -> str:
    """A presigned download link for one archived file of a session."""
    if kind not in FILE_KINDS:
        raise ArchiveError(f"Unknown kind {kind!r}: choose one of {', '.join(FILE_KINDS)}.")
    archive = archive or require_archive(settings)
    stored = next((o for o in store.archive_objects(session_id) if o.kind == kind and o.status == ARCHIVED), None)
    if stored is None:
        raise ArchiveError(f"The {kind} of session {session_id} is not archived (yet).")
    row = store.session(session_id)
    names = {
        "recording": Path(row.recording_path).name if row and row.recording_path else f"{session_id}-recording",
        "report": f"interview-coach-{session_id}.json",
        "pdf": f"interview-coach-{session_id}.pdf",
    }
    return archive.presign_get(stored.key, expires_s, filename=names[kind])
