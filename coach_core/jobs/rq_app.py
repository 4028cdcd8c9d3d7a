"""Analysis jobs on an RQ queue (``COACH_QUEUE_URL``): workers anywhere, one database writer here.

The app enqueues a payload (session, question, where the recording is) and a collector thread
follows the RQ jobs: it copies each job's step and progress into the DuckDB ``jobs`` table and,
when a job ends, stores the returned report (``Store.save_report``) or the failure's reason. So
the app process stays DuckDB's only writer, and the pages read job state exactly as with the
embedded runner. Workers never open the database (see ``coach_core.jobs.rq_worker``).

A worker that dies mid-job (process killed, machine lost) stops its heartbeat; RQ's clean-up of
the started registry, which the collector runs on every poll, then fails the job as abandoned.
The collector re-enqueues it up to ``job_retries`` times, then reports it failed with a readable
reason; a user retry submits it again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from coach_core.config import Settings
from coach_core.jobs.base import ACTIVE, JobError, QueueUnavailable, StoredJobs, mark_interrupted
from coach_core.jobs.rq_worker import JOB_FUNCTION, QUEUE_NAME, SERIALIZER, build_payload, redis_connection, safe_url
from coach_core.schema import Report
from coach_core.sessions.lifecycle import archive_quietly, store_report
from coach_core.storage.rows import JobRow
from coach_core.storage.store import LOCAL_USER, Store

if TYPE_CHECKING:
    from coach_core.live.analyser import LiveAnalyser

log = logging.getLogger(__name__)

BACKEND = "rq"
RESULT_TTL_S = 7 * 24 * 3600  # results wait this long for the app to collect them (it may be down)
FAILURE_TTL_S = 7 * 24 * 3600
WORKER_DIED = "A worker died during analysis (its process was killed or its machine was lost); retry it."
JOB_LOST = "The job queue no longer knows this job (Redis was restarted or its data expired); retry it."
_WAITING = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.CREATED)


class QueueJobManager(StoredJobs):
    """Same interface as the embedded ``JobManager``; the analyses run on RQ workers."""

    def __init__(self, store: Store, settings: Settings, *, poll_s: float = 0.5) -> None:
        if not settings.queue_url:
            raise JobError("No job queue configured (COACH_QUEUE_URL is empty).")
        self.store = store
        self.settings = settings
        self.url = safe_url(settings.queue_url)
        self.notice: str | None = None
        self.connection = redis_connection(settings.queue_url)
        try:
            self.connection.ping()
        except (RedisError, ValueError) as exc:
            raise QueueUnavailable(self._unreachable(exc)) from None
        self.queue = Queue(QUEUE_NAME, connection=self.connection, serializer=SERIALIZER)
        self._poll_s = poll_s
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._outage: str | None = None
        self._submitting: set[str] = set()  # rows written, not yet in Redis: not "lost"
        self.recover()
        self._collector = threading.Thread(target=self._collect_loop, name="job-collector", daemon=True)
        self._collector.start()

    def _unreachable(self, exc: BaseException) -> str:
        return f"The job queue at {self.url} cannot be reached ({str(exc).rstrip('.')})."

    # The interface the pages use -----------------------------------------------------------
    def recover(self) -> list[str]:
        """Jobs left running by an embedded runner are interrupted; queued RQ jobs are followed again."""
        return mark_interrupted(self.store, [j for j in self.store.jobs() if j["backend"] != BACKEND])

    def submit(self, session_id: str, live: LiveAnalyser | None = None) -> str:
        if live is not None:  # a worker analyses the saved file; the app's live parts are not used
            live.close()
        row = self.store.session(session_id)
        if row is None:
            raise JobError(f"No session with id {session_id}.")
        for job in self.store.jobs(session_id=session_id):
            if job["status"] in ACTIVE:
                return job["id"]  # already on its way: never two analyses of one session
        job_id = uuid.uuid4().hex[:12]
        with self._lock:
            self._submitting.add(job_id)
        try:
            self.store.create_job(job_id, session_id, backend=BACKEND)
            self.store.set_status(session_id, "queued")
            self._enqueue(job_id, session_id, row.recording_path)
        except Exception as exc:  # the row must not stay 'queued' for a job Redis never got
            self._fail(job_id, session_id, f"The analysis could not be queued ({type(exc).__name__}: {exc}).")
        finally:
            with self._lock:
                self._submitting.discard(job_id)
        return job_id

    def _enqueue(self, job_id: str, session_id: str, recording_path: str | None) -> None:
        if not recording_path or not Path(recording_path).exists():
            self._fail(job_id, session_id, f"The recording of session {session_id} is missing on disk.")
            return
        question = self.store.question_of(session_id)
        assert question is not None
        payload = build_payload(session_id, question.to_dict(), recording_path, self.settings,
                                recording_key=self._archive_recording(session_id),
                                owner=self.store.owner_of(session_id))  # fmt: skip
        try:
            self.queue.enqueue(
                JOB_FUNCTION,
                payload,
                job_id=job_id,
                job_timeout=self.settings.job_timeout_s,
                result_ttl=RESULT_TTL_S,
                failure_ttl=FAILURE_TTL_S,
                description=f"analyse session {session_id}",
            )
        except RedisError as exc:
            reason = f"{self._unreachable(exc)} The recording is saved: retry when the queue is back."
            self._fail(job_id, session_id, reason)

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job; one a worker has started finishes its current run."""
        row = self.status(job_id)
        if row["status"] != "queued":
            return False
        with self._lock:
            try:
                job = Job.fetch(job_id, connection=self.connection, serializer=SERIALIZER)
                if job.get_status() not in _WAITING:
                    return False
                job.cancel()
            except NoSuchJobError:
                pass
            except RedisError as exc:
                raise JobError(self._unreachable(exc)) from None
            self.store.update_job(job_id, status="cancelled")
            self.store.set_status(row["session_id"], "recorded")
        return True

    def wait(self, job_id: str, timeout: float | None = None) -> JobRow:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.status(job_id)
            if job["status"] not in ACTIVE:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"Job {job_id} is still {job['status']} after {timeout:.0f} s.")
            time.sleep(0.2)

    def shutdown(self) -> None:
        self._stop.set()
        self._collector.join(timeout=10)
        self.connection.close()

    # Collecting ----------------------------------------------------------------------------
    def _collect_loop(self) -> None:
        while not self._stop.wait(self._poll_s):
            try:
                self.collect()
                if self._outage:
                    log.warning("The job queue at %s is back.", self.url)
                    self._outage = None
            except RedisError as exc:
                if not self._outage:  # once per outage, not every poll
                    log.warning("The job queue at %s cannot be reached (%s); results are collected when it is "
                                "back.", self.url, exc)  # fmt: skip
                self._outage = str(exc)
            except Exception:
                log.exception("Collecting job results failed")

    def collect(self) -> None:
        """One pass: bring every active RQ job's row in DuckDB up to date."""
        with self._lock:
            rows = [j for j in self.store.jobs(status="queued") + self.store.jobs(status="running")
                    if j["backend"] == BACKEND and j["id"] not in self._submitting]  # fmt: skip
            if not rows:
                return
            self.queue.started_job_registry.cleanup()  # jobs of dead workers → failed (AbandonedJobError)
            jobs = Job.fetch_many([r["id"] for r in rows], connection=self.connection, serializer=SERIALIZER)
            for row, job in zip(rows, jobs, strict=True):
                self._apply(row, job)

    def _apply(self, row: JobRow, job: Job | None) -> None:
        job_id, session_id = row["id"], row["session_id"]
        if job is None:
            self._fail(job_id, session_id, JOB_LOST)
            return
        status = job.get_status(refresh=False)
        meta = job.meta or {}
        attempts = max(int(meta.get("attempt") or 0), int(row["attempts"] or 0))
        if status in _WAITING:
            if row["status"] != "queued":
                self.store.update_job(job_id, status="queued")
        elif status == JobStatus.STARTED:
            changes: dict[str, Any] = {}
            if row["status"] != "running":
                changes["status"] = "running"
                self.store.set_status(session_id, "analysing")
            for name in ("step", "progress"):
                if meta.get(name) is not None and meta[name] != row[name]:
                    changes[name] = meta[name]
            if attempts != row["attempts"]:
                changes["attempts"] = attempts
            if changes:
                self.store.update_job(job_id, **changes)
        elif status == JobStatus.FINISHED:
            self._finish(job_id, session_id, job, attempts)
        elif status == JobStatus.FAILED:
            if meta.get("error"):
                self.store.update_job(job_id, attempts=attempts)
                self._fail(job_id, session_id, str(meta["error"]))
            elif attempts <= self.settings.job_retries:
                result = job.latest_result()
                log.warning("Job %s: the worker died (%s); enqueued again", job_id,
                            (result.exc_string or "").strip().splitlines()[-1:] if result else "")  # fmt: skip
                job.requeue()
                self.store.update_job(job_id, status="queued", step="retrying", progress=0.0, attempts=attempts,
                                      error="A worker died during analysis; trying again.")  # fmt: skip
                self.store.set_status(session_id, "queued")
            else:
                self.store.update_job(job_id, attempts=attempts)
                self._fail(job_id, session_id, WORKER_DIED)
        elif status in (JobStatus.CANCELED, JobStatus.STOPPED):
            self.store.update_job(job_id, status="cancelled")
            self.store.set_status(session_id, "recorded")

    def _finish(self, job_id: str, session_id: str, job: Job, attempts: int) -> None:
        try:
            report = Report.from_dict(job.return_value() or {})
        except Exception as exc:
            self._fail(job_id, session_id, f"The worker returned an unreadable report ({type(exc).__name__}).")
            return
        if report.session_id != session_id:
            self._fail(job_id, session_id, f"The worker returned the report of another session ({report.session_id}).")
            return
        store_report(self.store, report)  # before the job reads as finished: its report is then there
        self.store.update_job(job_id, status="finished", step="done", progress=1.0, attempts=attempts, error=None)
        archive_quietly(self.store, self.settings, session_id)

    def _fail(self, job_id: str, session_id: str, reason: str) -> None:
        # The session first: whoever sees the job as failed must also find the session failed.
        self.store.set_status(session_id, "failed", reason)
        self.store.update_job(job_id, status="failed", error=reason)

    # S3 ----------------------------------------------------------------------------------------
    def _archive_recording(self, session_id: str) -> str | None:
        """Upload the recording so workers without the shared disk can fetch it; its key, or None."""
        if not self.settings.s3_bucket:
            return None
        try:
            from coach_core.sessions.archive import Archive, archive_session

            archive = Archive.from_settings(self.settings)
            assert archive is not None
            result = archive_session(self.store, self.settings, session_id, archive=archive, kinds=("recording",))
            if "recording" in result.uploaded or "recording" in result.already:
                return archive.session_keys(session_id, self.store.owner_of(session_id) or LOCAL_USER)["recording"]
            log.warning("Recording not archived, workers need the shared disk: %s", result.summary())
        except Exception as exc:
            log.warning("Recording of session %s not archived, workers need the shared disk: %s", session_id, exc)
        return None
