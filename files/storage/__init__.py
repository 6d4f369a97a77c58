"""The one place that presigns, heads, streams and deletes stored objects, for S3 and for disk.

STORAGES["default"] decides: django-storages' S3Storage (AWS_STORAGE_BUCKET_NAME
set, files.storage.s3) or Django's FileSystemStorage (the embedded default,
files.storage.disk). Both offer the same flow: a presigned POST the browser
sends the file to, a look at the object afterwards, streaming reads and
short-lived download URLs. Nothing outside this package knows which storage
is in use. Both keep files encrypted at rest: S3 by server-side encryption
(FILE_S3_SSE), disk by the app's own seal (files.storage.sealed) when
FILE_ENCRYPTION_KEY is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from django.core.files.storage import FileSystemStorage, storages
from django.http import HttpRequest

from files.exceptions import DownloadRefused, UploadRefused
from files.storage import disk
from files.storage.disk import DiskBackend, DiskDownload, DownloadGrant
from files.storage.protocol import Backend, ObjectInfo, UploadTarget, content_disposition
from files.storage.s3 import S3Backend

__all__ = [
    "DiskDownload",
    "DownloadGrant",
    "ObjectInfo",
    "UploadTarget",
    "content_disposition",
    "delete",
    "disk_download_grant",
    "disk_download_open",
    "disk_upload_receive",
    "head",
    "open_stream",
    "presign_download",
    "presign_upload",
    "read_range",
    "reseal",
    "save",
    "storage_location",
]


def _backend() -> Backend:
    storage = storages["default"]
    if isinstance(storage, FileSystemStorage):
        return DiskBackend(storage)
    return S3Backend(storage)


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


def reseal(*, key: str) -> bool:
    """Seal the object with FILE_ENCRYPTION_KEY if it is plain or sealed with an older key (disk); whether it was.

    StoredObjectCorrupt when its bytes fail their check on the way.
    """
    return _backend().reseal(key)


def delete(*, key: str) -> None:
    """Remove the object; nothing happens when there is none."""
    _backend().delete(key)


def presign_download(*, key: str, filename: str, content_type: str, expires_in: int, version_id: str = "") -> str:
    """A short-lived GET URL that downloads the object as an attachment named `filename`."""
    return _backend().presign_download(key, filename, content_type, expires_in, version_id)


def disk_upload_receive(*, request: HttpRequest, token: str) -> None:
    """Accept a browser's multipart POST to a signed disk upload URL, as S3 accepts a presigned POST.

    Raises UploadRefused (with the HTTP status S3 would answer) when the URL
    is tampered with or expired, when the form's key or Content-Type is not
    the one signed, or when the file is empty or larger than the limit.
    """
    backend = _backend()
    if not isinstance(backend, DiskBackend):
        raise UploadRefused("Uploads go straight to S3, not through this app.", status=404)
    disk.upload_receive(backend, request, token)


def disk_download_grant(*, token: str) -> DownloadGrant:
    """What a signed disk download URL names; DownloadRefused when it is not valid or storage is not disk."""
    if not isinstance(_backend(), DiskBackend):
        raise DownloadRefused("Downloads come straight from S3, not through this app.")
    return disk.download_grant(token)


def disk_download_open(*, grant: DownloadGrant, range_header: str = "") -> DiskDownload:
    """The granted file (or the byte range `range_header` asks for), open for streaming.

    DownloadRefused when it is gone or its stored bytes fail their check;
    RangeNotSatisfiable when the range lies outside it.
    """
    backend = _backend()
    if not isinstance(backend, DiskBackend):
        raise DownloadRefused("Downloads come straight from S3, not through this app.")
    return disk.download_open(backend, grant, range_header)
