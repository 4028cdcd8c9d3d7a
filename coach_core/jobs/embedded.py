"""Analysis jobs: submit a saved session, follow its step and progress, retry, cancel.

Two backends with one interface (``Jobs``), picked by ``make_job_manager`` from the settings:
the embedded one runs jobs on an in-process thread pool (no extra service); with
``COACH_QUEUE_URL`` they go to an RQ queue served by workers on any machine (``coach_core.jobs.rq_app``).
Job state is stored in DuckDB, so a reload keeps it; on restart, jobs the embedded pool was running
are marked 'interrupted' and can be retried. Recordings are never touched by a failed job.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from coach_core.config import Settings
from coach_core.media.decode import MediaError
from coach_core.sessions.lifecycle import analyse_session
from coach_core.storage.store import Store

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

    def submit(self, session_id: str) -> str: ...
    def status(self, job_id: str) -> dict[str, Any]: ...
    def retry(self, job_id: str) -> str: ...
    def cancel(self, job_id: str) -> bool: ...
    def wait(self, job_id: str, timeout: float | None = None) -> dict[str, Any]: ...
    def shutdown(self) -> None: ...


def make_job_manager(store: Store, settings: Settings) -> Jobs:
    """The embedded runner, or the RQ queue when ``COACH_QUEUE_URL`` is set.

    Raises JobError (one line, naming the URL) when the queue cannot be reached, unless
    ``COACH_QUEUE_FALLBACK=embedded``: then analyses run inside the app and ``notice`` says so.
    """
    if not settings.queue_url:
        return JobManager(store, settings)
    from coach_core.jobs.rq_app import QueueJobManager

    try:
        return QueueJobManager(store, settings)
    except QueueUnavailable as exc:
        if settings.queue_fallback != "embedded":
            raise
        manager = JobManager(store, settings)
        manager.notice = f"{exc.reason} Analysing inside the app instead (COACH_QUEUE_FALLBACK=embedded)."
        log.warning("%s", manager.notice)
        return manager


def mark_interrupted(store: Store, jobs: list[dict[str, Any]]) -> list[str]:
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

    def submit(self, session_id: str) -> str:
        raise NotImplementedError

    def status(self, job_id: str) -> dict[str, Any]:
        job = self.store.job(job_id)
        if job is None:
            raise JobError(f"No job with id {job_id}.")
        return job

    def retry(self, job_id: str) -> str:
        job = self.status(job_id)
        if job["status"] in ACTIVE:
            raise JobError("The job is still running.")
        return self.submit(job["session_id"])


class JobManager(StoredJobs):
    """Runs analyses in the background on ``settings.workers`` threads."""

    def __init__(self, store: Store, settings: Settings, workers: int | None = None) -> None:
        self.store = store
        self.settings = settings
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers or settings.workers), thread_name_prefix="analysis")
        self._futures: dict[str, Future[None]] = {}
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()
        self.notice: str | None = None
        self.recover()

    def recover(self) -> list[str]:
        """Mark jobs left 'queued' or 'running' by a previous process as interrupted."""
        return mark_interrupted(self.store, [j for j in self.store.jobs() if j["id"] not in self._futures])

    def submit(self, session_id: str) -> str:
        if self.store.session(session_id) is None:
            raise JobError(f"No session with id {session_id}.")
        for job in self.store.jobs(session_id=session_id):
            if job["status"] in ACTIVE:
                return job["id"]  # already on its way: never two analyses of one session
        job_id = uuid.uuid4().hex[:12]
        self.store.create_job(job_id, session_id, backend="embedded")
        self.store.set_status(session_id, "queued")
        with self._lock:
            self._futures[job_id] = self._pool.submit(self._run, job_id, session_id)
        return job_id

    def _run(self, job_id: str, session_id: str) -> None:
        if job_id in self._cancelled:
            return
        job = self.store.job(job_id) or {}
        self.store.update_job(job_id, status="running", step="starting", progress=0.0,
                              attempts=int(job.get("attempts") or 0) + 1)  # fmt: skip
        last = {"step": "", "progress": -1.0}

        def progress(step: str, fraction: float) -> None:
            if step != last["step"] or fraction - last["progress"] >= 0.05:
                last.update(step=step, progress=fraction)
                self.store.update_job(job_id, step=step, progress=fraction)

        try:
            analyse_session(self.store, self.settings, session_id, progress=progress)
        except MediaError as exc:
            self.store.update_job(job_id, status="failed", error=str(exc))
        except Exception as exc:
            self.store.update_job(job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        else:
            self.store.update_job(job_id, status="finished", step="done", progress=1.0)

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job; a running analysis finishes its current run."""
        job = self.status(job_id)
        with self._lock:
            future = self._futures.get(job_id)
        if job["status"] == "queued" and (future is None or future.cancel()):
            self._cancelled.add(job_id)
            self.store.update_job(job_id, status="cancelled")
            self.store.set_status(job["session_id"], "recorded")
            return True
        return False

    def wait(self, job_id: str, timeout: float | None = None) -> dict[str, Any]:
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)
        return self.status(job_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
