"""Domain errors of stored files; files/api.py turns them into HTTP answers in one place."""

from __future__ import annotations


class FileError(Exception):
    """Base of the errors a caller can act on."""


class FileNotFound(FileError):
    """No such file, or not one this user may see."""


class FileForbidden(FileError):
    """The user may see the file but not do this to it."""


class UploadNotReceived(FileError):
    """Completion was asked for, but storage holds no object for the file yet."""


class UploadRejected(FileError):
    """The stored object failed the completion check; the file is now `failed`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StoredObjectMissing(FileError):
    """Storage has no object under the key (deleted, purged, or never uploaded)."""


class StoredObjectChanged(FileError):
    """The object under the key is no longer the one the completion check passed."""


class StorageUnavailable(FileError):
    """S3 could not be reached, or failed on its side: try again later."""


class UploadRefused(FileError):
    """The app's own upload endpoint (disk storage) refused a POST, as S3 would."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class DownloadRefused(FileError):
    """A signed download URL of the app (disk storage) is invalid or has expired."""


class AttachmentUnavailable(FileError):
    """An attachment could not be read from storage when the email was built."""
