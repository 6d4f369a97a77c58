"""Disk storage under MEDIA_ROOT, standing in for S3: its "presigned" URLs are signed, expiring URLs of the app.

The views behind those URLs (files/views.py) call `disk_upload_receive` and
`disk_download_grant` here, which enforce what an S3 POST policy and a
presigned GET would: the key, the type, the size, the expiry.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest
from django.urls import reverse

from files.exceptions import DownloadRefused, StoredObjectMissing, UploadRefused
from files.storage.protocol import CHUNK_SIZE, ObjectInfo, UploadTarget

_UPLOAD_SALT = "files.storage.disk-upload"
_DOWNLOAD_SALT = "files.storage.disk-download"


class DiskBackend:
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


def upload_receive(backend: DiskBackend, request: HttpRequest, token: str) -> None:
    """The disk half of `files.storage.disk_upload_receive`."""
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
class DownloadGrant:
    """What a signed disk download URL allows: one key, served under a name and a type."""

    key: str
    filename: str
    content_type: str


@dataclass(frozen=True)
class DiskDownload:
    handle: IO[bytes]
    filename: str
    content_type: str
    size: int


def download_grant(token: str) -> DownloadGrant:
    """The grant a download URL carries; DownloadRefused when it was altered or has expired.

    Whether the file may still be downloaded (not deleted since) is the
    services' question: this checks only the signature and the time.
    """
    try:
        grant = _signed(token, _DOWNLOAD_SALT)
    except _BadToken as exc:
        raise DownloadRefused(str(exc)) from None
    return DownloadGrant(key=str(grant["k"]), filename=str(grant["n"]), content_type=str(grant["t"]))


def download_open(backend: DiskBackend, grant: DownloadGrant) -> DiskDownload:
    try:
        handle = backend.open_stream(grant.key, "", "")
    except StoredObjectMissing:
        raise DownloadRefused("The file is no longer stored.") from None
    size = os.fstat(handle.fileno()).st_size
    return DiskDownload(handle=handle, filename=grant.filename, content_type=grant.content_type, size=size)
