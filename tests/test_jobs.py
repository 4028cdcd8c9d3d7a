"""The embedded job runner: background analyses, concurrent sessions, interrupted jobs, retry."""

from __future__ import annotations

from pathlib import Path

from conftest import CACHE_QUESTION

from coach_core.config import Settings
from coach_core.jobs.embedded import JobManager
from coach_core.schema import Question
from coach_core.sessions.lifecycle import save_recording
from coach_core.storage.store import Store


def test_concurrent_jobs_get_separate_correct_results(settings: Settings, cache_full_wav: Path, star_wav: Path,
                                                      cache_one_wav: Path, star_no_result_wav: Path) -> None:  # fmt: skip
    store = Store(settings.database)
    manager = JobManager(store, settings, workers=2)
    q = Question(**CACHE_QUESTION)
    files = [cache_full_wav, star_wav, cache_one_wav, star_no_result_wav]
    sessions = [save_recording(store, settings, f, q, original_name=f.name) for f in files]
    job_ids = [manager.submit(s) for s in sessions]
    assert manager.submit(sessions[0]) == job_ids[0]  # never two analyses of one session at once
    for job_id in job_ids:
        assert manager.wait(job_id, timeout=600)["status"] == "finished"
    for session_id, path in zip(sessions, files, strict=True):
        report = store.report(session_id)
        assert report is not None and report.session_id == session_id
        assert store.session(session_id).status == "analysed"
        assert Path(store.session(session_id).recording_path).read_bytes() == path.read_bytes()
    # Every report is its own: the star story's transcript is not the cache answer's.
    assert "payment" in store.report(sessions[1]).transcript.lower()
    assert "database" in store.report(sessions[0]).transcript.lower()
    assert len(store.trends(["overall"])) == 4
    manager.shutdown()
    store.close()


def test_failed_job_keeps_recording_and_retries(settings: Settings, tmp_path: Path, cache_one_wav: Path) -> None:
    store = Store(settings.database)
    manager = JobManager(store, settings)
    sid = save_recording(store, settings, cache_one_wav, Question(**CACHE_QUESTION), original_name="a.wav")
    recording = Path(store.session(sid).recording_path)
    saved = recording.read_bytes()
    recording.write_bytes(b"")  # the file got damaged before analysis
    job = manager.wait(manager.submit(sid), timeout=300)
    assert job["status"] == "failed" and "empty" in job["error"]
    assert store.session(sid).status == "failed"
    recording.write_bytes(saved)  # restored: a retry now succeeds
    retried = manager.wait(manager.retry(job["id"]), timeout=300)
    assert retried["status"] == "finished" and store.report(sid) is not None
    manager.shutdown()
    store.close()


def test_running_jobs_are_marked_interrupted_on_restart(settings: Settings, cache_one_wav: Path) -> None:
    store = Store(settings.database)
    sid = save_recording(store, settings, cache_one_wav, Question(**CACHE_QUESTION), original_name="a.wav")
    store.create_job("lost1", sid, backend="embedded")
    store.update_job("lost1", status="running", step="transcribing", progress=0.3)
    manager = JobManager(store, settings)  # a new process starting up
    assert manager.status("lost1")["status"] == "interrupted"
    assert store.session(sid).status == "failed" and "interrupted" in store.session(sid).error
    assert Path(store.session(sid).recording_path).exists()
    assert manager.wait(manager.retry("lost1"), timeout=300)["status"] == "finished"
    manager.shutdown()
    store.close()
