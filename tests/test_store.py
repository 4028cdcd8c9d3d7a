"""The DuckDB store on a real file: sessions, reports, trends, migrations, threads."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from coach_core.schema import Question, Report
from coach_core.storage.store import SCHEMA_LATEST, Store, StoreError, migrate, trend_values

Q = Question(text="Why us?", key_points=["Knows the product"], kind="behavioural", role="general", id="beh-x")


def fake_report(session_id: str, question: Question, overall: float) -> dict:
    """A minimal but complete report dict in the JSON contract's shape."""
    return {
        "schema_version": 1, "session_id": session_id, "created_at": "2026-01-01T00:00:00+00:00",
        "question": question.to_dict(), "duration_s": 30.0, "language": "en", "transcript": "hello",
        "words": [{"word": "hello", "start": 0.0, "end": 0.5, "probability": 0.9}],
        "metrics": {"wpm": 130.0, "speaking_wpm": 140.0, "word_count": 1, "speaking_time_s": 0.5, "filler_count": 2,
                    "fillers": {"um": 2}, "filler_rate_per_100_words": 4.0, "filler_rate_per_min": 4.0,
                    "pauses": {"count": 1, "long_count": 1, "longest_s": 1.2, "total_s": 1.2}, "hedges": {},
                    "coverage": {"score": 0.5, "matched": [], "missed": []}, "star": None},
        "scores": {"overall": overall, "content": 50.0, "delivery": 60.0, "confidence": 55.0},
        "tips": ["a", "b", "c"],
    }  # fmt: skip


def save(store: Store, tmp_path: Path, question: Question, overall: float) -> str:
    rec = tmp_path / f"rec{overall}.wav"
    rec.write_bytes(b"RIFF")
    sid = store.create_session(question, rec, original_name="a.wav")
    store.save_report(Report.from_dict(fake_report(sid, question, overall)))
    return sid


def test_session_report_and_trends(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.duckdb")
    a = save(store, tmp_path, Q, 60.0)
    b = save(store, tmp_path, Q, 80.0)
    assert store.session(a).status == "analysed"
    assert store.report(b).scores.overall == 80.0
    assert [r.id for r in store.sessions()] == [b, a]
    assert [v for *_, v in store.trends(["overall"])] == [60.0, 80.0]
    assert store.summary("overall") == {"count": 2, "best": 80.0, "average": 70.0, "latest": 80.0}
    assert store.previous_attempt(b) == a and store.previous_attempt(a) is None
    assert store.sessions(kind="technical") == []
    store.close()


def test_the_same_filters_list_count_and_chart_the_same_sessions(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.duckdb")
    tech = Question(text="Design a cache", key_points=["TTL"], kind="technical", role="backend", id="swe-x")
    ids = {save(store, tmp_path, Q, 50.0), save(store, tmp_path, tech, 70.0), save(store, tmp_path, tech, 90.0)}
    rec = tmp_path / "pending.wav"
    rec.write_bytes(b"RIFF")
    pending = store.create_session(tech, rec, original_name="p.wav")  # recorded, not analysed
    for filters in ({}, {"kind": "technical"}, {"role": "general"}, {"question_text": "Design a cache"},
                    {"status": "analysed"}, {"kind": "technical", "status": "recorded"}, {"role": "nobody"}):  # fmt: skip
        listed = {r.id for r in store.sessions(limit=None, **filters)}
        assert store.count_sessions(**filters) == len(listed), filters
        charted = {sid for sid, _, _, _ in store.trends(["overall"], **filters)}
        assert charted == listed - {pending}, filters  # only analysed sessions have scores
    assert {r.id for r in store.sessions(limit=None)} == ids | {pending}
    assert store.count_sessions(kind="technical", status="recorded") == 1
    assert store.summary("overall", kind="technical")["count"] == 2
    with pytest.raises(TypeError):
        store.sessions(colour="blue")  # a misspelt filter is an error, not silently "any"
    store.close()


def test_failed_status_and_delete(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.duckdb")
    rec = tmp_path / "r.wav"
    rec.write_bytes(b"x")
    sid = store.create_session(Q, rec)
    store.set_status(sid, "failed", "The file is empty (0 bytes).")
    row = store.session(sid)
    assert row.status == "failed" and row.error.startswith("The file is empty")
    assert row.recording_path == str(rec)
    assert store.delete_session(sid) == str(rec)
    assert store.session(sid) is None and store.trends() == []


def test_custom_questions_persist(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    store = Store(path)
    q = store.add_custom_question(Question(text="Explain our stack", key_points=["Python", "DuckDB"]))
    store.close()
    again = Store(path)
    assert [(x.id, x.text, x.key_points) for x in again.custom_questions()] == [
        (q.id, "Explain our stack", ["Python", "DuckDB"])
    ]
    again.delete_custom_question(q.id)
    assert again.custom_questions() == []


def test_migrates_previous_schema_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    assert migrate(con, target=1) == 1  # a database made by schema version 1 (no metrics table)
    report = fake_report("old1", Q, 72.0)
    con.execute(
        "INSERT INTO sessions VALUES ('old1', now(), now(), 'beh-x', 'Why us?', 'general', 'behavioural', ?, 'analysed', NULL)",
        [json.dumps(Q.to_dict())],
    )
    con.execute("INSERT INTO analyses VALUES ('old1', now(), 72, 50, 60, ?)", [json.dumps(report)])
    con.close()
    store = Store(path)
    assert store.schema_version == SCHEMA_LATEST
    assert store.report_dict("old1") == report  # nothing lost
    assert {name: v for _, _, name, v in store.trends()} == trend_values(report)  # back-filled
    assert store.session("old1").status == "analysed"


def test_threads_share_one_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.duckdb")
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(5):
                save(store, tmp_path, Q, float(i * 10 + j))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.sessions(limit=None)) == 30
    expected = sorted(float(i * 10 + j) for i in range(6) for j in range(5))
    assert sorted(v for *_, v in store.trends(["overall"])) == expected


def test_second_process_gets_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    store = Store(path)
    code = f"from coach_core.storage.store import Store; Store({str(path)!r})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0 and "in use by another process" in out.stderr
    store.close()
    Store(path).close()  # free again once the first process lets go


def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "dir.duckdb").mkdir()
    with pytest.raises(StoreError, match="could not be opened"):
        Store(tmp_path / "dir.duckdb")


def test_history_pages_counts_and_question_filter(tmp_path: Path) -> None:
    other = Question(text="Explain a hash map.", key_points=["buckets"], kind="technical", role="backend", id="tec-y")
    store = Store(tmp_path / "coach.duckdb")
    ids = [save(store, tmp_path, Q if i % 3 else other, float(i)) for i in range(12)]
    newest_first = list(reversed(ids))
    pages = [store.sessions(limit=5, offset=o) for o in (0, 5, 10)]
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [r.id for p in pages for r in p] == newest_first  # pages do not overlap or skip
    assert store.count_sessions() == 12
    assert store.count_sessions(question_text=other.text) == 4
    assert store.practised_questions() == [(Q.text, 8), (other.text, 4)]
    values = [v for _, _, _, v in store.trends(["overall"], question_text=other.text)]
    assert values == [0.0, 3.0, 6.0, 9.0]
