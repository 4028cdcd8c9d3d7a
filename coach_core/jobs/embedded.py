"""The embedded job backend: analyses on an in-process thread pool (no extra service)."""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from coach_core.config import Settings
from coach_core.jobs.base import ACTIVE, JobError, StoredJobs, mark_interrupted
from coach_core.media.decode import MediaError
from coach_core.sessions.lifecycle import analyse_session
from coach_core.storage.rows import JobRow
from coach_core.storage.store import Store

if TYPE_CHECKING:
    from coach_core.live.analyser import LiveAnalyser

log = logging.getLogger(__name__)


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

    def submit(self, session_id: str, live: LiveAnalyser | None = None) -> str:
        if self.store.session(session_id) is None:
            if live is not None:
                live.close()
            raise JobError(f"No session with id {session_id}.")
        for job in self.store.jobs(session_id=session_id):
            if job["status"] in ACTIVE:
                if live is not None:
                    live.close()
                return job["id"]  # already on its way: never two analyses of one session
        job_id = uuid.uuid4().hex[:12]
        self.store.create_job(job_id, session_id, backend="embedded")
        self.store.set_status(session_id, "queued")
        with self._lock:
            self._futures[job_id] = self._pool.submit(self._run, job_id, session_id, live)
        return job_id

    def _run(self, job_id: str, session_id: str, live: LiveAnalyser | None = None) -> None:
        if job_id in self._cancelled:
            if live is not None:
                live.close()
            return
        job = self.store.job(job_id)
        self.store.update_job(job_id, status="running", step="starting", progress=0.0,
                              attempts=int(job["attempts"] or 0) + 1 if job else 1)  # fmt: skip
        last: dict[str, Any] = {"step": "", "progress": -1.0}

        def progress(step: str, fraction: float) -> None:
            if step != last["step"] or fraction - last["progress"] >= 0.05:
                last.update(step=step, progress=fraction)
                self.store.update_job(job_id, step=step, progress=fraction)

        try:
            analyse_session(self.store, self.settings, session_id, progress=progress, live=live)
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

    def wait(self, job_id: str, timeout: float | None = None) -> JobRow:
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)
        return self.status(job_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
