"""The app's database: one object with every repository (sessions, jobs, archive state, custom questions)."""

from __future__ import annotations

from coach_core.storage.archive_repo import ArchiveRepository
from coach_core.storage.database import ANY_OWNER, LOCAL_USER, SCHEMA_LATEST, StoreError, migrate, now, trend_values
from coach_core.storage.interview_repo import InterviewRepository
from coach_core.storage.job_repo import JobRepository
from coach_core.storage.question_repo import QuestionRepository
from coach_core.storage.rows import ArchiveObjectRow, InterviewItemRow, InterviewRow, SessionFilters, SessionRow
from coach_core.storage.session_repo import SessionRepository

__all__ = [
    "ANY_OWNER",
    "LOCAL_USER",
    "SCHEMA_LATEST",
    "ArchiveObjectRow",
    "InterviewItemRow",
    "InterviewRow",
    "SessionFilters",
    "SessionRow",
    "Store",
    "StoreError",
    "migrate",
    "now",
    "trend_values",
]


class Store(ArchiveRepository, InterviewRepository, SessionRepository, JobRepository, QuestionRepository):
    """The app's database. Thread-safe within one process."""
