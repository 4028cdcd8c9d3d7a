"""The one UI helper module: cached resources (settings, store, jobs), warm-up, small widgets."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import streamlit as st

from coach_core.config import Settings, load_settings
from coach_core.storage.store import Store, StoreError

if TYPE_CHECKING:  # the analysis modules are imported by the pages that analyse, not by Home
    from coach_core.jobs.base import Jobs

SCORE_NAMES = ("overall", "content", "confidence", "clarity", "resilience", "engagement")


def _export_secrets() -> None:
    """COACH_* values from Streamlit secrets become environment settings (env wins)."""
    try:
        items = dict(st.secrets)
    except Exception:
        return
    for key, value in items.items():
        if key.upper().startswith("COACH_") and isinstance(value, (str, int, float)):
            os.environ.setdefault(key.upper(), str(value))


@st.cache_resource
def settings() -> Settings:
    _export_secrets()
    return load_settings()


@st.cache_resource(on_release=Store.close)
def store() -> Store:
    return Store(settings().database)


def _shut_down(manager: Jobs) -> None:
    manager.shutdown()  # the embedded pool's threads, or the RQ collector and its Redis connection


@st.cache_resource(on_release=_shut_down)
def _job_manager() -> Jobs:
    from coach_core.jobs.factory import make_job_manager

    return make_job_manager(store(), settings())  # embedded pool, or the RQ queue with COACH_QUEUE_URL


def jobs() -> Jobs:
    from coach_core.jobs.base import JobError

    try:
        manager = _job_manager()  # not cached on failure: the next run tries the queue again
    except JobError as exc:
        st.error(str(exc))
        st.stop()
    if manager.notice and not st.session_state.get("_jobs_notice_shown"):
        st.session_state["_jobs_notice_shown"] = True
        st.warning(manager.notice)
    return manager


@st.cache_resource
def start_warm_up() -> threading.Thread:
    def warm() -> None:
        from coach_core.analysis import pipeline

        if settings().queue_url and settings().queue_fallback != "embedded":
            return  # queue workers do the analyses; this process needs no models
        try:
            pipeline.warm_up(settings())
        except Exception:
            pass

    thread = threading.Thread(target=warm, name="warm-up", daemon=True)
    thread.start()
    return thread


def get_store() -> Store | None:
    """The database as this person sees it: only their own sessions, questions, jobs and archive."""
    from ui.auth import current_user

    try:
        return store().as_user(current_user())
    except StoreError as exc:
        st.error(str(exc))
        return None


def fmt_score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def open_session(session_id: str) -> None:
    st.session_state["session_id"] = session_id
    st.session_state.pop("interview_id", None)  # the dashboard shows this answer, not an interview report
    st.switch_page("ui/dashboard.py")
