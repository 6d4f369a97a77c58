"""Errors of stored files, each of a kind (core.errors) that core.rest turns into HTTP in one place."""

from __future__ import annotations

from typing import ClassVar

from core.errors import Conflict, Forbidden, NotFound, Unavailable, Unprocessable


class FileNotFound(NotFound):
    """No such file, or not one this user may see."""


class FileForbidden(Forbidden):
    """The user may see the file but not do this to it."""


class UploadNotReceived(Conflict):
    """Completion was asked for, but storage holds no object for the file yet."""


class UploadRejected(Unprocessable):
    """The stored object failed the completion check; the file is now `failed`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, path=("fileId",), summary=f"The upload was rejected: {reason}")
        self.reason = reason


class StorageUnavailable(Unavailable):
    """S3 could not be reached, or failed on its side: try again later."""

    public_message: ClassVar[str] = "File storage is unavailable; try again shortly."


class StoredObjectMissing(Exception):
    """Storage has no object under the key (deleted, purged, or never uploaded)."""


class StoredObjectChanged(Exception):
    """The object under the key is no longer the one the completion check passed."""


class StoredObjectCorrupt(StoredObjectChanged):
    """The object's bytes failed their authentication (disk encryption): changed, reordered or cut short since written.

    A kind of StoredObjectChanged: whoever pinned the object the completion
    check saw treats it the same way, and no byte of it is served.
    """


class RangeNotSatisfiable(Exception):
    """A download asked for a byte range outside the file (HTTP 416)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"The range asked for is outside the file's {size} bytes.")
        self.size = size


class UploadRefused(Exception):
    """The app's own upload endpoint (disk storage) refused a POST, as S3 would."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class DownloadRefused(Exception):
    """A signed download URL of the app (disk storage) is invalid, has expired, or its file is gone.

    `code` and `status` are what S3 would answer (AccessDenied, 403, unless
    the stored bytes themselves fail their check).
    """

    def __init__(self, reason: str, *, code: str = "AccessDenied", status: int = 403) -> None:
        super().__init__(reason)
        self.code = code
        self.status = status
