"""Disk storage under MEDIA_ROOT, standing in for S3: its "presigned" URLs are signed, expiring URLs of the app.

The views behind those URLs (files/views.py) call `disk_upload_receive` and
`disk_download_grant` here, which enforce what an S3 POST policy and a
presigned GET would: the key, the type, the size, the expiry.

With FILE_ENCRYPTION_KEY set, every file written here is sealed
(files.storage.sealed) as it streams in, and read back through the same
format: sizes, checksums, ranges and downloads are of the plaintext. Files
written before the key was set stay plain and are read as they are.
"""

from __future__ import annotations

import hashlib
import io
import logging
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

from files.exceptions import DownloadRefused, StoredObjectCorrupt, StoredObjectMissing, UploadRefused
from files.storage.protocol import CHUNK_SIZE, ObjectInfo, UploadTarget
from files.storage.ranges import RangeReader, byte_range
from files.storage.sealed import (
    HEADER_SIZE,
    MAGIC,
    SEGMENT_SIZE,
    Keyring,
    SealedReader,
    SealedWriter,
    is_sealed,
    read_all,
)

logger = logging.getLogger(__name__)

_UPLOAD_SALT = "files.storage.disk-upload"
_DOWNLOAD_SALT = "files.storage.disk-download"


class DiskBackend:
    """Django's FileSystemStorage under MEDIA_ROOT; URLs are signed, expiring views of the app."""

    def __init__(self, storage: FileSystemStorage, keyring: Keyring | None = None) -> None:
        self.storage = storage
        self.keyring = keyring or Keyring.of(
            settings.FILE_ENCRYPTION_KEY,
            settings.FILE_ENCRYPTION_PREVIOUS_KEYS,
            plain_readable=settings.FILE_ENCRYPTION_ALLOW_PLAIN,
        )

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

    def opened(self, key: str, *, verify_ends: bool = True, allow_plain: bool = False) -> tuple[IO[bytes], int]:
        """The file's plaintext, open for reading, and its size; StoredObjectMissing when there is none.

        A sealed file is decrypted as it is read (StoredObjectCorrupt on the
        first segment that fails its check); a plain one is the file itself,
        if plain files are still read (or `allow_plain`: to seal one).
        """
        try:
            raw = open(self.path(key), "rb")
        except FileNotFoundError as exc:
            raise StoredObjectMissing(key) from exc
        try:
            if not is_sealed(raw.read(len(MAGIC))):
                if not (allow_plain or self.keyring.plain_readable):
                    raise StoredObjectCorrupt(f"{key} is not sealed, and FILE_ENCRYPTION_ALLOW_PLAIN is false.")
                raw.seek(0)
                return raw, os.fstat(raw.fileno()).st_size
            raw.seek(0)
            plain = SealedReader(raw, self.keyring, name=key, verify_ends=verify_ends)
        except BaseException:
            raw.close()
            raise
        return io.BufferedReader(plain, buffer_size=SEGMENT_SIZE), plain.size

    def head(self, key: str) -> ObjectInfo | None:
        # Reading a sealed file whole also authenticates every segment of it.
        try:
            handle, size = self.opened(key, verify_ends=False)
        except StoredObjectMissing:
            return None
        digest = hashlib.md5(usedforsecurity=False)
        with handle:
            while chunk := handle.read(SEGMENT_SIZE):
                digest.update(chunk)
        return ObjectInfo(size=size, etag=digest.hexdigest())

    def read_range(self, key: str, start: int, length: int, etag: str) -> bytes:
        # Only the segments of a sealed file that hold the range are decrypted.
        handle, size = self.opened(key, verify_ends=False)
        with handle:
            handle.seek(max(size - length, 0) if start < 0 else start)
            return read_all(handle, length)

    def open_stream(self, key: str, etag: str, version_id: str) -> IO[bytes]:
        # Disk uploads never replace an object (see _publish), so the file the
        # completion check read is the one still there.
        return self.opened(key)[0]

    def writer(self, path: str) -> IO[bytes] | SealedWriter:
        """A new file at `path`, sealed when a key is configured."""
        raw = open(path, "wb")
        return raw if self.keyring.current is None else SealedWriter(raw, self.keyring.current)

    def save(self, key: str, content: bytes, content_type: str) -> ObjectInfo:
        final = self.path(key)
        temp = _temp_path(final)
        handle = self.writer(temp)
        try:
            for at in range(0, len(content), CHUNK_SIZE):
                handle.write(content[at : at + CHUNK_SIZE])
        finally:
            handle.close()
        _publish(temp, final)
        return ObjectInfo(size=len(content), etag=hashlib.md5(content, usedforsecurity=False).hexdigest())

    def reseal(self, key: str) -> bool:
        """Seal a plain file, or one sealed with an older key, with the current key; whether it was rewritten.

        The plaintext is checked as it is read (StoredObjectCorrupt stops it)
        and the new file replaces the old one in one rename.
        """
        current = self.keyring.current
        final = self.path(key)
        try:
            with open(final, "rb") as raw:
                header = raw.read(HEADER_SIZE)
        except FileNotFoundError:
            return False
        if current is None or self.keyring.is_current(header):
            return False
        temp = _temp_path(final)
        handle, _ = self.opened(key, allow_plain=True)
        writer = SealedWriter(open(temp, "wb"), current)
        try:
            with handle:
                while chunk := handle.read(SEGMENT_SIZE):
                    writer.write(chunk)
            writer.close()
        except BaseException:
            writer.abandon()
            os.remove(temp)
            raise
        if not os.path.exists(final):  # deleted (purged) meanwhile: do not bring it back
            os.remove(temp)
            return False
        os.replace(temp, final)
        _chmod(final)
        return True

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
    _chmod(final)


def _chmod(final: str) -> None:
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

    def __init__(self, request: HttpRequest, backend: DiskBackend, grant: _UploadGrant, final: str) -> None:
        super().__init__(request)
        self.backend = backend
        self.grant = grant
        self.final = final
        self.temp = ""
        self.handle: IO[bytes] | SealedWriter | None = None
        self.received = 0
        self.files = 0

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.files += 1
        if field_name != "file" or self.files > 1:
            raise UploadRefused("The form must carry exactly one file, in the field named 'file'.")
        self.temp = _temp_path(self.final)
        self.handle = self.backend.writer(self.temp)

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
        if isinstance(self.handle, SealedWriter):
            self.handle.abandon()
        elif self.handle is not None and not self.handle.closed:
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
    handler = _DiskUploadHandler(request, backend, grant, backend.path(grant.key))
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
    """A granted file open for streaming: `length` bytes from `start` of its `size`, all of it unless `partial`."""

    handle: IO[bytes]
    filename: str
    content_type: str
    size: int
    length: int
    start: int = 0
    partial: bool = False


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


def download_open(backend: DiskBackend, grant: DownloadGrant, range_header: str = "") -> DiskDownload:
    """The granted file, or the one byte range of it that `range_header` asks for (RangeNotSatisfiable if outside)."""
    try:
        handle, size = backend.opened(grant.key)
    except StoredObjectMissing:
        raise DownloadRefused("The file is no longer stored.") from None
    except StoredObjectCorrupt as exc:
        logger.error("Refused to serve %s: %s", grant.key, exc)
        raise DownloadRefused(
            "The stored file failed its integrity check; it is not served.", code="InternalError", status=500
        ) from None
    found = DiskDownload(
        handle=handle, filename=grant.filename, content_type=grant.content_type, size=size, length=size
    )
    try:
        wanted = byte_range(range_header, size)
    except BaseException:
        handle.close()
        raise
    if wanted is None:
        return found
    start, length = wanted
    handle.seek(start)
    return DiskDownload(
        handle=io.BufferedReader(RangeReader(handle, length)),
        filename=grant.filename,
        content_type=grant.content_type,
        size=size,
        start=start,
        length=length,
        partial=True,
    )
