"""Analysis jobs: submit a saved session, follow its step and progress, retry, cancel.

Two backends with one interface (``Jobs``), picked by ``make_job_manager`` from the settings:
the embedded one runs jobs on an in-process thread pool (no extra service); with
``COACH_QUEUE_URL`` they go to an RQ queue served by workers on any machine (``coach_core.jobs.rq_app``).
Job state is stored in DuckDB, so a reload keeps it; on restart, jobs the embedded pool was running
are marked 'interrupted' and can be retried. Recordings are never touched by a failed job.
"""

from __future__ import annotations

import logging

from coach_core.config import Settings
from coach_core.jobs.base import Jobs, QueueUnavailable
from coach_core.jobs.embedded import JobManager
from coach_core.storage.store import ANY_OWNER, Store

log = logging.getLogger(__name__)


def make_job_manager(store: Store, settings: Settings) -> Jobs:
    """The embedded runner, or the RQ queue when ``COACH_QUEUE_URL`` is set.

    Raises JobError (one line, naming the URL) when the queue cannot be reached, unless
    ``COACH_QUEUE_FALLBACK=embedded``: then analyses run inside the app and ``notice`` says so.
    """
    runner_store = store.as_user(ANY_OWNER)  # the runners act on each person's sessions, never changing owners
    if not settings.queue_url:
        return JobManager(runner_store, settings)
    from coach_core.jobs.rq_app import QueueJobManager

    try:
        return QueueJobManager(runner_store, settings)
    except QueueUnavailable as exc:
        if settings.queue_fallback != "embedded":
            raise
        manager = JobManager(runner_store, settings)
        manager.notice = f"{exc.reason} Analysing inside the app instead (COACH_QUEUE_FALLBACK=embedded)."
        log.warning("%s", manager.notice)
        return manager
