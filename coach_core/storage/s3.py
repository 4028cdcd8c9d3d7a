"""The S3 client of the archive: upload, download, head and presigned links, every failure one readable reason.

Off unless a bucket is configured (``COACH_S3_BUCKET``). Credentials come from boto3's usual chain
(environment, ``~/.aws`` files, instance role) and are never logged, stored or put in a message.
Every failure becomes one readable reason, recorded per file in the store; local files are never
touched by a failed upload, so a later retry uploads whatever is missing.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import re
import threading
from dataclasses import dataclass
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
from coach_core.storage.database import LOCAL_USER

log = logging.getLogger(__name__)

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


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def owner_prefix(owner: str) -> str:
    """The part of a key that is the owner's: empty for the local user, else ``users/<16 hex>/``."""
    if owner == LOCAL_USER:
        return ""
    return f"users/{hashlib.sha256(owner.strip().lower().encode()).hexdigest()[:16]}/"


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
    def session_keys(self, session_id: str, owner: str = LOCAL_USER) -> dict[str, str]:
        """Object keys of a session's files, by kind: ``recording``, ``report`` (JSON) and ``pdf``.

        Keys depend only on the prefix, the owner and the session id, so any machine finds them. Each
        person has a prefix of their own (``users/<hash of the owner>/``; the local user keeps the
        layout made before accounts), so a bucket policy can confine a person's objects.
        """
        if not _SAFE_ID.match(session_id) or session_id in {".", ".."}:
            raise ArchiveError(f"Not a valid session id: {session_id!r}")
        base = f"{self.prefix}{owner_prefix(owner)}sessions/{session_id}/"
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

    def delete(self, keys: list[str]) -> dict[str, str]:
        """Delete these objects, one request each (any S3-compatible store takes it); an absent key counts as
        deleted. Returns the keys not deleted with the reason (empty: all gone). Stops trying when the whole
        archive fails (endpoint, bucket, credentials). With versioning on, older versions stay in the bucket.
        """
        failed: dict[str, str] = {}
        keys = list(dict.fromkeys(keys))
        for i, key in enumerate(keys):
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key)
            except Exception as exc:
                error = self.reason(exc, key)
                if error.not_found:
                    continue
                failed[key] = str(error)
                if error.whole_archive:
                    failed.update(dict.fromkeys(keys[i + 1 :], str(error)))
                    break
        return failed

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
