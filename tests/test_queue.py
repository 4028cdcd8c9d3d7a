"""Scale-out: the RQ queue with a real redis-server and real worker processes (python -m coach_core worker).

Each Redis runs on a free localhost port with persistence off, in a temp dir; workers are real
subprocesses that load the real models; the S3 route uses a real moto server. Workers get their
own data directory, so a DuckDB file appearing there would show that a worker wrote the database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import CACHE_QUESTION
from media_factory import concat_audio
from redis import Redis
from rq import Worker
from rq.job import Job

from coach_core.config import Settings
from coach_core.jobs.base import JobError
from coach_core.jobs.embedded import JobManager
from coach_core.jobs.factory import make_job_manager
from coach_core.jobs.rq_app import QueueJobManager
from coach_core.jobs.rq_worker import SERIALIZER
from coach_core.schema import Question
from coach_core.sessions.lifecycle import save_recording
from coach_core.storage.store import Store

ROOT = Path(__file__).resolve().parents[1]
HEARTBEAT_S = 3  # a killed worker's job is taken for abandoned after 3 missed beats (9 s)
READY_TIMEOUT_S = 600  # workers load the models; generous for a loaded 2-core machine
JOB_TIMEOUT_S = 600
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: object, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()  # type: ignore[operator]
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


class RedisServer:
    """redis-server on 127.0.0.1:port, no persistence, its files in a temp dir."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = Redis.from_url(self.url, socket_connect_timeout=1)

        def up() -> bool:
            try:
                return bool(client.ping())
            except Exception:
                assert self.process is not None and self.process.poll() is None, "redis-server exited"
                return False

        wait_for(up, 60, f"redis-server on port {self.port}")
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


class Workers:
    """Real worker processes (python -m coach_core worker), each with its own data dir and log."""

    def __init__(self, url: str, folder: Path, **env: str) -> None:
        self.url, self.folder, self.env = url, folder, env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.connection = Redis.from_url(url)

    def start(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
        (self.folder / "tmp").mkdir(parents=True, exist_ok=True)  # the worker's temporary files, checked by the tests
        env.update(COACH_DATA_DIR=str(self.folder / "data"), TMPDIR=str(self.folder / "tmp"), HF_HUB_OFFLINE="1",
                   **self.env)  # fmt: skip
        log = (self.folder / f"{name}.log").open("ab")
        cmd = [sys.executable, "-m", "coach_core", "worker", "--url", self.url, "--name", name,
               "--heartbeat", str(HEARTBEAT_S), *extra]  # fmt: skip
        self.processes[name] = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self.processes[name]

    def wait_ready(self, *names: str) -> None:
        """A worker registers with Redis once its models are loaded."""

        def ready() -> bool:
            for name in names:
                assert self.processes[name].poll() is None, f"worker {name} exited:\n{self.log(name)}"
            return set(names) <= {w.name for w in Worker.all(connection=self.connection)}

        wait_for(ready, READY_TIMEOUT_S, f"workers {names} to load their models")

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]

    def alive(self) -> list[str]:
        return [n for n, p in self.processes.items() if p.poll() is None]

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()  # warm shutdown: an idle worker exits at once
        for process in self.processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.connection.close()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def workers(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    pool = Workers(redis_server.url, tmp_path_factory.mktemp("workers"))
    pool.start("w1")
    pool.start("w2")
    pool.wait_ready("w1", "w2")
    yield pool
    pool.stop_all()


@pytest.fixture(scope="module")
def long_wav(star_wav: Path, cache_full_wav: Path, media_dir: Path) -> Path:
    """~40 s of speech: long enough to kill a worker in the middle of its analysis."""
    return concat_audio([star_wav, cache_full_wav], media_dir / "long_answer.wav", silence_s=1.0)


def queue_settings(tmp_path: Path, url: str, **more: object) -> Settings:
    return Settings(data_dir=tmp_path / "app", queue_url=url, job_timeout_s=JOB_TIMEOUT_S,
                    chromium_path=str(tmp_path / "no-chromium"), **more)  # fmt: skip


def rq_meta(url: str, job_id: str) -> dict:
    with Redis.from_url(url) as connection:
        return Job.fetch(job_id, connection=connection, serializer=SERIALIZER).meta


def running_worker(manager: QueueJobManager, url: str, job_id: str) -> str:
    """Wait until a worker has started the job; the worker's name."""
    wait_for(lambda: manager.status(job_id)["status"] == "running", JOB_TIMEOUT_S, "the job to start")
    return str(wait_for(lambda: rq_meta(url, job_id).get("worker"), 60, "the worker to publish its name"))


def test_several_sessions_get_separate_results_from_queue_workers(tmp_path: Path, redis_server: RedisServer,
                                                                  workers: Workers, cache_full_wav: Path,
                                                                  star_wav: Path, cache_one_wav: Path,
                                                                  star_no_result_wav: Path) -> None:  # fmt: skip
    settings = queue_settings(tmp_path, redis_server.url)
    store = Store(settings.database)
    manager = make_job_manager(store, settings)
    assert isinstance(manager, QueueJobManager) and manager.notice is None
    q = Question(**CACHE_QUESTION)
    files = [cache_full_wav, star_wav, cache_one_wav, star_no_result_wav]
    sessions = [save_recording(store, settings, f, q, original_name=f.name) for f in files]
    with ThreadPoolExecutor(4) as pool:  # four browser sessions submitting at the same moment
        job_ids = list(pool.map(manager.submit, sessions))
    assert len(set(job_ids)) == 4
    assert manager.submit(sessions[0]) == job_ids[0]  # never two analyses of one session at once

    seen: set[tuple[str, str | None]] = set()

    def all_done() -> bool:
        rows = [manager.status(j) for j in job_ids]
        seen.update((r["status"], r["step"]) for r in rows)
        return all(r["status"] not in ("queued", "running") for r in rows)

    wait_for(all_done, JOB_TIMEOUT_S, "four analyses")
    assert any(status == "running" and step in ("transcribing", "content", "voice") for status, step in seen), seen
    metas = [rq_meta(redis_server.url, j) for j in job_ids]
    for job_id, session_id, path, meta in zip(job_ids, sessions, files, metas, strict=True):
        job = manager.status(job_id)
        assert (job["status"], job["backend"], job["progress"], job["attempts"]) == ("finished", "rq", 1.0, 1), job
        report = store.report(session_id)
        assert report is not None and report.session_id == session_id
        assert store.session(session_id).status == "analysed"
        assert Path(store.session(session_id).recording_path).read_bytes() == path.read_bytes()
        assert meta["model_loads"] == {"whisper": 1, "embedder": 1}  # loaded once per worker, then reused
    # Every report is its own: the star story's transcript is not the cache answer's.
    assert "payment" in store.report(sessions[1]).transcript.lower()
    assert "database" in store.report(sessions[0]).transcript.lower()
    assert "payment" not in store.report(sessions[0]).transcript.lower()
    assert store.report(sessions[0]).metrics.filler_count > store.report(sessions[2]).metrics.filler_count
    assert len(store.trends(["overall"])) == 4
    assert {m["worker"] for m in metas} == {"w1", "w2"}  # the work was shared by both workers
    # Workers ran each job in their own (long-lived) process and never created a database.
    assert {m["pid"] for m in metas} == {workers.processes["w1"].pid, workers.processes["w2"].pid}
    assert not list(workers.folder.rglob("*.duckdb"))
    manager.shutdown()
    store.close()


def test_killed_worker_is_reported_and_the_retry_finishes(tmp_path: Path, redis_server: RedisServer,
                                                          workers: Workers, long_wav: Path) -> None:  # fmt: skip
    settings = queue_settings(tmp_path, redis_server.url, job_retries=0)  # no automatic re-run: the user retries
    store = Store(settings.database)
    manager = make_job_manager(store, settings)
    sid = save_recording(store, settings, long_wav, Question(**CACHE_QUESTION), original_name="long.wav")
    job_id = manager.submit(sid)
    victim = running_worker(manager, redis_server.url, job_id)
    workers.kill(victim)  # SIGKILL in the middle of the analysis
    workers.start("w3")  # a replacement, as a supervisor would start one (its models load meanwhile)
    failed = manager.wait(job_id, timeout=120)
    assert failed["status"] == "failed" and "worker died during analysis" in failed["error"], failed
    assert store.session(sid).status == "failed" and "retry" in store.session(sid).error
    assert Path(store.session(sid).recording_path).read_bytes() == long_wav.read_bytes()  # nothing lost
    assert store.report(sid) is None
    retried = manager.wait(manager.retry(job_id), timeout=JOB_TIMEOUT_S)
    assert retried["status"] == "finished", retried
    assert rq_meta(redis_server.url, retried["id"])["worker"] != victim
    assert store.session(sid).status == "analysed" and "payment" in store.report(sid).transcript.lower()
    manager.shutdown()
    store.close()


def test_worker_death_is_retried_automatically_on_another_worker(tmp_path: Path, redis_server: RedisServer,
                                                                 workers: Workers, long_wav: Path) -> None:  # fmt: skip
    if len(workers.alive()) < 2:  # run alone, without the test that starts a replacement
        workers.start("w3")
    workers.wait_ready(*workers.alive())
    assert len(workers.alive()) >= 2
    settings = queue_settings(tmp_path, redis_server.url, job_retries=1)
    store = Store(settings.database)
    manager = make_job_manager(store, settings)
    sid = save_recording(store, settings, long_wav, Question(**CACHE_QUESTION), original_name="long.wav")
    job_id = manager.submit(sid)
    victim = running_worker(manager, redis_server.url, job_id)
    workers.kill(victim)
    done = manager.wait(job_id, timeout=JOB_TIMEOUT_S)
    assert done["status"] == "finished" and done["attempts"] == 2, done  # the same job, run a second time
    meta = rq_meta(redis_server.url, job_id)
    assert meta["worker"] != victim and meta["attempt"] == 2
    assert store.session(sid).status == "analysed" and store.report(sid).session_id == sid
    manager.shutdown()
    store.close()


def test_queue_down_at_start_gives_a_clear_error_and_the_embedded_fallback_works(tmp_path: Path,
                                                                               cache_one_wav: Path) -> None:  # fmt: skip
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = queue_settings(tmp_path, url)
    store = Store(settings.database)
    with pytest.raises(JobError) as refused:
        make_job_manager(store, settings)
    message = str(refused.value)
    assert url in message and "cannot be reached" in message and "COACH_QUEUE_FALLBACK=embedded" in message
    assert "\n" not in message
    # The worker command says the same in one line, with its own exit code and no traceback.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    cli = subprocess.run([sys.executable, "-m", "coach_core", "worker", "--url", url], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert cli.returncode == 6 and "cannot be reached" in cli.stderr and "Traceback" not in cli.stderr
    # With the fallback on, analyses run inside the app and the notice says why.
    manager = make_job_manager(store, settings.with_overrides(queue_fallback="embedded"))
    assert isinstance(manager, JobManager) and url in (manager.notice or "")
    sid = save_recording(store, settings, cache_one_wav, Question(**CACHE_QUESTION), original_name="a.wav")
    job = manager.wait(manager.submit(sid), timeout=JOB_TIMEOUT_S)
    assert job["status"] == "finished" and job["backend"] == "embedded"
    assert "database" in store.report(sid).transcript.lower()
    manager.shutdown()
    store.close()


def test_queue_going_down_keeps_the_recording_and_says_why(tmp_path: Path, cache_one_wav: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    try:
        settings = queue_settings(tmp_path, server.url)
        store = Store(settings.database)
        manager = make_job_manager(store, settings)
        sid = save_recording(store, settings, cache_one_wav, Question(**CACHE_QUESTION), original_name="a.wav")
        server.stop()
        job = manager.status(manager.submit(sid))  # no exception for the page to show as a traceback
        assert job["status"] == "failed" and server.url in job["error"] and "recording is saved" in job["error"]
        assert store.session(sid).status == "failed"
        assert Path(store.session(sid).recording_path).read_bytes() == cache_one_wav.read_bytes()
        server.start()  # back (empty: no persistence): the retry is queued again
        retried = manager.status(manager.retry(job["id"]))
        assert retried["status"] == "queued"
        with Redis.from_url(server.url) as connection:
            assert Job.fetch(retried["id"], connection=connection, serializer=SERIALIZER).args[0]["session_id"] == sid
        manager.shutdown()
        manager = make_job_manager(store, settings)  # the app restarts: queued jobs are followed again
        assert isinstance(manager, QueueJobManager)
        manager.collect()  # one collector pass, now: the job stays queued, not 'interrupted' or 'lost'
        assert manager.status(retried["id"])["status"] == "queued"
        manager.shutdown()
        store.close()
    finally:
        server.stop()


def test_worker_without_the_shared_disk_fetches_the_recording_from_s3(tmp_path: Path, cache_one_wav: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import boto3

    aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip
    for name, value in aws.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    moto = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    server = RedisServer(tmp_path / "redis")
    pool = Workers(server.url, tmp_path / "far-worker", COACH_S3_BUCKET="coach-queue", COACH_S3_ENDPOINT_URL=endpoint,
                   COACH_S3_REGION="us-east-1", COACH_S3_PREFIX="q/", **aws)  # fmt: skip
    try:

        def moto_up() -> bool:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=5).close()
                return True
            except OSError:
                return False

        wait_for(moto_up, 90, "moto_server")
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="coach-queue")
        settings = queue_settings(tmp_path, server.url, s3_bucket="coach-queue", s3_endpoint_url=endpoint,
                                  s3_region="us-east-1", s3_prefix="q/")  # fmt: skip
        store = Store(settings.database)
        manager = make_job_manager(store, settings)
        sid = save_recording(store, settings, cache_one_wav, Question(**CACHE_QUESTION), original_name="a.wav")
        job_id = manager.submit(sid)
        with Redis.from_url(server.url) as connection:
            payload = Job.fetch(job_id, connection=connection, serializer=SERIALIZER).args[0]
        assert payload["recording_key"] == f"q/sessions/{sid}/recording"
        # The worker is "on another machine": the app's recordings are not on its disk.
        hidden = settings.data_dir / f"hidden-{uuid.uuid4().hex[:6]}"
        settings.recordings_dir.rename(hidden)
        pool.start("far", "--burst")  # analyses what is queued, then exits
        assert pool.processes["far"].wait(timeout=READY_TIMEOUT_S + JOB_TIMEOUT_S) == 0, pool.log("far")
        hidden.rename(settings.recordings_dir)
        job = manager.wait(job_id, timeout=60)
        assert job["status"] == "finished", f"{job['error']}\n{pool.log('far')}"
        assert "database" in store.report(sid).transcript.lower()
        assert not list(pool.folder.rglob("*.duckdb"))
        assert not [p for p in (pool.folder / "tmp").rglob("*") if p.suffix == ".wav"]  # its copy was removed
        manager.shutdown()
        store.close()
    finally:
        pool.stop_all()
        server.stop()
        moto.terminate()
        moto.wait(timeout=30)


def test_pages_show_the_queue_error_or_the_fallback_notice(tmp_path: Path, cache_one_wav: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    data = tmp_path / "data"
    store = Store(Settings(data_dir=data).database)
    sid = save_recording(
        store, Settings(data_dir=data), cache_one_wav, Question(**CACHE_QUESTION), original_name="a.wav"
    )
    store.create_job("j1", sid, backend="embedded")
    store.update_job("j1", status="failed", error="An earlier failure.")
    store.close()
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COACH_DATA_DIR", str(data))
    monkeypatch.setenv("COACH_QUEUE_URL", url)

    def arena_following_job() -> AppTest:
        st.cache_resource.clear()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state["job_id"] = "j1"
        at.switch_page("ui/arena.py")
        return at.run()

    at = arena_following_job()
    assert not at.exception, [e.value for e in at.exception]
    assert any(url in e.value and "COACH_QUEUE_FALLBACK" in e.value for e in at.error), [e.value for e in at.error]
    monkeypatch.setenv("COACH_QUEUE_FALLBACK", "embedded")
    at = arena_following_job()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Analysing inside the app" in w.value for w in at.warning)
    assert any("An earlier failure." in e.value for e in at.error)  # the job is followed as usual
    st.cache_resource.clear()
