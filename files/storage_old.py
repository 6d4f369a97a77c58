"""The one module that presigns, heads, streams and deletes stored objects, for S3 and for disk.

STORAGES["default"] decides: django-storages' S3Storage (AWS_STORAGE_BUCKET_NAME
set) or Django's FileSystemStorage (the embedded default). Both offer the same
flow: a presigned POST the browser sends the file to, a look at the object
afterwards, streaming reads and short-lived download URLs. For disk the
"presigned" URLs are signed, expiring URLs of the app itself, whose views
(files/views.py) call `disk_upload_receive` and `disk_download_open` here and
enforce what an S3 POST policy would. Nothing outside this module knows which
storage is in use.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, ParamSpec, Protocol, TypeVar
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage, storages
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest
from django.urls import reverse

from files.exceptions import (
    DownloadRefused,
    StorageUnavailable,
    StoredObjectChanged,
    StoredObjectMissing,
    UploadRefused,
)

CHUNK_SIZE = 64 * 1024
_client_lock = threading.Lock()
_MD5_HEX = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class UploadTarget:
    """Where and how the browser POSTs the file: a multipart form of `fields`, then `file`."""

    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class ObjectInfo:
    """What storage says about an object."""

    size: int
    etag: str  # without quotes
    version_id: str = ""

    @property
    def checksum(self) -> str:
        # An S3 object written in one request (POST, PUT) has the MD5 of its
        # bytes as its ETag; disk storage computes the same. Multipart or
        # SSE-KMS ETags are not digests, and are not recorded as one.
        return f"md5:{self.etag}" if _MD5_HEX.match(self.etag) else ""


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266, RFC 8187)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class _Backend(Protocol):
    def location(self) -> tuple[str, str]: ...
    def presign_upload(self, key: str, content_type: str, max_size: int, expires_in: int) -> UploadTarget: ...
    def head(self, key: str) -> ObjectInfo | None: ...
    def read_range(self, key: str, start: int, length: int, etag: str) -> bytes: ...
    def open_stream(self, key: str, etag: str, version_id: str) -> IO[bytes]: ...
    def save(self, key: str, content: bytes, content_type: str) -> ObjectInfo: ...
    def delete(self, key: str) -> None: ...
    def presign_download(self, key: str, filename: str, content_type: str, expires_in: int, version_id: str) -> str: ...


# --- S3 -------------------------------------------------------------------

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _s3_errors(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """S3 unreachable or failing on its side becomes StorageUnavailable; its refusals stay as they are."""

    @functools.wraps(method)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except BotoCoreError as exc:
            raise StorageUnavailable(f"Storage could not be reached: {exc}") from exc
        except ClientError as exc:
            if _status(exc) >= 500:
                raise StorageUnavailable(f"Storage failed: {exc}") from exc
            raise

    return call


class _S3Backend:
    """django-storages' S3Storage supplies the bucket, credentials and client configuration."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    @property
    def client(self) -> Any:
        # One client per storage for every thread: boto3 clients are
        # thread-safe, while the storage's own resource is per thread, and a
        # server that starts a thread per request would build one (reading
        # botocore's models again) for each request.
        client = vars(self.storage).get("_files_s3_client")
        if client is None:
            with _client_lock:
                client = vars(self.storage).get("_files_s3_client")
                if client is None:
                    client = self.storage.connection.meta.client
                    vars(self.storage)["_files_s3_client"] = client
        return client

    def _key(self, key: str) -> str:
        # The storage's own mapping of a name to an object key (AWS_LOCATION prefix).
        return str(self.storage._normalize_name(key))

    def location(self) -> tuple[str, str]:
        return str(self.storage.bucket_name), str(self.client.meta.region_name or "")

    def presign_upload(self, key: str, content_type: str, max_size: int, expires_in: int) -> UploadTarget:
        # A POST policy, unlike a presigned PUT, can pin the size: S3 refuses
        # a body outside content-length-range, another key or another type.
        post = self.client.generate_presigned_post(
            Bucket=self.storage.bucket_name,
            Key=self._key(key),
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_size]],
            ExpiresIn=expires_in,
        )
        return UploadTarget(url=post["url"], fields={name: str(value) for name, value in post["fields"].items()})

    @_s3_errors
    def head(self, key: str) -> ObjectInfo | None:
        try:
            found = self.client.head_object(Bucket=self.storage.bucket_name, Key=self._key(key))
        except ClientError as exc:
            if _status(exc) == 404:
                return None
            raise
        return ObjectInfo(
            size=int(found["ContentLength"]),
            etag=str(found.get("ETag", "")).strip('"'),
            version_id=str(found.get("VersionId") or ""),
        )

    @_s3_errors
    def read_range(self, key: str, start: int, length: int, etag: str) -> bytes:
        params = {
            "Bucket": self.storage.bucket_name,
            "Key": self._key(key),
            "Range": f"bytes=-{length}" if start < 0 else f"bytes={start}-{start + length - 1}",
        }
        if etag:
            params["IfMatch"] = f'"{etag}"'
        try:
            found = self.client.get_object(**params)
        except ClientError as exc:
            if _status(exc) == 404:
                raise StoredObjectMissing(key) from exc
            if _status(exc) == 412:
                raise StoredObjectChanged(key) from exc
            if _status(exc) == 416:  # an empty object
                return b""
            raise
        body = found["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    @_s3_errors
    def open_stream(self, key: str, etag: str, version_id: str) -> IO[bytes]:
        params: dict[str, str] = {"Bucket": self.storage.bucket_name, "Key": self._key(key)}
        # Pin the object the completion check passed: an upload URL still
        # valid could have replaced it since.
        if etag:
            params["IfMatch"] = f'"{etag}"'
        if version_id:
            params["VersionId"] = version_id
        try:
            found = self.client.get_object(**params)
        except ClientError as exc:
            if _status(exc) == 404:
                raise StoredObjectMissing(key) from exc
            if _status(exc) == 412:
                raise StoredObjectChanged(key) from exc
            raise
        body: IO[bytes] = found["Body"]
        return body

    @_s3_errors
    def save(self, key: str, content: bytes, content_type: str) -> ObjectInfo:
        written = self.client.put_object(
            Bucket=self.storage.bucket_name, Key=self._key(key), Body=content, ContentType=content_type
        )
        return ObjectInfo(
            size=len(content),
            etag=str(written.get("ETag", "")).strip('"'),
            version_id=str(written.get("VersionId") or ""),
        )

    @_s3_errors
    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.storage.bucket_name, Key=self._key(key))

    def presign_download(self, key: str, filename: str, content_type: str, expires_in: int, version_id: str) -> str:
        params = {
            "Bucket": self.storage.bucket_name,
            "Key": self._key(key),
            "ResponseContentDisposition": content_disposition(filename),
            "ResponseContentType": content_type,
        }
        if version_id:
            params["VersionId"] = version_id
        return str(self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))


def _status(exc: ClientError) -> int:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    if code in ("NoSuchKey", "NotFound", "404"):
        return 404
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


# --- Disk -----------------------------------------------------------------

_UPLOAD_SALT = "files.storage.disk-upload"
_DOWNLOAD_SALT = "files.storage.disk-download"


class _DiskBackend:
    """Django's FileSystemStorage under MEDIA_ROOT; URLs are signed, expiring views of the app."""

    def __init__(self, storage: FileSystemStorage) -> None:
        self.storage = storage

    def path(self, key: str) -> str:
        # FileSystemStorage.path refuses any name that leaves MEDIA_ROOT.
        return self.storage.path(key)

    def location(self) -> tuple[str, str]:
        return "", ""

    def presign_upload(self, key: str, content_type: str, max_size: int, expires_in: int) -> UploadTarget:
        token = signing.dumps(
            {"k": key, "t": content_type, "m": max_size, "x": int(time.time()) + expires_in}, salt=_UPLOAD_SALT
        )
        return UploadTarget(
            url=reverse("files:disk-upload", args=[token]), fields={"key": key, "Content-Type": content_type}
        )

    def head(self, key: str) -> ObjectInfo | None:
        try:
            with open(self.path(key), "rb") as handle:
                digest = hashlib.file_digest(handle, lambda: hashlib.md5(usedforsecurity=False))
                size = handle.tell()
        except FileNotFoundError:
            return None
        return ObjectInfo(size=size, etag=digest.hexdigest())

    def read_range(self, key: str, start: int, length: int, etag: str) -> bytes:
        try:
            with open(self.path(key), "rb") as handle:
                if start < 0:
                    handle.seek(0, os.SEEK_END)
                    handle.seek(max(handle.tell() - length, 0))
                else:
                    handle.seek(start)
                return handle.read(length)
        except FileNotFoundError as exc:
            raise StoredObjectMissing(key) from exc

    def open_stream(self, key: str, etag: str, version_id: str) -> IO[bytes]:
        # Disk uploads never replace an object (see _publish), so the file the
        # completion check read is the one still there.
        try:
            return open(self.path(key), "rb")
        except FileNotFoundError as exc:
            raise StoredObjectMissing(key) from exc

    def save(self, key: str, content: bytes, content_type: str) -> ObjectInfo:
        final = self.path(key)
        temp = _temp_path(final)
        with open(temp, "wb") as handle:
            handle.write(content)
        _publish(temp, final)
        return ObjectInfo(size=len(content), etag=hashlib.md5(content, usedforsecurity=False).hexdigest())

    def delete(self, key: str) -> None:
        try:
            os.remove(self.path(key))
        except FileNotFoundError:
            pass

    def presign_download(self, key: str, filename: str, content_type: str, expires_in: int, version_id: str) -> str:
        token = signing.dumps(
            {"k": key, "n": filename, "t": content_type, "x": int(time.time()) + expires_in}, salt=_DOWNLOAD_SALT
        )
        return reverse("files:disk-download", args=[token])


def _temp_path(final: str) -> str:
    os.makedirs(os.path.dirname(final), exist_ok=True)
    return f"{final}.{uuid.uuid4().hex}.part"


def _publish(temp: str, final: str) -> None:
    """Move a finished upload into place; an object already there is never replaced.

    S3 lets a still-valid POST overwrite an object; here the first upload
    wins, so a verified file cannot be swapped after its completion check.
    """
    try:
        fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.remove(temp)
        raise UploadRefused("An object already exists under this key.", status=409) from None
    os.close(fd)
    os.replace(temp, final)
    mode = settings.FILE_UPLOAD_PERMISSIONS
    if mode is not None:
        os.chmod(final, mode)


@dataclass(frozen=True)
class _UploadGrant:
    key: str
    content_type: str
    max_size: int


class _BadToken(ValueError):
    """A signed URL's token was tampered with or has expired."""


def _signed(token: str, salt: str) -> dict[str, Any]:
    """The grant a signed URL carries; _BadToken if it was altered or its time is up."""
    try:
        grant = signing.loads(token, salt=salt)
    except signing.BadSignature:
        raise _BadToken("The link is invalid.") from None
    if not isinstance(grant, dict) or int(grant.get("x", 0)) < time.time():
        raise _BadToken("The link has expired.")
    return grant


class _DiskUploadHandler(FileUploadHandler):
    """Streams the `file` part to a temporary file beside its destination, counting bytes.

    Nothing is held in memory beyond one chunk; the upload stops as soon as
    it passes the size limit.
    """

    chunk_size = CHUNK_SIZE

    def __init__(self, request: HttpRequest, grant: _UploadGrant, final: str) -> None:
        super().__init__(request)
        self.grant = grant
        self.final = final
        self.temp = ""
        self.handle: IO[bytes] | None = None
        self.received = 0
        self.files = 0

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.files += 1
        if field_name != "file" or self.files > 1:
            raise UploadRefused("The form must carry exactly one file, in the field named 'file'.")
        self.temp = _temp_path(self.final)
        self.handle = open(self.temp, "wb")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        assert self.handle is not None
        self.received += len(raw_data)
        if self.received > self.grant.max_size:
            raise UploadRefused(
                f"EntityTooLarge: Your proposed upload exceeds the maximum allowed size of {self.grant.max_size} bytes."
            )
        self.handle.write(raw_data)

    def file_complete(self, file_size: int) -> UploadedFile:
        assert self.handle is not None
        self.handle.close()
        return UploadedFile(file=None, name=self.file_name, size=file_size)

    def cleanup(self) -> None:
        if self.handle is not None and not self.handle.closed:
            self.handle.close()
        if self.temp and os.path.exists(self.temp):
            os.remove(self.temp)


# A multipart form's fields and boundaries around the file: generous.
_FORM_OVERHEAD = 64 * 1024


def disk_upload_receive(*, request: HttpRequest, token: str) -> None:
    """Accept a browser's multipart POST to a signed disk upload URL, as S3 accepts a presigned POST.

    Raises UploadRefused (with the HTTP status S3 would answer) when the URL
    is tampered with or expired, when the form's key or Content-Type is not
    the one signed, or when the file is empty or larger than the limit.
    """
    backend = _backend()
    if not isinstance(backend, _DiskBackend):
        raise UploadRefused("Uploads go straight to S3, not through this app.", status=404)
    try:
        raw = _signed(token, _UPLOAD_SALT)
    except _BadToken as exc:
        raise UploadRefused(f"AccessDenied: {exc}", status=403) from None
    grant = _UploadGrant(key=str(raw["k"]), content_type=str(raw["t"]), max_size=int(raw["m"]))
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > grant.max_size + _FORM_OVERHEAD:
        raise UploadRefused(
            f"EntityTooLarge: Your proposed upload exceeds the maximum allowed size of {grant.max_size} bytes."
        )
    handler = _DiskUploadHandler(request, grant, backend.path(grant.key))
    request.upload_handlers = [handler]
    try:
        fields, files = request.POST, request.FILES
        if fields.get("key") != grant.key:
            raise UploadRefused("AccessDenied: Invalid according to Policy: Policy Condition failed: key", status=403)
        if fields.get("Content-Type") != grant.content_type:
            raise UploadRefused(
                "AccessDenied: Invalid according to Policy: Policy Condition failed: Content-Type", status=403
            )
        if "file" not in files:
            raise UploadRefused("InvalidArgument: POST requires exactly one file upload per request.")
        if handler.received < 1:
            raise UploadRefused("EntityTooSmall: Your proposed upload is smaller than the minimum allowed size.")
        _publish(handler.temp, handler.final)
    finally:
        handler.cleanup()


@dataclass(frozen=True)
class DiskDownload:
    handle: IO[bytes]
    filename: str
    content_type: str
    size: int


def disk_download_open(*, token: str) -> DiskDownload:
    """The file a signed disk download URL names, open for streaming; DownloadRefused if it is not valid."""
    backend = _backend()
    if not isinstance(backend, _DiskBackend):
        raise DownloadRefused("Downloads come straight from S3, not through this app.")
    try:
        grant = _signed(token, _DOWNLOAD_SALT)
    except _BadToken as exc:
        raise DownloadRefused(str(exc)) from None
    try:
        handle = backend.open_stream(str(grant["k"]), "", "")
    except StoredObjectMissing:
        raise DownloadRefused("The file is no longer stored.") from None
    size = os.fstat(handle.fileno()).st_size
    return DiskDownload(handle=handle, filename=str(grant["n"]), content_type=str(grant["t"]), size=size)


# --- The operations the services use --------------------------------------


def _backend() -> _Backend:
    storage = storages["default"]
    if isinstance(storage, FileSystemStorage):
        return _DiskBackend(storage)
    return _S3Backend(storage)


def storage_location() -> tuple[str, str]:
    """(bucket, region) of the configured storage; empty strings for disk."""
    return _backend().location()


def presign_upload(*, key: str, content_type: str, max_size: int, expires_in: int) -> UploadTarget:
    """A URL and form fields for one browser POST of at most `max_size` bytes of `content_type` to `key`."""
    return _backend().presign_upload(key, content_type, max_size, expires_in)


def head(*, key: str) -> ObjectInfo | None:
    """Size, ETag and version of the object at `key`, or None when there is none."""
    return _backend().head(key)


def read_range(*, key: str, start: int, length: int, etag: str = "") -> bytes:
    """`length` bytes from `start`, or the last `length` bytes when `start` is negative.

    With `etag`, S3 reads only that object (StoredObjectChanged otherwise).
    """
    return _backend().read_range(key, start, length, etag)


@contextmanager
def open_stream(*, key: str, etag: str = "", version_id: str = "") -> Iterator[IO[bytes]]:
    """The object's bytes as a stream, read in chunks; StoredObjectMissing when it is gone.

    With `etag` (and `version_id`), S3 serves only that exact object and
    StoredObjectChanged is raised if it was replaced.
    """
    stream = _backend().open_stream(key, etag, version_id)
    try:
        yield stream
    finally:
        stream.close()


def save(*, key: str, content: bytes, content_type: str) -> ObjectInfo:
    """Store bytes the app already holds (inline email attachments) under `key`."""
    return _backend().save(key, content, content_type)


def delete(*, key: str) -> None:
    """Remove the object; nothing happens when there is none."""
    _backend().delete(key)


def presign_download(*, key: str, filename: str, content_type: str, expires_in: int, version_id: str = "") -> str:
    """A short-lived GET URL that downloads the object as an attachment named `filename`."""
    return _backend().presign_download(key, filename, content_type, expires_in, version_id)
