"""What every storage offers the services: upload targets, object facts, and the operations (a Protocol)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import IO, Protocol
from urllib.parse import quote

CHUNK_SIZE = 64 * 1024
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


class Backend(Protocol):
    """One storage: S3 (files.storage.s3) or disk (files.storage.disk)."""

    def location(self) -> tuple[str, str]: ...
    def presign_upload(self, key: str, content_type: str, max_size: int, expires_in: int) -> UploadTarget: ...
    def head(self, key: str) -> ObjectInfo | None: ...
    def read_range(self, key: str, start: int, length: int, etag: str) -> bytes: ...
    def open_stream(self, key: str, etag: str, version_id: str) -> IO[bytes]: ...
    def save(self, key: str, content: bytes, content_type: str) -> ObjectInfo: ...
    def delete(self, key: str) -> None: ...
    def reseal(self, key: str) -> bool: ...
    def presign_download(self, key: str, filename: str, content_type: str, expires_in: int, version_id: str) -> str: ...
