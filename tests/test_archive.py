"""S3 archiving against a real S3 endpoint on localhost: moto's server, started and stopped here.

moto's server speaks the S3 protocol (multipart uploads, presigned URLs, ETags) but does NOT verify
request signatures, so these tests cannot catch a wrongly signed request; the "bad credentials" case
uses a second moto server with its IAM checks switched on (unknown access key → InvalidAccessKeyId).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from test_store import Q, fake_report

from coach_core.config import Settings
from coach_core.schema import Report
from coach_core.sessions.archive import (
    Archive,
    ArchiveError,
    archive_session,
    archive_status,
    restore_session,
    retry_pending,
    session_link,
)
from coach_core.storage.store import Store

ROOT = Path(__file__).resolve().parents[1]
MOTO = Path(sys.executable).parent / "moto_server"
SECRET = "moto-secret-that-must-never-be-printed"
MiB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """A moto S3 server process on 127.0.0.1:port."""

    def __init__(self, port: int, **env: str) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [str(MOTO), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **env},
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not start on port {port}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(autouse=True)
def aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials through boto3's usual chain (environment); nothing from the machine's ~/.aws."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer(free_port())
    yield server
    server.stop()


def make_bucket(endpoint: str) -> str:
    name = f"coach-{uuid.uuid4().hex[:10]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key=SECRET,
    )
    client.create_bucket(Bucket=name)
    return name


def s3_client(endpoint: str) -> object:
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key=SECRET
    )


def s3_settings(tmp_path: Path, endpoint: str, bucket: str, **more: object) -> Settings:
    # No Chromium path: these tests bring their own PDF file and never render one.
    return Settings(
        data_dir=tmp_path / "data",
        s3_bucket=bucket,
        s3_endpoint_url=endpoint,
        s3_region="us-east-1",
        s3_prefix="tests/",
        s3_multipart_threshold_mb=5,
        s3_connect_timeout_s=2.0,
        chromium_path=str(tmp_path / "no-chromium"),
        **more,
    )


def analysed_session(store: Store, settings: Settings, recording: bytes, name: str = "answer.webm") -> str:
    """A session with a recording file, a stored report and a PDF file, as after an analysis."""
    folder = settings.recordings_dir / "new"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(recording)
    sid = store.create_session(Q, path, original_name=name)
    store.save_report(Report.from_dict(fake_report(sid, Q, 72.0)))
    pdf = settings.reports_dir / f"{sid}.pdf"
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.write_bytes(b"%PDF-1.4\n% a stand-in PDF for " + sid.encode() + b"\n%%EOF\n")
    return sid


def object_bytes(endpoint: str, bucket: str, key: str) -> bytes:
    return s3_client(endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()


def test_upload_presigned_get_and_restore(tmp_path: Path, moto: MotoServer) -> None:
    bucket = make_bucket(moto.url)
    settings = s3_settings(tmp_path, moto.url, bucket, s3_presign_expiry_s=600)
    store = Store(settings.database)
    recording = os.urandom(300_000)
    sid = analysed_session(store, settings, recording)
    pdf_bytes = (settings.reports_dir / f"{sid}.pdf").read_bytes()

    result = archive_session(store, settings, sid)
    assert result.ok and sorted(result.uploaded) == ["pdf", "recording", "report"], result.summary()
    keys = Archive.from_settings(settings).session_keys(sid)
    assert keys["recording"] == f"tests/sessions/{sid}/recording"
    objects = {o.kind: o for o in store.archive_objects(sid)}
    assert {o.status for o in objects.values()} == {"archived"}
    assert objects["recording"].size_bytes == len(recording) and objects["recording"].etag
    assert archive_status(list(objects.values())) == "archived"
    # What is in the bucket is exactly the local data; the report is the JSON export of the stored report.
    assert object_bytes(moto.url, bucket, keys["recording"]) == recording
    assert json.loads(object_bytes(moto.url, bucket, keys["report"])) == store.report_dict(sid)
    assert object_bytes(moto.url, bucket, keys["pdf"]) == pdf_bytes

    # A presigned link fetched with a plain HTTP client returns the same bytes under the original file name.
    url = session_link(store, settings, sid, "recording")
    assert "X-Amz-Expires=600" in url and SECRET not in url
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.read() == recording
        assert 'filename="answer.webm"' in response.headers["Content-Disposition"]
    short = session_link(store, settings, sid, "pdf", expires_s=60)
    assert "X-Amz-Expires=60&" in short or short.endswith("X-Amz-Expires=60")

    # Nothing changed: a second run uploads nothing.
    again = archive_session(store, settings, sid)
    assert again.uploaded == [] and sorted(again.already) == ["pdf", "recording", "report"]

    # The local files and the stored analysis are lost; the archive brings all of them back.
    row = store.session(sid)
    Path(row.recording_path).unlink()
    (settings.reports_dir / f"{sid}.json").unlink()
    (settings.reports_dir / f"{sid}.pdf").unlink()
    with store.transaction() as con:
        con.execute("DELETE FROM metrics WHERE session_id = ?", [sid])
        con.execute("DELETE FROM analyses WHERE session_id = ?", [sid])
    assert store.report(sid) is None
    restored = restore_session(store, settings, sid)
    assert sorted(restored.restored) == ["pdf", "recording", "report"] and restored.report_reimported
    assert Path(row.recording_path).read_bytes() == recording
    assert (settings.reports_dir / f"{sid}.pdf").read_bytes() == pdf_bytes
    assert store.report(sid).scores.overall == 72.0 and store.session(sid).status == "analysed"
    assert not list(Path(row.recording_path).parent.glob(".*.part"))  # no half files left behind
    # With everything on disk, a restore downloads nothing.
    assert restore_session(store, settings, sid).restored == []
    store.close()


def test_changed_report_is_uploaded_again(tmp_path: Path, moto: MotoServer) -> None:
    bucket = make_bucket(moto.url)
    settings = s3_settings(tmp_path, moto.url, bucket)
    store = Store(settings.database)
    sid = analysed_session(store, settings, b"RIFF-small-recording")
    archive_session(store, settings, sid)
    store.save_report(Report.from_dict(fake_report(sid, Q, 91.0)))  # re-analysed: a new report
    result = archive_session(store, settings, sid)
    assert result.uploaded == ["report"] and sorted(result.already) == ["pdf", "recording"]
    key = Archive.from_settings(settings).session_keys(sid)["report"]
    assert json.loads(object_bytes(moto.url, bucket, key))["scores"]["overall"] == 91.0
    store.close()


def test_presign_put_stores_the_uploaded_bytes(tmp_path: Path, moto: MotoServer) -> None:
    bucket = make_bucket(moto.url)
    archive = Archive.from_settings(s3_settings(tmp_path, moto.url, bucket))
    key = archive.session_keys("browser01")["recording"]
    url = archive.presign_put(key, 120, content_type="audio/webm")
    assert "X-Amz-Expires=120" in url and SECRET not in url
    body = os.urandom(50_000)
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": "audio/webm"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    assert object_bytes(moto.url, bucket, key) == body
    assert archive.head(key).size_bytes == len(body)
    assert archive.head(key + "-absent") is None


def test_large_file_goes_up_in_multipart(tmp_path: Path, moto: MotoServer) -> None:
    bucket = make_bucket(moto.url)
    settings = s3_settings(tmp_path, moto.url, bucket)  # multipart threshold 5 MB
    store = Store(settings.database)
    recording = os.urandom(6 * MiB)  # made here, never committed
    sid = analysed_session(store, settings, recording)
    assert archive_session(store, settings, sid).ok
    objects = {o.kind: o for o in store.archive_objects(sid)}
    # An S3 multipart ETag is "<md5 of the part md5s>-<number of parts>": 5 MiB + 1 MiB = 2 parts.
    assert objects["recording"].etag.endswith("-2"), objects["recording"].etag
    assert objects["recording"].size_bytes == 6 * MiB
    assert "-" not in objects["report"].etag  # small files go up in one request
    assert object_bytes(moto.url, bucket, objects["recording"].key) == recording
    store.close()


def test_endpoint_down_is_marked_then_retried(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here yet
    settings = s3_settings(tmp_path, f"http://127.0.0.1:{port}", "coach-later")
    store = Store(settings.database)
    recording = os.urandom(100_000)
    sid = analysed_session(store, settings, recording)
    result = archive_session(store, settings, sid)
    reason = f"S3 endpoint http://127.0.0.1:{port} unreachable"
    assert result.failed == {"recording": reason, "report": reason, "pdf": reason}
    objects = store.archive_objects(sid)
    assert {(o.status, o.error) for o in objects} == {("failed", reason)}
    assert archive_status(objects) == f"not archived: {reason}"
    assert store.pending_archive_sessions() == [sid]
    assert Path(store.session(sid).recording_path).read_bytes() == recording  # local data untouched
    with pytest.raises(ArchiveError, match="unreachable"):
        retry_pending(store, settings)  # still down: nothing changes
    assert store.pending_archive_sessions() == [sid]

    server = MotoServer(port)
    try:
        s3_client(server.url).create_bucket(Bucket="coach-later")
        results = retry_pending(store, settings)
        assert [r.session_id for r in results] == [sid] and sorted(results[0].uploaded) == [
            "pdf",
            "recording",
            "report",
        ]
        assert store.pending_archive_sessions() == []
        assert archive_status(store.archive_objects(sid)) == "archived"
        assert object_bytes(server.url, "coach-later", f"tests/sessions/{sid}/recording") == recording
        assert retry_pending(store, settings) == []
    finally:
        server.stop()
    store.close()


def test_readable_reasons_without_credentials(
    tmp_path: Path, moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "c.duckdb")
    settings = s3_settings(tmp_path, moto.url, "no-such-bucket-here")
    sid = analysed_session(store, settings, b"recording")
    assert archive_session(store, settings, sid).failed["recording"] == "bucket 'no-such-bucket-here' does not exist"

    # A server that checks access keys: "testing" is not one it knows.
    strict = MotoServer(free_port(), INITIAL_NO_AUTH_ACTION_COUNT="0")
    try:
        denied = archive_session(store, s3_settings(tmp_path, strict.url, "any-bucket"), sid).failed["recording"]
    finally:
        strict.stop()
    assert denied.startswith("access denied to bucket 'any-bucket'") and "InvalidAccessKeyId" in denied

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    missing = archive_session(store, settings, sid).failed["recording"]
    assert missing.startswith("no S3 credentials found")
    for row in store.archive_objects(sid):
        assert SECRET not in (row.error or "") and "testing" not in (row.error or "")
    assert SECRET not in denied
    # Restoring from an archive that cannot be reached explains why, and removes nothing.
    Path(store.session(sid).recording_path).unlink()
    result = restore_session(store, settings, sid)
    assert result.unavailable["recording"].startswith("no S3 credentials found")
    store.close()


def test_off_without_bucket(tmp_path: Path) -> None:
    assert Archive.from_settings(Settings(data_dir=tmp_path)) is None
    store = Store(tmp_path / "c.duckdb")
    with pytest.raises(ArchiveError, match="archiving is off"):
        archive_session(store, Settings(data_dir=tmp_path), "abc")
    with pytest.raises(ArchiveError, match="Not a valid session id"):
        Archive("bucket").session_keys("../etc")
    store.close()


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coach_core", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=300,
    )


def test_cli_archive_link_retry_and_restore(tmp_path: Path, moto: MotoServer) -> None:
    bucket = make_bucket(moto.url)
    settings = s3_settings(tmp_path, moto.url, bucket)
    store = Store(settings.database)
    recording = os.urandom(20_000)
    sid = analysed_session(store, settings, recording)
    path = Path(store.session(sid).recording_path)
    store.close()  # one process owns the DuckDB file: the CLI opens it next

    off = cli("archive", sid, env={"COACH_DATA_DIR": str(settings.data_dir)})
    assert off.returncode == 2 and "S3 archiving is off" in off.stderr and "Traceback" not in off.stderr
    env = {"COACH_DATA_DIR": str(settings.data_dir), "COACH_S3_BUCKET": bucket, "COACH_S3_ENDPOINT_URL": moto.url,
           "COACH_S3_REGION": "us-east-1", "COACH_S3_PREFIX": "tests/"}  # fmt: skip
    run = cli("archive", sid, env=env)
    assert run.returncode == 0, run.stderr
    assert "uploaded recording, report, pdf" in run.stdout
    link = cli("archive", "--link", sid, "--kind", "recording", "--expires", "90", env=env)
    assert link.returncode == 0, link.stderr
    assert "X-Amz-Expires=90" in link.stdout
    with urllib.request.urlopen(link.stdout.strip(), timeout=30) as response:
        assert response.read() == recording
    retry = cli("archive", "--retry", env=env)
    assert retry.returncode == 0 and "Nothing to retry" in retry.stdout
    path.unlink()
    restored = cli("restore", sid, env=env)
    assert restored.returncode == 0, restored.stderr
    assert "restored recording" in restored.stdout and path.read_bytes() == recording
    down = cli("archive", "--all", env={**env, "COACH_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"})
    assert down.returncode == 4 and "unreachable" in down.stderr and SECRET not in down.stderr + down.stdout


@pytest.mark.slow
def test_analysis_archives_automatically_and_survives_a_dead_endpoint(
    tmp_path: Path, moto: MotoServer, cache_one_wav: Path
) -> None:
    from coach_core.sessions.lifecycle import analyse_session, save_recording

    bucket = make_bucket(moto.url)
    settings = s3_settings(tmp_path, moto.url, bucket)
    dead = settings.with_overrides(s3_endpoint_url=f"http://127.0.0.1:{free_port()}")
    question = Q
    store = Store(settings.database)

    # Archive unreachable: the analysis still succeeds; the session is marked not archived with the reason.
    sid = save_recording(store, dead, cache_one_wav, question, original_name="answer.wav")
    report = analyse_session(store, dead, sid)
    assert report.transcript and store.session(sid).status == "analysed"
    status = archive_status(store.archive_objects(sid))
    assert status.startswith("not archived: S3 endpoint http://127.0.0.1:") and status.endswith("unreachable")

    # Archive reachable: the next analysis uploads the recording and the report by itself.
    report = analyse_session(store, settings, sid)
    objects = {o.kind: o for o in store.archive_objects(sid)}
    assert objects["recording"].status == objects["report"].status == "archived"
    assert json.loads(object_bytes(moto.url, bucket, objects["report"].key))["session_id"] == sid

    # The recording is lost locally: restored from the archive, it can be analysed again.
    recording = Path(store.session(sid).recording_path)
    original = recording.read_bytes()
    recording.unlink()
    assert restore_session(store, settings, sid).restored == ["recording"]
    assert recording.read_bytes() == original
    again = analyse_session(store, settings, sid)
    assert again.transcript == report.transcript
    store.close()


def test_dashboard_archive_panel_uploads_links_and_restores(
    tmp_path: Path, moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    from test_app_pages import no_exception, page

    bucket = make_bucket(moto.url)
    for name, value in {"COACH_DATA_DIR": str(tmp_path / "data"), "COACH_S3_BUCKET": bucket,
                        "COACH_S3_ENDPOINT_URL": moto.url, "COACH_S3_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)
    st.cache_resource.clear()
    try:
        from ui.common import settings, store

        recording = os.urandom(10_000)
        sid = analysed_session(store(), settings(), recording)

        def dashboard() -> object:
            test = page("ui/dashboard.py")
            test.session_state["session_id"] = sid
            return test.run()

        at = dashboard()
        no_exception(at)
        assert any(e.label == "☁️ Archive: not archived" for e in at.expander)
        at.button(key="archive_retry").click().run()
        no_exception(at)
        assert any(e.label == "☁️ Archive: archived" for e in at.expander)
        assert any("uploaded recording, report, pdf" in s.value for s in at.success)
        links = {b.proto.label: b.proto.url for b in at.get("link_button")}
        assert set(links) == {"⬇ Recording", "⬇ Report (JSON)", "⬇ Report (PDF)"}
        with urllib.request.urlopen(links["⬇ Recording"], timeout=30) as response:
            assert response.read() == recording
        assert not any(b.key == "archive_retry" for b in at.button)  # nothing left to upload

        Path(store().session(sid).recording_path).unlink()
        at = dashboard()
        assert any("missing on this machine" in m.value for m in at.markdown)
        at.button(key="archive_restore").click().run()
        no_exception(at)
        assert Path(store().session(sid).recording_path).read_bytes() == recording
        assert any("restored recording" in s.value for s in at.success)
        assert not any(b.key == "archive_restore" for b in at.button)
    finally:
        st.cache_resource.clear()


@pytest.mark.browser
def test_missing_pdf_is_rendered_and_a_render_failure_does_not_block(tmp_path: Path, moto: MotoServer) -> None:
    bucket = make_bucket(moto.url)
    broken = s3_settings(tmp_path, moto.url, bucket).with_overrides(s3_prefix="broken/", chromium_path="/bin/false")
    store = Store(broken.database)
    sid = analysed_session(store, broken, b"a recording")
    pdf = broken.reports_dir / f"{sid}.pdf"
    pdf.unlink()
    # A "Chromium" that cannot start: no PDF, but the recording and the report are archived.
    result = archive_session(store, broken, sid)
    assert sorted(result.uploaded) == ["recording", "report"] and result.missing == ["pdf"] and result.ok
    assert not pdf.exists()

    # With the real Chromium the missing PDF is rendered from the stored report and uploaded too.
    settings = broken.with_overrides(chromium_path="/usr/bin/chromium")
    result = archive_session(store, settings, sid)
    assert result.uploaded == ["pdf"] and sorted(result.already) == ["recording", "report"]
    data = object_bytes(moto.url, bucket, f"broken/sessions/{sid}/report.pdf")
    assert data.startswith(b"%PDF") and data == pdf.read_bytes()
    # A PDF newer than the report is current: archiving again renders and uploads nothing.
    mtime = pdf.stat().st_mtime
    assert archive_session(store, settings, sid).uploaded == [] and pdf.stat().st_mtime == mtime
    store.close()
