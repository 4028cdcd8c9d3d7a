"""Accounts (issue 15): every person sees, exports and deletes only their own data.

alice and bob share one real DuckDB file; S3 is moto's server on localhost (started as in
test_archive.py); the queue is a real redis-server with a real worker process (as in test_queue.py);
the command line runs as ``python -m coach_core`` in a subprocess.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import pty
import subprocess
import sys
import time
import tracemalloc
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CACHE_QUESTION
from test_archive import MotoServer, aws_env, free_port, make_bucket, s3_client, s3_settings  # noqa: F401 (aws_env)
from test_store import Q, fake_report

from coach_core.config import Settings
from coach_core.schema import Question, Report
from coach_core.sessions.archive import ArchiveError, archive_session, restore_session, session_link
from coach_core.sessions.lifecycle import SessionError, delete_session, save_recording
from coach_core.sessions.my_data import DataInventory, delete_all, export_all, inventory, session_files
from coach_core.storage.s3 import owner_prefix
from coach_core.storage.store import ANY_OWNER, LOCAL_USER, SCHEMA_LATEST, Store, StoreError

ROOT = Path(__file__).resolve().parents[1]
ALICE, BOB = "alice@example.com", "bob@example.com"
OTHER_Q = Question(text="Tell me about a conflict.", key_points=["Listens"], kind="behavioural", id="beh-y")
TABLES_BY_SESSION = {"sessions": "id", "recordings": "session_id", "analyses": "session_id", "metrics": "session_id",
                     "jobs": "session_id", "archive_objects": "session_id"}  # fmt: skip


def person_session(
    store: Store,
    settings: Settings,
    *,
    overall: float | None = 70.0,
    pdf: bool = True,
    recording: bytes | None = None,
    question: Question = Q,
    name: str = "answer.webm",
) -> str:
    """A session saved as the app saves it (recording copied into its own folder), analysed unless
    ``overall`` is None, with a PDF file when ``pdf``."""
    sid = save_recording(store, settings, recording or os.urandom(30_000), question, original_name=name)
    if overall is not None:
        store.save_report(Report.from_dict(fake_report(sid, question, overall)))
    if pdf:
        path = settings.reports_dir / f"{sid}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4\n% stand-in for " + sid.encode() + b"\n%%EOF\n")
    return sid


def rows_of(store: Store, session_id: str) -> dict[str, int]:
    """How many rows each table holds for a session, whoever owns it (raw SQL, no owner filter)."""
    with store.transaction() as con:
        return {t: con.execute(f"SELECT count(*) FROM {t} WHERE {c} = ?", [session_id]).fetchone()[0]
                for t, c in TABLES_BY_SESSION.items()}  # fmt: skip


def bucket_keys(endpoint: str, bucket: str) -> set[str]:
    listed = s3_client(endpoint).list_objects_v2(Bucket=bucket)  # type: ignore[attr-defined]
    return {o["Key"] for o in listed.get("Contents", [])}


@pytest.fixture(scope="module")
def s3_server() -> Iterator[MotoServer]:
    server = MotoServer(free_port())
    yield server
    server.stop()


# The store ---------------------------------------------------------------------------------------------


def test_store_isolation_on_every_read_and_write_path(tmp_path: Path) -> None:
    base = Store(tmp_path / "coach.duckdb")
    settings = Settings(data_dir=tmp_path)
    alice, bob = base.as_user(ALICE), base.as_user(BOB)
    a1 = person_session(alice, settings, overall=60.0)
    a2 = person_session(alice, settings, overall=80.0)
    b1 = person_session(bob, settings, overall=40.0)  # the same question, answered after alice's
    alice_q = alice.add_custom_question(Question(text="Alice's own question?", key_points=["a"]))
    bob_q = bob.add_custom_question(Question(text="Bob's own question?", key_points=["b"]))
    alice.create_job("job-a", a1, backend="embedded")
    alice.record_archive_object(a1, "report", f"users/x/sessions/{a1}/report.json", "archived", size_bytes=10)
    alice.record_archive_object(a2, "recording", f"users/x/sessions/{a2}/recording", "failed", error="down")
    before = {sid: rows_of(base, sid) for sid in (a1, a2, b1)}

    # Reads: bob sees his own session and nothing of alice's.
    assert [r.id for r in bob.sessions()] == [b1] and bob.count_sessions() == 1
    assert [r.id for r in alice.sessions()] == [a2, a1] and alice.count_sessions() == 2
    for sid in (a1, a2):
        assert bob.session(sid) is None and bob.report(sid) is None and bob.report_dict(sid) is None
        assert bob.question_of(sid) is None and not bob.owns(sid) and bob.owner_of(sid) is None
        assert bob.archive_objects(sid) == [] and bob.jobs(session_id=sid) == []
    assert alice.owns(a1) and alice.owner_of(a1) == ALICE and alice.report(a1).scores.overall == 60.0
    assert {sid for sid, *_ in bob.trends()} == {b1} and {sid for sid, *_ in alice.trends()} == {a1, a2}
    assert bob.summary("overall") == {"count": 1, "best": 40.0, "average": 40.0, "latest": 40.0}
    assert alice.summary("overall")["count"] == 2
    assert bob.practised_questions() == [(Q.text, 1)] and alice.practised_questions() == [(Q.text, 2)]
    assert bob.previous_attempt(b1) is None  # alice's earlier answers to the same question are not bob's
    assert alice.previous_attempt(a2) == a1 and bob.previous_attempt(a2) is None
    assert bob.jobs() == [] and bob.job("job-a") is None and alice.job("job-a")["owner"] == ALICE
    assert bob.archive_objects() == [] and bob.pending_archive_sessions() == []
    assert alice.pending_archive_sessions() == [a2] and len(alice.archive_objects()) == 2
    assert [q.id for q in bob.custom_questions()] == [bob_q.id]
    assert [q.id for q in alice.custom_questions()] == [alice_q.id]

    # Writes by bob to alice's rows: refused or without effect.
    with pytest.raises(StoreError, match=f"Session {a1} not found"):
        bob.save_report(Report.from_dict(fake_report(a1, Q, 1.0)))
    bob.set_status(a1, "failed", "bob was here")
    bob.update_recording(a1, path="/tmp/elsewhere", duration_s=1.0)
    assert bob.delete_session(a1) is None
    bob.create_job("job-b", a1, backend="embedded")  # a job for alice's session, submitted by bob: not made
    bob.update_job("job-a", status="failed", error="bob")
    with pytest.raises(StoreError, match="not found"):
        bob.record_archive_object(a1, "pdf", "k", "archived")
    bob.delete_custom_question(alice_q.id)
    row = alice.session(a1)
    assert (row.status, row.error, row.overall) == ("analysed", None, 60.0)
    assert Path(row.recording_path).is_file() and row.duration_s != 1.0
    assert alice.job("job-a")["status"] == "queued" and base.as_user(ANY_OWNER).job("job-b") is None
    assert [q.id for q in alice.custom_questions()] == [alice_q.id]
    assert {sid: rows_of(base, sid) for sid in (a1, a2, b1)} == before  # not one row changed hands or went

    # The local user (a laptop) is a person too; the runners' view sees all but creates nothing.
    assert base.owner == LOCAL_USER and base.sessions() == [] and base.custom_questions() == []
    runner = base.as_user(ANY_OWNER)
    assert runner.count_sessions() == 3 and runner.owner_of(b1) == BOB and runner.owner_of(a1) == ALICE
    with pytest.raises(StoreError):
        runner.create_session(Q, tmp_path / "x.webm")
    with pytest.raises(StoreError):
        runner.add_custom_question(Question(text="?"))
    with pytest.raises(ValueError, match="blank"):
        base.as_user("  ")

    # The lifecycle's delete of another person's session touches nothing, not even files on disk.
    assert not delete_session(bob, settings, a1).found
    assert Path(alice.session(a1).recording_path).is_file() and (settings.reports_dir / f"{a1}.pdf").is_file()
    assert rows_of(base, a1) == before[a1]
    base.close()


def _load_v4_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    """The store module as of commit 306c6e6 (schema v4, before owners), from git."""
    source = subprocess.run(["git", "show", "306c6e6:coach_core/store.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout  # fmt: skip
    path = tmp_path / "store_v4.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("coach_core.store_v4", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)  # its "from .schema import ..." resolves inside coach_core
    return module


def test_migration_from_schema_v4_gives_every_row_to_the_local_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _load_v4_store(tmp_path, monkeypatch)
    path = tmp_path / "old.duckdb"
    v4 = old.Store(path)  # type: ignore[attr-defined]
    assert v4.schema_version == 4
    rec = tmp_path / "old.webm"
    rec.write_bytes(b"webm")
    s1 = v4.create_session(Q, rec, original_name="old.webm")
    s2 = v4.create_session(OTHER_Q, rec, original_name="old2.webm")
    report = Report.from_dict(fake_report(s1, Q, 66.0)).to_dict()  # as the v4 store saved it
    v4.save_report(Report.from_dict(report))
    question = v4.add_custom_question(Question(text="My old question?", key_points=["kp"]))
    v4.create_job("old-job", s2, "embedded")
    v4.record_archive_object(s1, "report", f"sessions/{s1}/report.json", "archived", size_bytes=5)
    counts = {t: v4._con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in (*TABLES_BY_SESSION, "custom_questions")}  # fmt: skip
    v4.close()

    store = Store(path)
    assert store.schema_version == SCHEMA_LATEST
    with store.transaction() as con:
        assert {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in counts} == counts  # nothing lost
        for table in ("sessions", "custom_questions", "jobs"):
            owners = con.execute(f"SELECT DISTINCT owner FROM {table}").fetchall()
            assert owners == [(LOCAL_USER,)], (table, owners)
    assert {r.id for r in store.sessions()} == {s1, s2}  # the default person (local) sees all of it
    assert store.report_dict(s1) == report and store.report(s1).scores.overall == 66.0
    assert store.question_of(s2).text == OTHER_Q.text
    assert [(q.id, q.text, q.key_points) for q in store.custom_questions()] == [(question.id, "My old question?",
                                                                                  ["kp"])]  # fmt: skip
    job = store.job("old-job")
    assert job is not None and (job["session_id"], job["owner"], job["status"]) == (s2, LOCAL_USER, "queued")
    assert [(o.session_id, o.kind, o.status) for o in store.archive_objects()] == [(s1, "report", "archived")]
    assert store.summary("overall")["count"] == 1
    # None of it is anyone else's.
    alice = store.as_user(ALICE)
    assert alice.sessions() == [] and alice.custom_questions() == [] and alice.jobs() == []
    assert alice.archive_objects() == [] and alice.report(s1) is None
    store.close()


# Archive, PDF and keys -----------------------------------------------------------------------------------


def test_archive_restore_link_and_pdf_of_anothers_session_are_refused(tmp_path: Path, s3_server: MotoServer) -> None:
    bucket = make_bucket(s3_server.url)
    settings = s3_settings(tmp_path, s3_server.url, bucket)
    base = Store(settings.database)
    alice, bob = base.as_user(ALICE), base.as_user(BOB)
    a1 = person_session(alice, settings, pdf=False)
    for attempt in (lambda: archive_session(bob, settings, a1), lambda: restore_session(bob, settings, a1)):
        with pytest.raises(ArchiveError, match=f"No session with id {a1}"):
            attempt()
    with pytest.raises(ArchiveError, match="not archived"):
        session_link(bob, settings, a1, "report")
    assert bucket_keys(s3_server.url, bucket) == set() and bob.archive_objects() == [] and alice.archive_objects() == []
    assert not (settings.reports_dir / f"{a1}.json").exists()  # no JSON export was written for bob either
    # The PDF is made from the stored report: bob's view has none for alice's session.
    assert bob.report(a1) is None and alice.report(a1) is not None

    assert archive_session(alice, settings, a1).ok
    link = session_link(alice, settings, a1, "report")
    assert a1 in link
    with pytest.raises(ArchiveError, match="not archived"):
        session_link(bob, settings, a1, "report")  # an archived file of alice's is still not bob's
    base.close()


def test_s3_keys_of_each_person_under_their_own_prefix(tmp_path: Path, s3_server: MotoServer) -> None:
    bucket = make_bucket(s3_server.url)
    settings = s3_settings(tmp_path, s3_server.url, bucket)
    base = Store(settings.database)
    alice, bob = base.as_user(ALICE), base.as_user(BOB)
    sessions = {ALICE: person_session(alice, settings), BOB: person_session(bob, settings),
                LOCAL_USER: person_session(base, settings)}  # fmt: skip
    for person, sid in sessions.items():
        assert archive_session(base.as_user(person), settings, sid).ok
    prefixes = {p: f"tests/{owner_prefix(p)}sessions/" for p in sessions}
    assert prefixes[LOCAL_USER] == "tests/sessions/"  # the layout made before accounts is kept
    assert prefixes[ALICE].startswith("tests/users/") and prefixes[ALICE] != prefixes[BOB]
    assert prefixes[ALICE] == f"tests/{owner_prefix('  Alice@Example.COM ')}sessions/"  # as the app writes it
    keys = bucket_keys(s3_server.url, bucket)
    for person, sid in sessions.items():
        mine = {k for k in keys if sid in k}
        assert mine == {f"{prefixes[person]}{sid}/{name}" for name in ("recording", "report.json", "report.pdf")}
        assert {o.key for o in base.as_user(person).archive_objects()} == mine
    assert ALICE not in " ".join(keys) and "alice" not in " ".join(keys)  # the address is not in the keys
    base.close()


# What a person controls -----------------------------------------------------------------------------------


def test_session_files_and_delete_session_removes_its_archived_copies(tmp_path: Path, s3_server: MotoServer) -> None:
    bucket = make_bucket(s3_server.url)
    settings = s3_settings(tmp_path, s3_server.url, bucket)
    base = Store(settings.database)
    alice, bob = base.as_user(ALICE), base.as_user(BOB)
    a1 = person_session(alice, settings, recording=os.urandom(12_345_678))
    a2 = person_session(alice, settings)
    b1 = person_session(bob, settings)
    for store, sid in ((alice, a1), (alice, a2), (bob, b1)):
        assert archive_session(store, settings, sid).ok
    assert session_files(alice, settings, a1) == ["the recording (12.3 MB)", "the report", "the PDF",
                                                  f"3 archived copies in S3 bucket '{bucket}'"]  # fmt: skip
    with pytest.raises(SessionError, match=f"Session {a1} not found"):
        session_files(bob, settings, a1)
    a1_keys = {o.key for o in alice.archive_objects(a1)}

    deleted = delete_session(alice, settings, a1)
    assert (deleted.found, deleted.recording, deleted.report, deleted.pdf) == (True, True, True, True)
    assert deleted.archive.deleted == 3 and deleted.archive_error is None
    assert not a1_keys & bucket_keys(s3_server.url, bucket) and len(bucket_keys(s3_server.url, bucket)) == 6
    assert rows_of(base, a1) == dict.fromkeys(TABLES_BY_SESSION, 0)
    assert not (settings.recordings_dir / a1).exists() and not list(settings.reports_dir.glob(f"{a1}.*"))

    # S3 unreachable: the local deletion still happens and the error names what stays in the bucket.
    a2_keys = sorted(o.key for o in alice.archive_objects(a2))
    dead = settings.with_overrides(s3_endpoint_url="http://127.0.0.1:9")
    started = time.monotonic()
    deleted = delete_session(alice, dead, a2)
    assert time.monotonic() - started < 30  # one reason for all three, not three waits
    assert deleted.found and deleted.archive.deleted == 0 and deleted.archive.remaining == a2_keys
    assert "unreachable" in deleted.archive_error and all(k in deleted.archive_error for k in a2_keys)
    assert alice.session(a2) is None and not (settings.recordings_dir / a2).exists()
    assert set(a2_keys) <= bucket_keys(s3_server.url, bucket)

    # Archiving not configured on this machine: said plainly, the local deletion happens.
    off = Settings(data_dir=settings.data_dir)
    assert session_files(bob, off, b1)[-1] == "3 archived copies in S3 stay there (S3 archiving is not configured here)"
    deleted = delete_session(bob, off, b1)
    assert deleted.found and "not configured" in deleted.archive_error and bob.session(b1) is None
    base.close()


def test_export_all_has_all_of_alices_data_and_nothing_of_bobs(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    base = Store(settings.database)
    alice, bob = base.as_user(ALICE), base.as_user(BOB)
    big = os.urandom(40 * 1024 * 1024)
    a1 = person_session(alice, settings, recording=big, name="long answer.webm")
    a2 = person_session(alice, settings, overall=None, pdf=False, question=OTHER_Q, name="retry.wav")
    alice.add_custom_question(Question(text="Alice asks?", key_points=["k1", "k2"]))
    b1 = person_session(bob, settings, question=Question(text="Bob's secret question?", key_points=["x"]))
    bob.add_custom_question(Question(text="Bob's saved question?", key_points=["y"]))

    out = tmp_path / "alice.zip"
    tracemalloc.start()
    done = export_all(alice, settings, out)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, peak  # 40 MB of recording streamed through, never held in memory
    assert done == DataInventory(sessions=2, recordings=2, reports=1, pdfs=1, custom_questions=1)
    assert done == inventory(alice, settings)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert names == {f"reports/{a1}.json", f"pdfs/{a1}.pdf", f"recordings/{a1}/long_answer.webm",
                         f"recordings/{a2}/retry.wav", "questions.json", "sessions.json", "README.txt"}  # fmt: skip
        assert zf.read(f"recordings/{a1}/long_answer.webm") == big
        assert zf.getinfo(f"recordings/{a1}/long_answer.webm").compress_type == zipfile.ZIP_STORED
        assert json.loads(zf.read(f"reports/{a1}.json")) == alice.report_dict(a1)
        assert zf.read(f"pdfs/{a1}.pdf") == (settings.reports_dir / f"{a1}.pdf").read_bytes()
        assert [q["text"] for q in json.loads(zf.read("questions.json"))] == ["Alice asks?"]
        assert {s["id"] for s in json.loads(zf.read("sessions.json"))} == {a1, a2}
        readme = zf.read("README.txt").decode()
        assert ALICE in readme and "2 sessions: 2 recordings, 1 report, 1 PDF; 1 saved question" in readme
        everything = b"".join(zf.read(n) for n in names if not n.startswith("recordings/"))
    for trace in (b1, "Bob's secret question", "Bob's saved question", BOB):
        assert trace.encode() not in everything
    assert not list(tmp_path.glob(".*.part"))

    # Into a stream that cannot seek (a download response): the same zip.
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: object) -> int:
            chunk = bytes(b)  # type: ignore[call-overload]
            self.data += chunk
            return len(chunk)

    stream = Unseekable()
    assert export_all(bob, settings, stream) == DataInventory(1, 1, 1, 1, 1)  # type: ignore[arg-type]
    with zipfile.ZipFile(io.BytesIO(bytes(stream.data))) as zf:
        assert {n.split("/")[1] for n in zf.namelist() if "/" in n} == {f"{b1}.json", f"{b1}.pdf", b1}
    with pytest.raises(ValueError, match="as_user"):
        export_all(base.as_user(ANY_OWNER), settings, tmp_path / "everyone.zip")
    assert not (tmp_path / "everyone.zip").exists()
    base.close()


def test_delete_all_removes_alices_rows_files_and_s3_objects_and_leaves_bobs(
    tmp_path: Path, s3_server: MotoServer
) -> None:
    bucket = make_bucket(s3_server.url)
    settings = s3_settings(tmp_path, s3_server.url, bucket)
    base = Store(settings.database)
    alice, bob = base.as_user(ALICE), base.as_user(BOB)
    mine = [person_session(alice, settings), person_session(alice, settings, question=OTHER_Q),
            person_session(alice, settings, overall=None, pdf=False)]  # fmt: skip
    alice.add_custom_question(Question(text="Alice asks?"))
    alice.create_job("job-a", mine[0], backend="embedded")
    b1 = person_session(bob, settings)
    bob.add_custom_question(Question(text="Bob asks?"))
    for store, sid in ((alice, mine[0]), (alice, mine[1]), (bob, b1)):
        assert archive_session(store, settings, sid).ok
    bob_before = (
        inventory(bob, settings),
        rows_of(base, b1),
        {k for k in bucket_keys(s3_server.url, bucket) if b1 in k},
    )

    shown = inventory(alice, settings)  # what the person is shown before confirming
    assert shown == DataInventory(sessions=3, recordings=3, reports=2, pdfs=2, custom_questions=1, archived_objects=6)
    assert shown.describe() == "3 sessions: 3 recordings, 2 reports, 2 PDFs; 1 saved question; 6 archived copies in S3"
    gone = delete_all(alice, settings)
    assert gone == shown  # exactly what was shown went

    assert inventory(alice, settings) == DataInventory() and inventory(alice, settings).describe() == "no sessions"
    assert alice.jobs() == [] and alice.custom_questions() == []
    for sid in mine:
        assert rows_of(base, sid) == dict.fromkeys(TABLES_BY_SESSION, 0)
        assert not (settings.recordings_dir / sid).exists() and not list(settings.reports_dir.glob(f"{sid}.*"))
    keys = bucket_keys(s3_server.url, bucket)
    assert keys == bob_before[2] and len(keys) == 3  # only bob's copies are left
    assert (inventory(bob, settings), rows_of(base, b1), keys) == bob_before
    assert [q.text for q in bob.custom_questions()] == ["Bob asks?"] and bob.report(b1) is not None

    # S3 down: the local data still goes; what stays in the bucket is named.
    dead = settings.with_overrides(s3_endpoint_url="http://127.0.0.1:9")
    gone = delete_all(bob, dead)
    assert gone.sessions == 1 and gone.archived_objects == 0 and len(gone.archive_errors) == 1
    assert all(k in gone.archive_errors[0] for k in keys) and bob.sessions() == []
    with pytest.raises(ValueError, match="as_user"):
        delete_all(base.as_user(ANY_OWNER), settings)
    base.close()


# The queue ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_queue_worker_analyses_bobs_job_as_bobs(tmp_path: Path, s3_server: MotoServer, cache_one_wav: Path) -> None:
    """The owner goes with the job (payload, S3 key under bob's prefix) and the result is stored as bob's."""
    from redis import Redis
    from rq.job import Job
    from test_queue import JOB_TIMEOUT_S, READY_TIMEOUT_S, RedisServer, Workers, queue_settings

    from coach_core.jobs.factory import make_job_manager
    from coach_core.jobs.rq_worker import SERIALIZER

    bucket = make_bucket(s3_server.url)
    s3 = {"COACH_S3_BUCKET": bucket, "COACH_S3_ENDPOINT_URL": s3_server.url, "COACH_S3_REGION": "us-east-1",
          "COACH_S3_PREFIX": "q/"}  # fmt: skip
    aws = {k: os.environ[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CONFIG_FILE",
                                      "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED")}  # fmt: skip
    server = RedisServer(tmp_path / "redis")
    pool = Workers(server.url, tmp_path / "worker", **s3, **aws)
    try:
        settings = queue_settings(tmp_path, server.url, s3_bucket=bucket, s3_endpoint_url=s3_server.url,
                                  s3_region="us-east-1", s3_prefix="q/")  # fmt: skip
        base = Store(settings.database)
        bob, alice = base.as_user(BOB), base.as_user(ALICE)
        manager = make_job_manager(alice, settings)  # whoever's page made the runner: it acts for the owner
        sid = save_recording(bob, settings, cache_one_wav, Question(**CACHE_QUESTION), original_name="b.wav")
        job_id = manager.submit(sid)
        with Redis.from_url(server.url) as connection:
            payload = Job.fetch(job_id, connection=connection, serializer=SERIALIZER).args[0]
        assert payload["owner"] == BOB
        assert payload["recording_key"] == f"q/{owner_prefix(BOB)}sessions/{sid}/recording"
        # The worker is on another machine: it reads the recording from bob's prefix in the bucket.
        hidden = settings.data_dir / f"hidden-{uuid.uuid4().hex[:6]}"
        settings.recordings_dir.rename(hidden)
        pool.start("far", "--burst")
        assert pool.processes["far"].wait(timeout=READY_TIMEOUT_S + JOB_TIMEOUT_S) == 0, pool.log("far")
        hidden.rename(settings.recordings_dir)
        job = manager.wait(job_id, timeout=60)
        assert job["status"] == "finished", f"{job['error']}\n{pool.log('far')}"
        report = bob.report(sid)
        assert report is not None and "database" in report.transcript.lower()
        assert bob.session(sid).status == "analysed" and bob.job(job_id)["owner"] == BOB
        assert base.as_user(ANY_OWNER).owner_of(sid) == BOB  # the owner did not change on the way
        assert alice.session(sid) is None and alice.report(sid) is None and alice.job(job_id) is None
        assert alice.trends() == [] and len(bob.trends(["overall"])) == 1
        keys = {o.key for o in bob.archive_objects(sid)}  # archived after the analysis, under bob's prefix
        assert keys and all(k.startswith(f"q/{owner_prefix(BOB)}sessions/{sid}/") for k in keys)
        assert not list(pool.folder.rglob("*.duckdb"))  # the worker never opened a database
        manager.shutdown()
        base.close()
    finally:
        pool.stop_all()
        server.stop()


# The command line -----------------------------------------------------------------------------------------


def cli(*args: str, data_dir: Path, stdin: int | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    full_env.update(COACH_DATA_DIR=str(data_dir), COACH_CHROMIUM_PATH=str(data_dir / "no-chromium"), **env)
    return subprocess.run([sys.executable, "-m", "coach_core", *args], capture_output=True, text=True, env=full_env,
                          cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL if stdin is None else stdin)  # fmt: skip


def two_people(tmp_path: Path, settings: Settings | None = None) -> tuple[Settings, str, str, str]:
    """A data dir with alice's sessions a1 (analysed, PDF) and a2 (no PDF) and bob's b1; the store closed."""
    settings = settings or Settings(data_dir=tmp_path / "data")
    base = Store(settings.database)
    a1 = person_session(base.as_user(ALICE), settings)
    a2 = person_session(base.as_user(ALICE), settings, pdf=False, question=OTHER_Q)
    b1 = person_session(base.as_user(BOB), settings)
    base.as_user(ALICE).add_custom_question(Question(text="Alice asks?", id="custom-alice"))
    base.as_user(BOB).add_custom_question(Question(text="Bob asks?", id="custom-bob"))
    base.close()  # one process owns the DuckDB file: the CLI opens it next
    return settings, a1, a2, b1


def assert_not_found(run: subprocess.CompletedProcess[str], session_id: str) -> None:
    assert run.returncode == 2, run.stderr
    assert run.stderr == f"error: Session {session_id} not found\n" and run.stdout == ""


def test_cli_each_person_sees_only_their_own_and_anothers_session_is_not_found(tmp_path: Path) -> None:
    settings, a1, a2, b1 = two_people(tmp_path)
    data = settings.data_dir
    history = cli("history", "--user", ALICE, data_dir=data)
    assert history.returncode == 0 and a1 in history.stdout and a2 in history.stdout and b1 not in history.stdout
    assert cli("history", data_dir=data).stdout.strip() == "No sessions yet."  # the local user has none
    assert b1 in cli("history", "--user", " Bob@Example.com ", data_dir=data).stdout  # written as the app writes it
    questions = cli("questions", "--user", BOB, data_dir=data).stdout
    assert "custom-bob" in questions and "custom-alice" not in questions
    assert "Alice asks?" in cli("questions", "--user", ALICE, data_dir=data).stdout
    shown = cli("show", a1, "--user", ALICE, data_dir=data)
    assert shown.returncode == 0 and f"Session {a1}" in shown.stdout

    out = tmp_path / "out"
    out.mkdir()
    assert_not_found(cli("show", a1, "--user", BOB, "--json", str(out / "a1.json"), data_dir=data), a1)
    assert_not_found(cli("show", a1, "--user", BOB, "--json", "-", data_dir=data), a1)
    assert_not_found(cli("report", a2, "--user", BOB, "--pdf", str(out / "a2.pdf"), data_dir=data), a2)
    assert_not_found(cli("report", a2, "--user", BOB, data_dir=data), a2)
    assert_not_found(cli("delete", a1, "--user", BOB, "--yes", data_dir=data), a1)
    assert_not_found(cli("show", "nosuchsession", "--user", BOB, data_dir=data), "nosuchsession")  # same words
    assert_not_found(cli("show", a1, data_dir=data), a1)  # the local user is not alice either
    assert list(out.iterdir()) == [] and not (settings.reports_dir / f"{a2}.pdf").exists()
    assert (settings.reports_dir / f"{a1}.pdf").is_file() and len(list((settings.recordings_dir / a1).iterdir())) == 1

    # Deleting asks first: without a terminal it needs --yes; on a terminal "n" keeps everything.
    refused = cli("delete", a1, "--user", ALICE, data_dir=data)
    assert refused.returncode == 2 and "add --yes" in refused.stderr
    assert "the recording (30 kB), the report, the PDF" in refused.stdout
    primary, replica = pty.openpty()
    os.write(primary, b"n\n")
    kept = cli("delete", a1, "--user", ALICE, data_dir=data, stdin=replica)
    os.close(replica)
    os.close(primary)
    assert kept.returncode == 2 and "Delete this session? [y/N]" in kept.stdout and "Nothing deleted" in kept.stderr
    assert a1 in cli("history", "--user", ALICE, data_dir=data).stdout
    deleted = cli("delete", a1, "--user", ALICE, "--yes", data_dir=data)
    assert deleted.returncode == 0 and f"Session {a1} deleted." in deleted.stdout, deleted.stderr
    assert not (settings.recordings_dir / a1).exists() and not (settings.reports_dir / f"{a1}.pdf").exists()
    assert_not_found(cli("show", a1, "--user", ALICE, data_dir=data), a1)

    # Export and delete-all, each for one person.
    export = cli("export", "--user", ALICE, "--out", str(out / "alice.zip"), data_dir=data)
    assert export.returncode == 0 and "1 session: 1 recording, 1 report; 1 saved question" in export.stdout
    with zipfile.ZipFile(out / "alice.zip") as zf:
        assert {n for n in zf.namelist() if n.startswith(("reports/", "recordings/"))} == {
            f"reports/{a2}.json", f"recordings/{a2}/answer.webm"}  # fmt: skip
    refused = cli("delete-all", "--user", BOB, data_dir=data)
    assert refused.returncode == 2 and "1 session: 1 recording, 1 report, 1 PDF; 1 saved question" in refused.stdout
    assert b1 in cli("history", "--user", BOB, data_dir=data).stdout
    gone = cli("delete-all", "--user", BOB, "--yes", data_dir=data)
    assert gone.returncode == 0 and "Deleted 1 session: 1 recording, 1 report, 1 PDF; 1 saved question" in gone.stdout
    assert "No sessions yet." in cli("history", "--user", BOB, data_dir=data).stdout
    assert a2 in cli("history", "--user", ALICE, data_dir=data).stdout  # alice's data is untouched
    nothing = cli("delete-all", "--user", BOB, data_dir=data)
    assert nothing.returncode == 0 and "Nothing to delete." in nothing.stdout


def test_cli_archive_restore_and_links_of_anothers_session_are_not_found(tmp_path: Path, s3_server: MotoServer) -> None:
    bucket = make_bucket(s3_server.url)
    settings, a1, _, b1 = two_people(tmp_path, s3_settings(tmp_path, s3_server.url, bucket))
    env = {"COACH_S3_BUCKET": bucket, "COACH_S3_ENDPOINT_URL": s3_server.url, "COACH_S3_REGION": "us-east-1",
           "COACH_S3_PREFIX": "tests/"}  # fmt: skip
    data = settings.data_dir
    assert_not_found(cli("archive", a1, "--user", BOB, data_dir=data, **env), a1)
    assert_not_found(cli("restore", a1, "--user", BOB, data_dir=data, **env), a1)
    assert_not_found(cli("archive", "--link", a1, "--user", BOB, data_dir=data, **env), a1)
    assert bucket_keys(s3_server.url, bucket) == set() and not (settings.reports_dir / f"{a1}.json").exists()
    everyone = cli("archive", "--all", "--user", BOB, data_dir=data, **env)  # bob's "all" is bob's sessions
    assert everyone.returncode == 0 and b1 in everyone.stdout and a1 not in everyone.stdout
    assert {k.split("/")[-2] for k in bucket_keys(s3_server.url, bucket)} == {b1}

    run = cli("archive", a1, "--user", ALICE, data_dir=data, **env)
    assert run.returncode == 0 and "uploaded recording, report, pdf" in run.stdout, run.stderr
    assert len(bucket_keys(s3_server.url, bucket)) == 6
    deleted = cli("delete", a1, "--user", ALICE, "--yes", data_dir=data, **env)
    assert f"3 archived copies in S3 bucket '{bucket}'" in deleted.stdout and deleted.returncode == 0
    assert {k.split("/")[-2] for k in bucket_keys(s3_server.url, bucket)} == {b1}
    down = cli("delete", b1, "--user", BOB, "--yes", data_dir=data, **{**env, "COACH_S3_ENDPOINT_URL":
                                                                       "http://127.0.0.1:9"})  # fmt: skip
    assert down.returncode == 4 and "unreachable" in down.stderr and f"Session {b1} deleted." in down.stdout
    assert all(k in down.stderr for k in bucket_keys(s3_server.url, bucket))  # the error names what stays


@pytest.mark.slow
def test_cli_analyze_stores_the_session_as_the_users(tmp_path: Path, cache_one_wav: Path) -> None:
    data = tmp_path / "data"
    run = cli("analyze", str(cache_one_wav), "--question-text", "How would you speed up reads?",
              "--user", "Bob@Example.com", data_dir=data)  # fmt: skip
    assert run.returncode == 0, run.stderr
    store = Store(Settings(data_dir=data).database)
    (row,) = store.as_user(BOB).sessions()
    assert store.as_user(BOB).report(row.id) is not None and store.as_user(ANY_OWNER).owner_of(row.id) == BOB
    assert store.sessions() == [] and store.as_user(ALICE).sessions() == []
    store.close()
    assert_not_found(cli("show", row.id, "--user", ALICE, data_dir=data), row.id)
    shown = cli("show", row.id, "--user", BOB, data_dir=data)
    assert shown.returncode == 0 and row.id in shown.stdout


def test_describe_counts_in_words() -> None:
    assert DataInventory(3, 3, 2, 1, 2, 5).describe() == (
        "3 sessions: 3 recordings, 2 reports, 1 PDF; 2 saved questions; 5 archived copies in S3"
    )
    assert DataInventory(1, 1, 0, 0, 0, 1).describe() == "1 session: 1 recording; 1 archived copy in S3"
    assert DataInventory(custom_questions=1).describe() == "no sessions; 1 saved question"
    assert DataInventory().empty and not DataInventory(custom_questions=1).empty
