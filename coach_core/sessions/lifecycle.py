"""A practice session's life: the recording is saved first, then analysed; failures are kept retryable.

Used by the CLI, the app and the job workers alike.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from pathlib import Path

from coach_core.analysis.pipeline import ProgressFn, analyse
from coach_core.config import Settings
from coach_core.live.analyser import LiveAnalyser
from coach_core.live.handover import analyse_with_live
from coach_core.media.decode import MediaError
from coach_core.schema import Question, Report
from coach_core.storage.store import Store

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


def delete_session(store: Store, settings: Settings, session_id: str) -> None:
    """Delete a session's rows and its files (recording, reports)."""
    path = store.delete_session(session_id)
    folder = session_dir(settings, session_id)
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    elif path:
        Path(path).unlink(missing_ok=True)
    for suffix in (".json", ".pdf"):  # report files written for the archive and the PDF export
        (settings.reports_dir / f"{session_id}{suffix}").unlink(missing_ok=True)
