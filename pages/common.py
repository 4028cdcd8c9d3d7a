"""The one UI helper module: cached resources (settings, store, jobs), warm-up, small widgets."""

from __future__ import annotations

import os
import threading

import streamlit as st

from coach_core.config import Settings, load_settings
from coach_core.jobs import JobManager
from coach_core.store import Store, StoreError

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


@st.cache_resource
def store() -> Store:
    return Store(settings().database)


@st.cache_resource
def jobs() -> JobManager:
    return JobManager(store(), settings())


@st.cache_resource
def start_warm_up() -> threading.Thread:
    def warm() -> None:
        from coach_core import engines

        try:
            engines.warm_up(settings())
        except Exception:
            pass

    thread = threading.Thread(target=warm, name="warm-up", daemon=True)
    thread.start()
    return thread


def get_store() -> Store | None:
    try:
        return store()
    except StoreError as exc:
        st.error(str(exc))
        return None


def fmt_score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def open_session(session_id: str) -> None:
    st.session_state["session_id"] = session_id
    st.switch_page("pages/dashboard.py")
