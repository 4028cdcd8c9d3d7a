"""10,000 stored sessions: filling a DuckDB like two years of daily practice, and timing the History page.

The first sessions go through the real Store API (that write rate is reported too); the rest are bulk
inserted with the same columns and the same report JSON, because one-by-one writes of 10,000 reports
would dominate the run without telling anything new. The queries timed are the History page's own:
``Store.sessions`` (with and without filters), ``Store.summary`` and ``Store.trends``; the page itself
runs through Streamlit's AppTest (as in tests/test_app_pages.py) against that database.
"""

from __future__ import annotations

import copy
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from coach_core import questions as bank
from coach_core.schema import Report
from coach_core.storage.store import Store, now, trend_values

ROOT = Path(__file__).resolve().parents[1]
SCORE_NAMES = ("overall", "content", "confidence", "clarity", "resilience", "engagement")  # as ui/common.py
SCORED = ("overall", "content", "delivery", "confidence", "clarity", "resilience", "engagement")
CHUNK = 500


def _vary(data: dict[str, Any], sid: str, created: datetime, question: Any, rng: random.Random, level: float) -> None:
    """Make one stored report out of the template: its own id, time, question and scores."""
    data["session_id"] = sid
    data["created_at"] = created.isoformat(timespec="seconds")
    data["question"] = question.to_dict()
    scores = data["scores"]
    for name in SCORED:
        scores[name] = round(min(100.0, max(0.0, level + rng.gauss(0, 9))), 1)
    data["metrics"]["wpm"] = round(rng.gauss(140, 18), 1)
    data["metrics"]["filler_count"] = rng.randint(0, 14)
    data["metrics"]["filler_rate_per_100_words"] = round(rng.uniform(0, 6), 2)
    data["duration_s"] = round(rng.uniform(30, 240), 1)


def fill(db_path: Path, template: Report, n: int = 10_000, api_n: int = 200, seed: int = 7) -> dict[str, Any]:
    """Create ``n`` sessions (about 3% failed or never analysed); returns write rates and sizes."""
    rng = random.Random(seed)
    questions = list(bank.bank())
    recording = db_path.parent / "recording.webm"
    recording.write_bytes(b"\x1a\x45\xdf\xa3 placeholder")
    start = now() - timedelta(days=730)

    # Real API path for the first api_n sessions (their times are "now"; they are the latest ones).
    store = Store(db_path)
    report = copy.deepcopy(template)
    t = time.perf_counter()
    for _ in range(api_n):
        q = rng.choice(questions)
        sid = store.create_session(
            q, recording, original_name="answer.webm", duration_s=report.duration_s, media_format="webm", has_video=True
        )
        report.session_id = sid
        report.question = q
        report.scores.overall = round(rng.uniform(40, 90), 1)
        store.save_report(report)
    api_s = (time.perf_counter() - t) / api_n
    store.close()

    # Bulk for the rest: same columns, same JSON, spread over two years.
    import pandas as pd

    base = template.to_dict()
    con = duckdb.connect(str(db_path))
    t = time.perf_counter()
    report_bytes = 0
    for lo in range(api_n, n, CHUNK):
        sessions, recordings, analyses, metrics = [], [], [], []
        for i in range(lo, min(n, lo + CHUNK)):
            q = rng.choice(questions)
            sid = f"bench{i:07d}"
            created = start + timedelta(days=730 * i / n, minutes=rng.uniform(0, 600))
            status = rng.choices(("analysed", "failed", "recorded"), weights=(97, 2, 1))[0]
            error = "No speech was found in the recording." if status == "failed" else None
            sessions.append(
                (sid, created, created, q.id, q.text, q.role, q.kind, json.dumps(q.to_dict()), status, error)
            )
            recordings.append((sid, str(recording), "answer.webm", base["duration_s"], "webm", True, 40_000_000))
            if status != "analysed":
                continue
            _vary(base, sid, created, q, rng, level=45 + 30 * i / n)
            text = json.dumps(base)
            report_bytes += len(text)
            s = base["scores"]
            analyses.append((sid, created, s["overall"], s["content"], s["delivery"], text))
            metrics += [(sid, k, v) for k, v in trend_values(base).items()]
        for table, cols, rows in (
            (
                "sessions",
                "id, created_at, updated_at, question_id, question_text, role, kind, question, status, error",
                sessions,
            ),
            ("recordings", "session_id, path, original_name, duration_s, format, has_video, size_bytes", recordings),
            ("analyses", "session_id, created_at, overall, content, delivery, report", analyses),
            ("metrics", "session_id, name, value", metrics),
        ):
            frame = pd.DataFrame(rows, columns=[c.strip() for c in cols.split(",")])
            con.register("chunk", frame)
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM chunk")
            con.unregister("chunk")
    bulk_s = time.perf_counter() - t
    count = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
    con.close()
    return {
        "sessions": count,
        "api_write_s_per_session": api_s,
        "bulk_fill_s": bulk_s,
        "report_json_kb": report_bytes / max(1, n - api_n) / 1024,
        "db_mb": db_path.stat().st_size / 1e6,
    }


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def time_queries(db_path: Path, repeat: int = 5) -> dict[str, Any]:
    """The History page's queries, default filters and three filtered views (best of ``repeat``)."""
    store = Store(db_path)
    out: dict[str, Any] = {}
    try:
        views = {
            "all time": {"role": None, "kind": None, "since": None},
            "role": {"role": "software_engineer", "kind": None, "since": None},
            "role+kind": {"role": "software_engineer", "kind": "behavioural", "since": None},
            "last 30 days": {"role": None, "kind": None, "since": datetime.now() - timedelta(days=30)},
        }
        for view, filters in views.items():
            s_t, rows = _best(lambda f=filters: store.sessions(limit=500, **f), repeat)
            m_t, _ = _best(lambda f=filters: store.summary("overall", **f), repeat)
            t_t, trend = _best(lambda f=filters: store.trends(list(SCORE_NAMES), **f), repeat)
            out[view] = {
                "sessions_s": s_t,
                "summary_s": m_t,
                "trends_s": t_t,
                "total_s": s_t + m_t + t_t,
                "rows": len(rows),
                "trend_rows": len(trend),
            }
    finally:
        store.close()
    return out


def time_page(data_dir: Path, repeat: int = 3) -> dict[str, Any]:
    """ui/history.py through AppTest (real navigation, real Store) on the 10,000-session database."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    saved = {k: os.environ.get(k) for k in ("COACH_DATA_DIR", "COACH_DB_PATH")}
    os.environ["COACH_DATA_DIR"] = str(data_dir)
    os.environ.pop("COACH_DB_PATH", None)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        st.cache_resource.clear()

        def new_visit() -> AppTest:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
            at.switch_page("ui/history.py")
            return at

        warm = new_visit()
        t = time.perf_counter()
        warm.run()  # first run in this process: imports the pages, opens the store
        first_s = time.perf_counter() - t
        if warm.exception:
            raise RuntimeError(f"history page raised: {[e.value for e in warm.exception]}")
        visits, reruns = [], []
        for _ in range(repeat):
            at = new_visit()  # a new browser session on the running app
            t = time.perf_counter()
            at.run()
            visits.append(time.perf_counter() - t)
            t = time.perf_counter()
            at.run()  # the same session again (e.g. after a widget change)
            reruns.append(time.perf_counter() - t)
        shown = sum(1 for b in at.button if b.label == "Open")
        metrics = {m.label: m.value for m in at.metric}
    finally:
        st.cache_resource.clear()
        os.chdir(cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return {
        "first_run_s": first_s,
        "visit_s": min(visits),
        "visit_samples": visits,
        "rerun_s": min(reruns),
        "rerun_samples": reruns,
        "median_visit_s": statistics.median(visits),
        "session_rows_shown": shown,
        "page_metrics": metrics,
    }
