"""A practice session's life: the recording is saved first, then analysed; failures are kept retryable.

Used by the CLI, the app and the job workers alike.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from coach_core.analysis.pipeline import ProgressFn, analyse
from coach_core.config import Settings
from coach_core.live.analyser import LiveAnalyser
from coach_core.live.handover import analyse_with_live
from coach_core.media.decode import MediaError
from coach_core.schema import Question, Report
from coach_core.storage.store import ArchiveObjectRow, SessionRow, Store

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class SessionError(RuntimeError):
    """A session operation that cannot be done; the message says why."""


def session_dir(settings: Settings, session_id: str) -> Path:
    return settings.recordings_dir / session_id


def save_recording(
    store: Store,
    settings: Settings,
    source: Path | str | bytes,
    question: Question,
    *,
    original_name: str = "recording.webm",
    session_id: str | None = None,
) -> str:
    """Copy a recording (a file or its bytes) into the data directory and register a session.

    Nothing is analysed here: the recording is safe on disk before any analysis starts.
    """
    session_id = session_id or uuid.uuid4().hex[:12]
    size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
    if size > settings.max_upload_mb * 1024 * 1024:
        raise MediaError(f"The file is {size / 1e6:.0f} MB; the limit is {settings.max_upload_mb} MB.")
    name = _SAFE_NAME.sub("_", Path(original_name).name) or "recording"
    target_dir = session_dir(settings, session_id)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / name
    if isinstance(source, bytes):
        target.write_bytes(source)
    else:
        shutil.copyfile(source, target)
    store.create_session(question, target, original_name=original_name, session_id=session_id)
    return session_id


def analyse_session(
    store: Store,
    settings: Settings,
    session_id: str,
    progress: ProgressFn | None = None,
    *,
    use_video: bool = True,
    live: LiveAnalyser | None = None,
) -> Report:
    """Analyse (or re-analyse) a saved session; on failure it is marked 'failed' with the reason.

    ``live``: what was analysed while this recording was made (same process); used when it covers the
    saved file (:func:`coach_core.live.handover.analyse_with_live`), closed in any case.
    """
    row = store.session(session_id)
    if (row is None or not row.recording_path or not Path(row.recording_path).exists()) and live is not None:
        live.close()  # nothing to hand it to
    if row is None:
        raise SessionError(f"No session with id {session_id}.")
    if not row.recording_path or not Path(row.recording_path).exists():
        message = f"The recording of session {session_id} is missing on disk."
        store.set_status(session_id, "failed", message)
        raise SessionError(message)
    question = store.question_of(session_id)
    assert question is not None
    store.set_status(session_id, "analysing")
    try:
        if live is not None:
            report = analyse_with_live(row.recording_path, question, live, settings=settings, session_id=session_id,
                                       progress=progress, use_video=use_video)  # fmt: skip
        else:
            report = analyse(row.recording_path, question, settings=settings, session_id=session_id,
                             progress=progress, use_video=use_video)  # fmt: skip
    except MediaError as exc:
        store.set_status(session_id, "failed", str(exc))
        raise
    except Exception as exc:
        store.set_status(session_id, "failed", f"Analysis failed: {type(exc).__name__}: {exc}")
        raise
    store_report(store, report)
    archive_quietly(store, settings, session_id)
    return report


def store_report(store: Store, report: Report) -> None:
    """Save a finished analysis: the recording's measured length/format, then the report."""
    if report.media is not None:
        store.update_recording(
            report.session_id,
            duration_s=report.media.duration_s,
            format=report.media.format,
            has_video=report.media.has_video,
        )
    store.save_report(report)


def archive_quietly(store: Store, settings: Settings, session_id: str) -> None:
    """Upload the session's files when an S3 bucket is configured; a failure is recorded, never raised."""
    if not settings.s3_bucket:
        return
    try:
        from coach_core.sessions.archive import archive_after_analysis  # boto3 is imported only when archiving is on

        archive_after_analysis(store, settings, session_id)
    except Exception as exc:  # the analysis is saved; archiving must never undo that
        logging.getLogger(__name__).warning("Session %s not archived: %s", session_id, exc)


@dataclass
class ArchiveDeletion:
    """What deleting a list of archived copies did: how many went, which are still in S3 and why."""

    deleted: int = 0  # archived copies deleted from the bucket
    remaining: list[str] = field(default_factory=list)  # keys still in the bucket
    error: str | None = None  # one line naming the bucket, the reason and the keys that remain


def delete_archived_copies(settings: Settings, objects: list[ArchiveObjectRow]) -> ArchiveDeletion:
    """Delete these archived session files from S3 (the rows are the store's archive state).

    Every recorded key is deleted, whatever its status (an interrupted upload may have left an
    object); ``deleted`` counts the copies recorded as archived. Never raises: when S3 cannot be
    reached, or archiving is not configured on this machine, ``error`` says which copies remain.
    """
    result = ArchiveDeletion()
    if not objects:
        return result
    there = {o.key for o in objects if o.status != "failed"}  # an upload that failed left no object
    archived = {o.key for o in objects if o.status == "archived"}
    if not settings.s3_bucket:
        result.remaining = sorted(there)
        if there:
            result.error = (f"S3 archiving is not configured here (COACH_S3_BUCKET), so {_copies(len(there))} "
                            f"stay in S3: {', '.join(result.remaining)}")  # fmt: skip
        return result
    from coach_core.storage.s3 import Archive  # boto3 only when archiving is on

    archive = Archive.from_settings(settings)
    assert archive is not None
    failed = archive.delete([o.key for o in objects])
    result.deleted = len(archived - set(failed))
    result.remaining = sorted(there & set(failed))
    if result.remaining:
        reasons = "; ".join(sorted({failed[k] for k in result.remaining}))
        result.error = (f"{_copies(len(result.remaining))} could not be deleted from S3 bucket '{archive.bucket}' "
                        f"({reasons}); still there: {', '.join(result.remaining)}")  # fmt: skip
        logging.getLogger(__name__).warning("%s", result.error)
    return result


def _copies(n: int) -> str:
    return f"{n} archived {'copy' if n == 1 else 'copies'}"


@dataclass
class DeletedSession:
    """What :func:`delete_session` removed. ``found`` False: no such session of this person, nothing touched."""

    session_id: str
    found: bool = False
    recording: bool = False  # the recording file was there and is gone
    report: bool = False  # the stored analysis (and its JSON export)
    pdf: bool = False
    archive: ArchiveDeletion = field(default_factory=ArchiveDeletion)

    @property
    def archive_error(self) -> str | None:
        return self.archive.error


def has_report(store: Store, row: SessionRow) -> bool:
    """Whether the session has a stored analysis (its overall score is stored with it)."""
    return row.overall is not None or store.report_dict(row.id) is not None


def delete_session(
    store: Store, settings: Settings, session_id: str, *, archived_copies: bool = True
) -> DeletedSession:
    """Delete a session of this store's person: its rows, its files (recording, report JSON, PDF) and,
    when ``archived_copies``, its archived copies in S3.

    Someone else's session (or none) is left alone: ``found`` is False and nothing is touched. The
    archived copies go first; when S3 cannot be reached the local deletion still happens and
    ``archive.error`` says which objects remain in the bucket.
    """
    result = DeletedSession(session_id)
    row = store.session(session_id)
    if row is None:
        return result
    result.found = True
    if archived_copies:
        result.archive = delete_archived_copies(settings, store.archive_objects(session_id))
    result.report = has_report(store, row)
    pdf = settings.reports_dir / f"{session_id}.pdf"
    result.pdf = pdf.is_file()
    recording = Path(row.recording_path) if row.recording_path else None
    result.recording = recording is not None and recording.is_file()
    path = store.delete_session(session_id)
    folder = session_dir(settings, session_id)
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    if path:
        Path(path).unlink(missing_ok=True)
    for suffix in (".json", ".pdf"):  # report files written for the archive and the PDF export
        (settings.reports_dir / f"{session_id}{suffix}").unlink(missing_ok=True)
    return result
