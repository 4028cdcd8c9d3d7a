"""The rows the store returns, typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

FILE_KINDS = ("recording", "report", "pdf")  # a session's files, as archived (ArchiveObjectRow.kind)


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


class JobRow(TypedDict):
    """One analysis job as stored (a dict, so pages and the JSON of a worker's answer read it alike)."""

    id: str
    session_id: str
    created_at: datetime
    updated_at: datetime | None
    status: str  # queued, running, finished, failed, cancelled, interrupted
    step: str | None
    progress: float | None
    error: str | None
    attempts: int
    backend: str | None
    owner: str  # the session's owner, copied when the job is made


@dataclass
class InterviewItemRow:
    """One question of a mock interview: its answer's session and the follow-up (asked, maybe answered)."""

    position: int
    question: dict[str, Any]  # Question.to_dict()
    session_id: str | None = None
    follow_up: dict[str, Any] | None = None  # FollowUp.to_dict(): text, reason, kind, key point
    follow_up_session_id: str | None = None


@dataclass
class InterviewRow:
    id: str
    created_at: datetime
    role: str | None
    status: str  # in_progress, finished
    items: list[InterviewItemRow]
    summary: dict[str, Any] | None = None  # InterviewSummary.to_dict() once finished
