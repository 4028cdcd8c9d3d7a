"""A person's own data: what is stored, what deleting a session removes, download all of it, delete all of it.

Everything goes through the store's view of one person (``store.as_user(owner)``), so another
person's sessions, files and archived copies are never counted, exported or deleted.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from coach_core.config import Settings
from coach_core.sessions.interviews import interview_export
from coach_core.sessions.lifecycle import SessionError, delete_archived_copies, delete_session, has_report
from coach_core.storage.store import LOCAL_USER, Store

_ARCHIVED = "archived"  # ArchiveObjectRow.status of a copy in the bucket (storage.s3.ARCHIVED; boto3 not needed here)


@dataclass
class DataInventory:
    """How much of a person's data there is (or was exported, or deleted)."""

    sessions: int = 0
    recordings: int = 0  # recording files on this machine
    reports: int = 0  # stored analyses
    pdfs: int = 0  # PDF coaching reports made
    custom_questions: int = 0
    archived_objects: int = 0  # copies of session files in the S3 archive
    archive_errors: list[str] = field(default_factory=list)  # archived copies that could not be deleted, and why

    def describe(self) -> str:
        """One line, e.g. "3 sessions: 3 recordings, 2 reports, 1 PDF; 2 saved questions; 5 archived copies in S3"."""
        parts = [_count(self.sessions, "session")]
        files = [_count(n, name) for n, name in ((self.recordings, "recording"), (self.reports, "report"),
                                                 (self.pdfs, "PDF")) if n]  # fmt: skip
        if files:
            parts[0] += ": " + ", ".join(files)
        if self.custom_questions:
            parts.append(_count(self.custom_questions, "saved question"))
        if self.archived_objects:
            parts.append(_count(self.archived_objects, "archived copy", "archived copies") + " in S3")
        return "; ".join(parts)

    @property
    def empty(self) -> bool:
        return not (self.sessions or self.custom_questions or self.archived_objects)


def _count(n: int, one: str, many: str | None = None) -> str:
    if n == 0:
        return f"no {many or one + 's'}"
    return f"{n} {one if n == 1 else many or one + 's'}"


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} MB"
    if n >= 1_000:
        return f"{n / 1e3:.0f} kB"
    return f"{n} bytes"


def _person(store: Store) -> str:
    if store.owner is None:
        raise ValueError("A person's data is read through their view of the store (store.as_user(owner)).")
    return store.owner


def session_files(store: Store, settings: Settings, session_id: str) -> list[str]:
    """What deleting this session removes, in words, for a confirmation.

    E.g. ``["the recording (12.3 MB)", "the report", "the PDF", "3 archived copies in S3 bucket 'x'"]``.
    Raises SessionError when the session is not this person's (or does not exist).
    """
    row = store.session(session_id)
    if row is None:
        raise SessionError(f"Session {session_id} not found")
    out: list[str] = []
    if row.recording_path and Path(row.recording_path).is_file():
        out.append(f"the recording ({_size(Path(row.recording_path).stat().st_size)})")
    if has_report(store, row):
        out.append("the report")
    if (settings.reports_dir / f"{session_id}.pdf").is_file():
        out.append("the PDF")
    archived = sum(1 for o in store.archive_objects(session_id) if o.status == _ARCHIVED)
    if archived:
        copies = _count(archived, "archived copy", "archived copies")
        if settings.s3_bucket:
            out.append(f"{copies} in S3 bucket '{settings.s3_bucket}'")
        else:
            out.append(f"{copies} in S3 stay there (S3 archiving is not configured here)")
    return out


def inventory(store: Store, settings: Settings) -> DataInventory:
    """What this person has stored: sessions, recording files, reports, PDFs, saved questions, archived copies."""
    _person(store)
    found = DataInventory()
    for row in store.sessions(limit=None):
        found.sessions += 1
        found.recordings += bool(row.recording_path and Path(row.recording_path).is_file())
        found.reports += has_report(store, row)
        found.pdfs += (settings.reports_dir / f"{row.id}.pdf").is_file()
    found.custom_questions = len(store.custom_questions())
    found.archived_objects = sum(1 for o in store.archive_objects() if o.status == _ARCHIVED)
    return found


_README = """Interview Coach: all the data of {who}, exported {when} (UTC).

{what}.

reports/<session id>.json     each analysed session's report (scores, transcript, measures, tips), as stored
pdfs/<session id>.pdf         the PDF coaching reports that had been made
recordings/<session id>/...   the recordings, as saved
sessions.json                 every session: when, which question, its status
questions.json                your saved questions (text, key points)
"""


def export_all(store: Store, settings: Settings, out: Path | BinaryIO) -> DataInventory:
    """Write a zip of this person's data to ``out`` (a file path, or a writable binary stream).

    Recordings and PDFs are stored as they are (``ZIP_STORED``: they are compressed already) and
    copied in chunks, so a large export never sits in memory; JSON is deflated. A path is written
    to a side file first and renamed at the end, so a failed export leaves no half zip. Returns what
    went into the zip.
    """
    owner = _person(store)
    if isinstance(out, Path):
        part = out.with_name(f".{out.name}.part")
        try:
            with part.open("wb") as stream:
                done = export_all(store, settings, stream)
            os.replace(part, out)
        finally:
            part.unlink(missing_ok=True)
        return done
    done = DataInventory()
    sessions = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for row in store.sessions(limit=None):
            done.sessions += 1
            sessions.append({"id": row.id, "created_at": row.created_at.isoformat(), "question": row.question_text,
                             "role": row.role, "kind": row.kind, "status": row.status, "error": row.error,
                             "overall": row.overall, "duration_s": row.duration_s})  # fmt: skip
            report = store.report_dict(row.id)
            if report is not None:
                zf.writestr(f"reports/{row.id}.json", json.dumps(report, indent=2, ensure_ascii=False))
                done.reports += 1
            pdf = settings.reports_dir / f"{row.id}.pdf"
            if _add_file(zf, pdf, f"pdfs/{row.id}.pdf"):
                done.pdfs += 1
            if row.recording_path:
                recording = Path(row.recording_path)
                if _add_file(zf, recording, f"recordings/{row.id}/{recording.name}"):
                    done.recordings += 1
        questions = [q.to_dict() for q in store.custom_questions()]
        done.custom_questions = len(questions)
        zf.writestr("sessions.json", json.dumps(sessions, indent=2, ensure_ascii=False))
        zf.writestr("questions.json", json.dumps(questions, indent=2, ensure_ascii=False))
        for interview in store.interviews(limit=None):  # each with its summary and its answers' reports
            zf.writestr(f"interviews/{interview.id}.json",
                        json.dumps(interview_export(store, interview), indent=2, ensure_ascii=False))  # fmt: skip
        who = "the local user" if owner == LOCAL_USER else owner
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
        zf.writestr("README.txt", _README.format(who=who, when=when, what=done.describe()))
    return done


def _add_file(zf: zipfile.ZipFile, path: Path, name: str) -> bool:
    """Copy a file into the zip as it is; False when it is not there (deleted meanwhile, never made)."""
    try:
        zf.write(path, name, compress_type=zipfile.ZIP_STORED)
    except (FileNotFoundError, IsADirectoryError):
        return False
    return True


def delete_all(store: Store, settings: Settings) -> DataInventory:
    """Delete every session of this person (rows, recordings, reports, PDFs), their saved questions and,
    when archiving is configured, their archived copies in S3. Returns what went.

    The archived copies go first, in one pass; when S3 cannot be reached the local data is deleted
    anyway and ``archive_errors`` says which objects remain in the bucket.
    """
    _person(store)
    gone = DataInventory()
    archive = delete_archived_copies(settings, store.archive_objects())
    gone.archived_objects = archive.deleted
    if archive.error:
        gone.archive_errors.append(archive.error)
    for row in store.sessions(limit=None):
        deleted = delete_session(store, settings, row.id, archived_copies=False)
        if deleted.found:
            gone.sessions += 1
            gone.recordings += deleted.recording
            gone.reports += deleted.report
            gone.pdfs += deleted.pdf
    for question in store.custom_questions():
        if question.id:
            store.delete_custom_question(question.id)
            gone.custom_questions += 1
    for interview in store.interviews(limit=None):
        store.delete_interview(interview.id)
    return gone
