"""Optional S3 archive of each session's files: the recording, the JSON report and the PDF.

Off unless a bucket is configured (``COACH_S3_BUCKET``). Credentials come from boto3's usual chain
(environment, ``~/.aws`` files, instance role) and are never logged, stored or put in a message.
Every failure becomes one readable reason, recorded per file in the store; local files are never
touched by a failed upload, so a later retry uploads whatever is missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from coach_core.config import Settings
from coach_core.schema import Report
from coach_core.storage.store import ArchiveObjectRow, Store

log = logging.getLogger(__name__)

KINDS = ("recording", "report", "pdf")
ARCHIVED, PENDING, FAILED = "archived", "pending", "failed"

# A dead endpoint should fail in seconds: one retry (botocore "standard" mode counts the first try).
MAX_ATTEMPTS = 2
READ_TIMEOUT_S = 60.0
MIN_PART_BYTES = 5 * 1024 * 1024  # S3 refuses multipart parts below 5 MiB (except the last one)
_ACCESS_CODES = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
                 "AllAccessDisabled", "Forbidden", "403"}  # fmt: skip
_NOT_FOUND_CODES = {"NoSuchKey", "NotFound", "404"}
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]+$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
_CODE_IN_TEXT = re.compile(r"An error occurred \(([^)]+)\)")


class ArchiveError(RuntimeError):
    """An archive operation failed; the message is one readable line without credentials.

    ``whole_archive`` is True when nothing else will work either (endpoint unreachable, bucket
    missing, access denied, no credentials), so callers stop trying other files; ``not_found``
    when only the object asked for is absent.
    """

    def __init__(self, message: str, *, whole_archive: bool = False, not_found: bool = False) -> None:
        super().__init__(message)
        self.whole_archive = whole_archive
        self.not_found = not_found


@dataclass(frozen=True)
class StoredObject:
    key: str
    size_bytes: int
    etag: str


@dataclass
class ArchiveResult:
    """What ``archive_session`` did, per kind of file."""

    session_id: str
    uploaded: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # no local file to upload
    failed: dict[str, str] = field(default_factory=dict)  # kind -> reason

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        parts = []
        if self.uploaded:
            parts.append("uploaded " + ", ".join(self.uploaded))
        if self.already:
            parts.append("already archived " + ", ".join(self.already))
        if self.missing:
            parts.append("no local " + ", ".join(self.missing))
        for kind, reason in self.failed.items():
            parts.append(f"{kind} not archived: {reason}")
        return f"Session {self.session_id}: " + ("; ".join(parts) or "nothing to do")


@dataclass
class RestoreResult:
    """What ``restore_session`` did, per kind of file."""

    session_id: str
    restored: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)  # local file already there
    unavailable: dict[str, str] = field(default_factory=dict)  # kind -> reason
    report_reimported: bool = False

    def summary(self) -> str:
        parts = []
        if self.restored:
            parts.append("restored " + ", ".join(self.restored))
        if self.present:
            parts.append("already on disk " + ", ".join(self.present))
        for kind, reason in self.unavailable.items():
            parts.append(f"{kind} not restored: {reason}")
        if self.report_reimported:
            parts.append("report re-imported into the database")
        return f"Session {self.session_id}: " + "; ".join(parts)


def _safe_url(url: str) -> str:
    """The endpoint without any user:password part, for messages."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _error_code(exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    while seen is not None:
        response = getattr(seen, "response", None)
        if isinstance(response, dict) and response.get("Error", {}).get("Code"):
            return str(response["Error"]["Code"])
        match = _CODE_IN_TEXT.search(str(seen))  # boto3's S3UploadFailedError keeps only the text
        if match:
            return match.group(1)
        seen = seen.__cause__ or seen.__context__
    return None


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Archive:
    """One S3 bucket (AWS or any S3-compatible store) under a key prefix."""

    def __init__(
        self,
        bucket: str,
        *,
        region: str = "",
        endpoint_url: str = "",
        prefix: str = "",
        presign_expiry_s: int = 3600,
        multipart_threshold_bytes: int = 64 * 1024 * 1024,
        connect_timeout_s: float = 3.0,
    ) -> None:
        self.bucket = bucket
        self.region = region
        self.endpoint_url = endpoint_url
        prefix = prefix.strip().lstrip("/")
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.presign_expiry_s = presign_expiry_s
        self.connect_timeout_s = connect_timeout_s
        chunk = max(multipart_threshold_bytes, MIN_PART_BYTES)
        self._transfer = TransferConfig(multipart_threshold=multipart_threshold_bytes, multipart_chunksize=chunk)
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Archive | None:
        """The configured archive, or None when no bucket is set (archiving off)."""
        if not settings.s3_bucket:
            return None
        return cls(
            settings.s3_bucket,
            region=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url,
            prefix=settings.s3_prefix,
            presign_expiry_s=settings.s3_presign_expiry_s,
            multipart_threshold_bytes=int(settings.s3_multipart_threshold_mb * 1024 * 1024),
            connect_timeout_s=settings.s3_connect_timeout_s,
        )

    @property
    def endpoint_label(self) -> str:
        return _safe_url(self.endpoint_url) if self.endpoint_url else f"AWS S3 ({self.region or 'default region'})"

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                config = Config(
                    connect_timeout=self.connect_timeout_s,
                    read_timeout=READ_TIMEOUT_S,
                    retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
                    signature_version="s3v4",
                    # S3-compatible stores (MinIO, Ceph, moto, …) want path-style URLs and no optional checksums.
                    s3={"addressing_style": "path"} if self.endpoint_url else None,
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                )
                self._client = boto3.session.Session().client(
                    "s3", region_name=self.region or None, endpoint_url=self.endpoint_url or None, config=config
                )
            return self._client

    # Keys ------------------------------------------------------------------------------------
    def session_keys(self, session_id: str) -> dict[str, str]:
        """Object keys of a session's files, by kind: ``recording``, ``report`` (JSON) and ``pdf``.

        Keys depend only on the prefix and the session id, so any machine finds them.
        """
        if not _SAFE_ID.match(session_id) or session_id in {".", ".."}:
            raise ArchiveError(f"Not a valid session id: {session_id!r}")
        base = f"{self.prefix}sessions/{session_id}/"
        return {"recording": base + "recording", "report": base + "report.json", "pdf": base + "report.pdf"}

    # Errors ----------------------------------------------------------------------------------
    def reason(self, exc: BaseException, key: str | None = None) -> ArchiveError:
        """Turn any boto3/botocore/OS failure into a one-line ArchiveError."""
        if isinstance(exc, ArchiveError):
            return exc
        if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
            return ArchiveError(
                "no S3 credentials found (boto3 looks in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws and the "
                "instance role)",
                whole_archive=True,
            )
        if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError)):
            return ArchiveError(f"S3 endpoint {self.endpoint_label} unreachable", whole_archive=True)
        if isinstance(exc, ReadTimeoutError):
            return ArchiveError(f"S3 endpoint {self.endpoint_label} did not answer in time", whole_archive=True)
        code = _error_code(exc)
        if code == "NoSuchBucket":
            return ArchiveError(f"bucket '{self.bucket}' does not exist", whole_archive=True)
        if code in _ACCESS_CODES:
            return ArchiveError(
                f"access denied to bucket '{self.bucket}' ({code}): check the credentials and the bucket policy",
                whole_archive=True,
            )
        if code in _NOT_FOUND_CODES:
            return ArchiveError(f"'{key}' is not in bucket '{self.bucket}'", not_found=True)
        if code:
            return ArchiveError(f"S3 refused the request ({code})")
        if isinstance(exc, OSError):
            return ArchiveError(f"local file error: {exc.strerror or exc}")
        return ArchiveError(f"S3 request failed ({type(exc).__name__})")

    # Objects ---------------------------------------------------------------------------------
    def check(self) -> None:
        """Raise ArchiveError unless the bucket is reachable and readable with these credentials."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            if _error_code(exc) in _NOT_FOUND_CODES:  # HEAD responses carry no error body
                raise ArchiveError(f"bucket '{self.bucket}' does not exist", whole_archive=True) from None
            raise self.reason(exc) from None

    def upload_file(self, path: Path | str, key: str) -> StoredObject:
        """Upload a local file (multipart above the threshold); returns the stored size and ETag."""
        path = Path(path)
        if not path.is_file():
            raise ArchiveError(f"local file missing: {path}")
        extra = {"ContentType": mimetypes.guess_type(path.name)[0] or "application/octet-stream"}
        try:
            self.client.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Config=self._transfer)
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            error = self.reason(exc, key)
            if error.not_found:  # an upload cannot miss its object: this is not an S3 endpoint (or a wrong URL)
                error = ArchiveError(
                    f"S3 endpoint {self.endpoint_label} answered 'not found' to an upload: check the endpoint URL",
                    whole_archive=True,
                )
            raise error from None
        return StoredObject(key=key, size_bytes=int(head["ContentLength"]), etag=str(head["ETag"]).strip('"'))

    def download_file(self, key: str, path: Path | str) -> Path:
        """Download an object to ``path`` (written to a side file first, so no half file is left)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{path.name}.part")
        try:
            self.client.download_file(self.bucket, key, str(part), Config=self._transfer)
            os.replace(part, path)
        except Exception as exc:
            part.unlink(missing_ok=True)
            raise self.reason(exc, key) from None
        return path

    def head(self, key: str) -> StoredObject | None:
        """The stored object's size and ETag, or None when it is not in the bucket."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            error = self.reason(exc, key)
            if error.whole_archive:
                raise error from None
            return None
        return StoredObject(key=key, size_bytes=int(head["ContentLength"]), etag=str(head["ETag"]).strip('"'))

    def presign_get(self, key: str, expires_s: int | None = None, *, filename: str | None = None) -> str:
        """A download link valid for ``expires_s`` seconds (default: the configured expiry).

        The link carries the access key id (never the secret) and lets anyone holding it read
        this one object until it expires. ``filename`` names the download in the browser.
        """
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{_SAFE_NAME.sub("_", filename)}"'
        return self._presign("get_object", params, expires_s)

    def presign_put(self, key: str, expires_s: int | None = None, *, content_type: str | None = None) -> str:
        """An upload link: an HTTP PUT of the file's bytes to it stores them under ``key``.

        For deployments where the browser should send a recording straight to S3 instead of
        through the app server. With ``content_type`` the PUT must send that exact Content-Type
        header (it is part of the signature); the bucket's CORS rules must allow the app's origin.
        """
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if content_type:
            params["ContentType"] = content_type
        return self._presign("put_object", params, expires_s)

    def _presign(self, method: str, params: dict[str, str], expires_s: int | None) -> str:
        expires = int(expires_s if expires_s is not None else self.presign_expiry_s)
        if expires <= 0:
            raise ArchiveError(f"A link must be valid for at least one second, got {expires}.")
        try:
            return str(self.client.generate_presigned_url(method, Params=params, ExpiresIn=expires))
        except Exception as exc:
            raise self.reason(exc, params["Key"]) from None


# Session files ---------------------------------------------------------------------------------
def require_archive(settings: Settings) -> Archive:
    archive = Archive.from_settings(settings)
    if archive is None:
        raise ArchiveError("S3 archiving is off: set COACH_S3_BUCKET (and COACH_S3_ENDPOINT_URL for S3-compatible "
                           "stores) to turn it on.")  # fmt: skip
    return archive


def local_paths(store: Store, settings: Settings, session_id: str) -> dict[str, Path]:
    """Where each of a session's files lives on this machine."""
    row = store.session(session_id)
    recording = (
        Path(row.recording_path) if row and row.recording_path else settings.recordings_dir / session_id / "recording"
    )
    return {
        "recording": recording,
        "report": settings.reports_dir / f"{session_id}.json",
        "pdf": settings.reports_dir / f"{session_id}.pdf",
    }


def write_report_json(store: Store, settings: Settings, session_id: str) -> Path | None:
    """Write the stored report as the JSON export (rewritten only when it changed); None if not analysed."""
    data = store.report_dict(session_id)
    if data is None:
        return None
    path = settings.reports_dir / f"{session_id}.json"
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return path


def _pdf_is_current(path: Path, report: dict[str, Any]) -> bool:
    if not path.is_file():
        return False
    try:
        made = datetime.fromisoformat(report["created_at"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return True  # age unknown: keep the PDF there is
    return path.stat().st_mtime >= made


def _ensure_pdf(store: Store, settings: Settings, session_id: str) -> None:
    """Render the PDF when it is missing or older than the report, if Chromium is available.

    Never raises: without a PDF the other files are still archived.
    """
    data = store.report_dict(session_id)
    if data is None or _pdf_is_current(settings.reports_dir / f"{session_id}.pdf", data):
        return
    try:
        from coach_core.reporting import pdf  # HTML → PDF with Chromium

        pdf.chromium_executable(settings)  # a quick, readable refusal when Chromium is not installed
        pdf.write_session_pdf(settings, Report.from_dict(data))
    except Exception as exc:
        log.warning("PDF for session %s not rendered: %s", session_id, exc)


def archive_session(
    store: Store,
    settings: Settings,
    session_id: str,
    *,
    archive: Archive | None = None,
    kinds: tuple[str, ...] = KINDS,
) -> ArchiveResult:
    """Upload whichever of the session's files exist and are not archived yet (or changed since).

    Each file's key, status, reason, size and ETag go to the store. A failure marks the file
    'failed' with the reason and never touches the local file; raises ArchiveError only when
    archiving is off or the session does not exist.
    """
    archive = archive or require_archive(settings)
    if store.session(session_id) is None:
        raise ArchiveError(f"No session with id {session_id}.")
    keys = archive.session_keys(session_id)
    write_report_json(store, settings, session_id)
    if "pdf" in kinds:
        _ensure_pdf(store, settings, session_id)
    paths = local_paths(store, settings, session_id)
    known = {o.kind: o for o in store.archive_objects(session_id)}
    result = ArchiveResult(session_id)
    stop: ArchiveError | None = None
    for kind in kinds:
        path, key = paths[kind], keys[kind]
        if not path.is_file():
            result.missing.append(kind)
            continue
        size, md5 = path.stat().st_size, _md5(path)
        old = known.get(kind)
        if old and old.status == ARCHIVED and old.key == key and old.size_bytes == size and old.md5 == md5:
            result.already.append(kind)
            continue
        if stop is not None:  # the endpoint/bucket/credentials already failed: same reason, no new wait
            store.record_archive_object(session_id, kind, key, FAILED, error=str(stop), size_bytes=size, md5=md5)
            result.failed[kind] = str(stop)
            continue
        store.record_archive_object(session_id, kind, key, PENDING, size_bytes=size, md5=md5)
        try:
            stored = archive.upload_file(path, key)
        except ArchiveError as exc:
            store.record_archive_object(session_id, kind, key, FAILED, error=str(exc), size_bytes=size, md5=md5)
            result.failed[kind] = str(exc)
            stop = exc if exc.whole_archive else None
            continue
        store.record_archive_object(
            session_id, kind, key, ARCHIVED, size_bytes=stored.size_bytes, etag=stored.etag, md5=md5
        )
        result.uploaded.append(kind)
    if result.failed:
        log.warning("%s", result.summary())
    return result


def archive_after_analysis(store: Store, settings: Settings, session_id: str) -> ArchiveResult | None:
    """The post-analysis hook: archive when configured; never raises (the reason is stored instead)."""
    archive = Archive.from_settings(settings)
    if archive is None:
        return None
    try:
        return archive_session(store, settings, session_id, archive=archive)
    except Exception as exc:
        reason = str(exc) if isinstance(exc, ArchiveError) else f"archiving failed ({type(exc).__name__}: {exc})"
        log.warning("Session %s not archived: %s", session_id, reason)
        try:
            done = {o.kind for o in store.archive_objects(session_id) if o.status == ARCHIVED}
            for kind, key in archive.session_keys(session_id).items():
                if kind not in done:
                    store.record_archive_object(session_id, kind, key, FAILED, error=reason)
        except Exception:
            log.exception("Could not record the archive failure of session %s", session_id)
        return None


def archive_all(store: Store, settings: Settings) -> list[ArchiveResult]:
    """Archive every analysed session (already archived files are skipped)."""
    archive = require_archive(settings)
    archive.check()
    rows = store.sessions(limit=None, status="analysed")
    return [archive_session(store, settings, r.id, archive=archive) for r in reversed(rows)]


def retry_pending(store: Store, settings: Settings) -> list[ArchiveResult]:
    """Upload again what failed or was interrupted. Raises ArchiveError if the archive is still down."""
    archive = require_archive(settings)
    pending = store.pending_archive_sessions()
    if not pending:
        return []
    archive.check()
    return [archive_session(store, settings, sid, archive=archive) for sid in pending if store.session(sid) is not None]


def archive_status(objects: list[ArchiveObjectRow]) -> str:
    """One phrase for a session: 'archived', 'archiving', 'not archived: <reason>' or 'not archived'."""
    failed = [o for o in objects if o.status == FAILED]
    if failed:
        return f"not archived: {failed[0].error}"
    if any(o.status == PENDING for o in objects):
        return "archiving"
    return "archived" if objects else "not archived"


def restore_session(
    store: Store, settings: Settings, session_id: str, *, archive: Archive | None = None
) -> RestoreResult:
    """Download a session's missing local files (recording, report JSON, PDF) back to their places.

    If the database has lost the analysis but the archived JSON report is there, it is imported
    again, so the dashboard can show it and the PDF can be made from it.
    """
    archive = archive or require_archive(settings)
    if store.session(session_id) is None:
        raise ArchiveError(f"No session with id {session_id}.")
    keys = archive.session_keys(session_id)
    recorded = {o.kind: o for o in store.archive_objects(session_id) if o.status == ARCHIVED}
    result = RestoreResult(session_id)
    stop: ArchiveError | None = None
    for kind, path in local_paths(store, settings, session_id).items():
        if path.is_file():
            result.present.append(kind)
            continue
        if stop is not None:
            result.unavailable[kind] = str(stop)
            continue
        # Keys are deterministic, so a file is looked for even if this database never recorded it.
        key = recorded[kind].key if kind in recorded else keys[kind]
        try:
            archive.download_file(key, path)
        except ArchiveError as exc:
            result.unavailable[kind] = "not in the archive" if exc.not_found else str(exc)
            stop = exc if exc.whole_archive else None
            continue
        result.restored.append(kind)
    report_json = local_paths(store, settings, session_id)["report"]
    if store.report_dict(session_id) is None and report_json.is_file():
        try:
            report = Report.from_dict(json.loads(report_json.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            result.unavailable["report"] = f"the archived report could not be read ({type(exc).__name__})"
        else:
            if report.session_id == session_id:
                store.save_report(report)
                result.report_reimported = True
    return result


def session_link(
    store: Store,
    settings: Settings,
    session_id: str,
    kind: str,
    expires_s: int | None = None,
    *,
    archive: Archive | None = None,
) -> str:
    """A presigned download link for one archived file of a session."""
    if kind not in KINDS:
        raise ArchiveError(f"Unknown kind {kind!r}: choose one of {', '.join(KINDS)}.")
    archive = archive or require_archive(settings)
    stored = next((o for o in store.archive_objects(session_id) if o.kind == kind and o.status == ARCHIVED), None)
    if stored is None:
        raise ArchiveError(f"The {kind} of session {session_id} is not archived (yet).")
    row = store.session(session_id)
    names = {
        "recording": Path(row.recording_path).name if row and row.recording_path else f"{session_id}-recording",
        "report": f"interview-coach-{session_id}.json",
        "pdf": f"interview-coach-{session_id}.pdf",
    }
    return archive.presign_get(stored.key, expires_s, filename=names[kind])
