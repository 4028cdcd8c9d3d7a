"""What every job backend shares: the ``Jobs`` interface, its errors, and job state kept in the store."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from coach_core.storage.rows import JobRow
from coach_core.storage.store import Store

if TYPE_CHECKING:
    from coach_core.live.analyser import LiveAnalyser

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
INTERRUPTED = "The app stopped during analysis."


class JobError(RuntimeError):
    """A job operation that cannot be done; the message says why."""


class QueueUnavailable(JobError):
    """The job queue cannot be reached; ``reason`` is the message without the advice."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason} Start Redis there, or set COACH_QUEUE_FALLBACK=embedded to analyse inside the "
                         "app instead.")  # fmt: skip
        self.reason = reason


class Jobs(Protocol):
    """What the pages and the CLI use, whichever backend runs the analyses."""

    notice: str | None  # a warning to show, e.g. that the queue was unreachable and jobs run in the app

    def submit(self, session_id: str, live: LiveAnalyser | None = None) -> str: ...
    def status(self, job_id: str) -> JobRow: ...
    def retry(self, job_id: str) -> str: ...
    def cancel(self, job_id: str) -> bool: ...
    def wait(self, job_id: str, timeout: float | None = None) -> JobRow: ...
    def shutdown(self) -> None: ...


def mark_interrupted(store: Store, jobs: list[JobRow]) -> list[str]:
    """Mark the given jobs that are still 'queued' or 'running' as interrupted (their runner is gone)."""
    lost = []
    for job in jobs:
        if job["status"] in ACTIVE:
            store.update_job(job["id"], status="interrupted", error=INTERRUPTED)
            store.set_status(job["session_id"], "failed", "Analysis was interrupted; retry it.")
            lost.append(job["id"])
    return lost


class StoredJobs:
    """What both backends share: job state lives in the store, a retry is a new submission."""

    store: Store

    def submit(self, session_id: str, live: LiveAnalyser | None = None) -> str:
        raise NotImplementedError

    def status(self, job_id: str) -> JobRow:
        job = self.store.job(job_id)
        if job is None:
            raise JobError(f"No job with id {job_id}.")
        return job

    def retry(self, job_id: str) -> str:
        job = self.status(job_id)
        if job["status"] in ACTIVE:
            raise JobError("The job is still running.")
        return self.submit(job["session_id"])
