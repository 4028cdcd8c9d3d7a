"""The queue worker: analyses jobs from the RQ queue on any machine, never touching the database.

A job's payload names the session, its question, where the recording is (a path on a shared
disk and/or an S3 key) and the analysis settings. The worker fetches the recording, runs the
pipeline, publishes its step and progress in the job's ``meta`` and returns the report as a dict.
Only the app process writes DuckDB (it collects the results, see ``coach_core.jobs.rq_app``).

Start one with ``python -m coach_core worker --url redis://HOST:6379/0``: it loads the models
once and then runs every job in its own process (``CoachWorker``). Models loaded before a
``fork()`` hang in the child (CTranslate2's and torch's thread pools), so RQ's default forking
worker cannot reuse them; a plain ``rq worker -u URL coach`` works too but loads the models for
every job.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError
from rq import Queue, get_current_job
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.timeouts import JobTimeoutException
from rq.worker import SimpleWorker, WorkerStatus

from coach_core.config import Settings, load_settings

log = logging.getLogger(__name__)

QUEUE_NAME = "coach"
JOB_FUNCTION = "coach_core.jobs.rq_worker.analyse_job"
# Payloads, progress (job meta) and reports are plain JSON: nobody unpickles what Redis holds.
SERIALIZER = JSONSerializer
# Settings that change the result of an analysis: the app's values travel with each job so every
# worker gives the same report. Machine-specific ones (threads, paths, S3) stay the worker's own.
ANALYSIS_SETTINGS = ("whisper_model", "whisper_compute_type", "whisper_beam_size", "max_duration_s",
                     "min_duration_s", "face_fps", "face_fps_file")  # fmt: skip


class WorkerError(RuntimeError):
    """The job cannot be done on this worker; the message says why."""


def build_payload(
    session_id: str,
    question: dict[str, Any],
    recording_path: Path | str,
    settings: Settings,
    *,
    recording_key: str | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    """What a worker needs to analyse one session (plain JSON-able values only).

    ``owner`` travels with the job and comes back unchanged: the app decided it; a worker never does.
    """
    path = Path(recording_path)
    try:
        relative = str(path.relative_to(settings.recordings_dir))
    except ValueError:
        relative = None
    return {
        "session_id": session_id,
        "question": question,
        "recording_path": str(path),
        "recording_relpath": relative,
        "recording_key": recording_key,
        "owner": owner,
        "settings": {name: getattr(settings, name) for name in ANALYSIS_SETTINGS},
    }


def fetch_recording(payload: dict[str, Any], settings: Settings, workdir: Path) -> Path:
    """The recording on this machine: the shared path if readable, else a copy from the S3 archive."""
    candidates = [Path(payload["recording_path"])]
    if payload.get("recording_relpath"):  # the shared disk may be mounted elsewhere on this machine
        candidates.append(settings.recordings_dir / payload["recording_relpath"])
    for path in candidates:
        if path.is_file() and os.access(path, os.R_OK):
            return path
    key = payload.get("recording_key")
    if not key:
        raise WorkerError(
            f"The recording {candidates[0]} is not readable on worker {socket.gethostname()} and is not in an S3 "
            "archive: share the data directory with the workers or configure COACH_S3_BUCKET on the app."
        )
    from coach_core.storage.s3 import Archive, ArchiveError  # boto3 only when S3 is used

    archive = Archive.from_settings(settings)
    if archive is None:
        raise WorkerError(
            f"The recording is only in the S3 archive, and worker {socket.gethostname()} has no bucket configured "
            "(set COACH_S3_BUCKET and COACH_S3_ENDPOINT_URL on the worker)."
        )
    target = workdir / ("recording" + Path(payload["recording_path"]).suffix)
    try:
        return archive.download_file(key, target)
    except ArchiveError as exc:
        raise WorkerError(f"The recording could not be fetched from S3: {exc}") from None


class _Progress:
    """Publishes (step, fraction) in the RQ job's meta; called from the pipeline's threads."""

    def __init__(self, job: Any) -> None:
        self.job = job
        self.lock = threading.Lock()
        self.last = ("", -1.0)

    def __call__(self, step: str, fraction: float) -> None:
        if self.job is None:
            return
        with self.lock:
            if step == self.last[0] and fraction - self.last[1] < 0.05:
                return
            self.last = (step, fraction)
            self.publish(step=step, progress=round(float(fraction), 3))

    def publish(self, **values: Any) -> None:
        if self.job is None:
            return
        self.job.meta.update(values, updated=time.time())
        try:
            self.job.save_meta()
        except Exception as exc:  # progress is best effort; the result still counts
            log.warning("Progress of job %s not published: %s", self.job.id, exc)


def analyse_job(payload: dict[str, Any]) -> dict[str, Any]:
    """Analyse one recording for the queue; returns the report as a dict (``Report.to_dict()``).

    A failure leaves a one-line reason in the job's ``meta["error"]`` and raises, so the job ends
    in RQ's failed registry. Callable without RQ too (then nothing is published).
    """
    from coach_core.analysis.pipeline import analyse
    from coach_core.schema import Question

    job = get_current_job()
    progress = _Progress(job)
    if job is not None:
        attempt = int(job.meta.get("attempt") or 0) + 1
        job.meta.pop("error", None)
        progress.publish(attempt=attempt, worker=job.worker_name, host=socket.gethostname(), pid=os.getpid(),
                         step="starting", progress=0.0)  # fmt: skip
    settings = load_settings().with_overrides(**payload.get("settings", {}))
    try:
        with tempfile.TemporaryDirectory(prefix="coach-job-") as tmp:
            recording = fetch_recording(payload, settings, Path(tmp))
            report = analyse(
                recording,
                Question.from_dict(payload["question"]),
                settings=settings,
                session_id=payload["session_id"],
                progress=progress,
            )
    except Exception as exc:
        from coach_core.media.decode import MediaError

        if isinstance(exc, (MediaError, WorkerError)):
            reason = str(exc)
        elif isinstance(exc, JobTimeoutException):
            limit = job.timeout if job is not None else settings.job_timeout_s
            reason = f"The analysis took longer than the job time limit ({limit} s)."
        else:
            reason = f"Analysis failed: {type(exc).__name__}: {exc}"
        progress.publish(error=reason)
        raise
    from coach_core.models.engines import load_counts

    progress.publish(step="done", progress=1.0, model_loads=dict(load_counts))  # shows models are reused
    return report.to_dict()


class CoachWorker(SimpleWorker):
    """Runs each job in this process (models stay loaded) and keeps its heartbeat going meanwhile.

    RQ's SimpleWorker beats only when a job starts, with a time-to-live of the whole job timeout,
    so a killed worker's job would look alive for that long. Here a thread beats every
    ``job_monitoring_interval`` seconds with a short time-to-live; a worker that dies stops beating,
    its job expires from the started registry, and RQ's own clean-up (run by the workers and by the
    app's collector) moves it to the failed registry as abandoned.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("serializer", SERIALIZER)
        super().__init__(*args, **kwargs)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        return max(5, int(3 * self.job_monitoring_interval))

    def execute_job(self, job: Job, queue: Queue) -> None:
        execution = self.prepare_execution(job)
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.job_monitoring_interval):
                try:
                    self.maintain_heartbeats(job, execution)
                except Exception as exc:  # Redis briefly away: try again at the next beat
                    self.log.warning("Worker %s: heartbeat failed: %s", self.name, exc)

        beater = threading.Thread(target=beat, name="heartbeat", daemon=True)
        beater.start()
        try:
            self.perform_job(job, queue, execution)
        finally:
            stop.set()
            beater.join()
        self.set_state(WorkerStatus.IDLE)


def redis_connection(url: str) -> Any:
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=3, health_check_interval=30)


def safe_url(url: str) -> str:
    """The queue URL without a password, for messages and logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def run_worker(
    url: str,
    settings: Settings | None = None,
    *,
    burst: bool = False,
    name: str | None = None,
    heartbeat_s: float | None = None,
    warm: bool = True,
) -> bool:
    """Load the models once, then process jobs from the queue until stopped (or empty, with ``burst``)."""
    settings = settings or load_settings()
    connection = redis_connection(url)
    try:
        connection.ping()
    except RedisError as exc:
        raise WorkerError(f"The job queue at {safe_url(url)} cannot be reached ({str(exc).rstrip('.')}).") from None
    if warm:
        log.info("Queue %s reachable; loading the models…", safe_url(url))
        from coach_core.analysis import pipeline

        started = time.perf_counter()
        pipeline.warm_up(settings)
        log.info("Models loaded in %.1f s", time.perf_counter() - started)
    interval = max(1, round(heartbeat_s if heartbeat_s is not None else settings.worker_heartbeat_s))
    worker = CoachWorker(
        [Queue(QUEUE_NAME, connection=connection, serializer=SERIALIZER)],
        connection=connection,
        name=name,
        job_monitoring_interval=interval,
    )
    return bool(worker.work(burst=burst, logging_level="INFO", with_scheduler=False))
