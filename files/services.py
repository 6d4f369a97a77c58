"""Writes of stored files: the upload flow, storing bytes the app holds, downloads, deletion, the purge."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core.errors import FieldError
from files import storage
from files.choices import FileStatus
from files.exceptions import (
    DownloadRefused,
    FileForbidden,
    FileNotFound,
    StoredObjectChanged,
    StoredObjectCorrupt,
    UploadNotReceived,
    UploadRejected,
)
from files.inspection import content_problem
from files.models import File, FileTag
from files.naming import file_key, name_sanitise
from files.selectors import files_downloadable_by, files_manageable_by, files_visible_to
from files.usage import UNUSED, file_usage
from files.validation import upload_request_check

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadStart:
    file: File
    target: storage.UploadTarget
    expires_in: int


def file_upload_start(
    *,
    owner: User,
    file_name: str,
    content_type: str,
    category: str,
    max_size: int | None = None,
    is_public: bool = False,
    metadata: Mapping[str, Any] | None = None,
    client_id: str = "",
    department_id: str = "",
    ip: str | None = None,
    user_agent: str = "",
    problems: Sequence[FieldError] = (),
) -> UploadStart:
    """Check the request (every rule, every problem at once), record a file as `uploading`, presign its POST.

    `problems` are what the caller could not parse, reported with the rest.
    """
    max_size = max_size or settings.FILE_DEFAULT_MAX_SIZE_BYTES
    upload_request_check(
        file_name=file_name,
        content_type=content_type,
        category=category,
        max_size=max_size,
        metadata=metadata or {},
        client_id=client_id,
        department_id=department_id,
        problems=problems,
    )
    metadata = {str(key): str(value) for key, value in (metadata or {}).items()}
    tags = sorted({tag.strip().lower()[:50] for tag in metadata.pop("tags", "").split(",") if tag.strip()})
    file_id = uuid.uuid4()
    bucket, region = storage.storage_location()
    expires_in = settings.FILE_UPLOAD_URL_EXPIRES_SECONDS
    with transaction.atomic():
        file = File.objects.create(
            id=file_id,
            key=file_key(category=category, owner_id=owner.pk, file_id=file_id, name=file_name),
            file_name=name_sanitise(file_name),
            original_name=file_name,
            content_type=content_type,
            max_size=max_size,
            category=category,
            is_public=is_public,
            owner=owner,
            uploaded_by=owner,
            client_id=client_id,
            department_id=department_id,
            uploader_ip=ip,
            user_agent=user_agent[:500],
            extra_metadata=metadata,
            bucket=bucket,
            region=region,
            expires_at=None,
        )
        FileTag.objects.bulk_create(FileTag(file=file, name=tag) for tag in tags)
    target = storage.presign_upload(key=file.key, content_type=content_type, max_size=max_size, expires_in=expires_in)
    return UploadStart(file=file, target=target, expires_in=expires_in)


def file_upload_finish(*, user: User | AnonymousUser, file_id: uuid.UUID) -> File:
    """Check the uploaded object itself and mark the file `completed`, or `failed` and delete the object.

    Size comes from storage, never from the client; the type from the
    object's magic bytes, which must match the declared type. Completing a
    completed file again is a no-op.
    """
    with transaction.atomic():
        try:
            # Only the uploader completes an upload.
            file = files_visible_to(user).select_for_update().get(pk=file_id, owner_id=user.pk)
        except File.DoesNotExist:
            raise FileNotFound("File not found") from None
        if file.status == FileStatus.COMPLETED:
            return file
        if file.status == FileStatus.FAILED:
            raise UploadRejected(file.failure_reason)
        if file.status == FileStatus.DELETED:
            raise FileNotFound("File not found")
        problem: str | None
        try:
            info = storage.head(key=file.key)
        except StoredObjectCorrupt as exc:
            logger.error("Upload %s failed its integrity check in storage: %s", file.pk, exc)
            info, problem = storage.ObjectInfo(size=0, etag=""), "The stored file failed its integrity check."
        else:
            if info is None:
                raise UploadNotReceived("No upload has reached storage for this file yet.")
            problem = _upload_problem(file, info)
        now = timezone.now()
        if problem is None:
            file.status = FileStatus.COMPLETED
            file.size = info.size
            file.etag = info.etag
            file.version_id = info.version_id
            file.checksum = info.checksum
            file.completed_at = now
            file.save(update_fields=["status", "size", "etag", "version_id", "checksum", "completed_at", "updated_at"])
            return file
        storage.delete(key=file.key)
        file.status = FileStatus.FAILED
        file.size = info.size
        file.failure_reason = problem
        file.save(update_fields=["status", "size", "failure_reason", "updated_at"])
    logger.info("Upload %s refused: %s", file.pk, problem)
    raise UploadRejected(problem)


def _upload_problem(file: File, info: storage.ObjectInfo) -> str | None:
    limit = min(file.max_size, settings.FILE_MAX_SIZE_BYTES)
    if info.size < 1:
        return "The uploaded file is empty."
    if info.size > limit:
        return f"The uploaded file is {info.size} bytes, over its limit of {limit} bytes."
    # Every read is of the object HEAD described, so the checked bytes and the
    # recorded size and ETag belong together.
    try:
        return content_problem(
            content_type=file.content_type,
            size=info.size,
            read=lambda start, length: storage.read_range(key=file.key, start=start, length=length, etag=info.etag),
        )
    except StoredObjectChanged:
        return "The uploaded file was replaced while it was being checked."


@dataclass(frozen=True)
class DownloadLink:
    url: str
    file: File
    expires_in: int


def file_download_url(*, user: User | AnonymousUser, file_id: uuid.UUID) -> DownloadLink:
    """A short-lived URL that downloads a completed file under its original name; counts the download."""
    try:
        file = files_downloadable_by(user).get(pk=file_id, status=FileStatus.COMPLETED)
    except File.DoesNotExist:
        raise FileNotFound("File not found") from None
    now = timezone.now()
    if file.expires_at is not None and file.expires_at <= now:
        raise FileForbidden("This file can no longer be downloaded: its access has expired.")
    expires_in = settings.FILE_DOWNLOAD_URL_EXPIRES_SECONDS
    url = storage.presign_download(
        key=file.key,
        filename=file.original_name,
        content_type=file.content_type,
        expires_in=expires_in,
        version_id=file.version_id,
    )
    File.objects.filter(pk=file.pk).update(download_count=F("download_count") + 1, last_accessed_at=now)
    file.download_count += 1
    file.last_accessed_at = now
    return DownloadLink(url=url, file=file, expires_in=expires_in)


def file_disk_download(*, token: str, range_header: str = "") -> storage.DiskDownload:
    """The file a signed disk download URL names (or one byte range of it), while the file may still be downloaded.

    The URL was issued for an hour; a file deleted (or expired) since is
    refused at once, as a presigned S3 URL cannot be (its object stays
    until the purge).
    """
    grant = storage.disk_download_grant(token=token)
    now = timezone.now()
    usable = File.objects.filter(key=grant.key, status=FileStatus.COMPLETED).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    if not usable.exists():
        raise DownloadRefused("The file is no longer available.")
    return storage.disk_download_open(grant=grant, range_header=range_header)


def file_delete(*, user: User | AnonymousUser, file_id: uuid.UUID) -> File:
    """Soft delete: the file disappears from lists at once; the purge removes its object later."""
    with transaction.atomic():
        try:
            file = files_manageable_by(user).select_for_update().exclude(status=FileStatus.DELETED).get(pk=file_id)
        except File.DoesNotExist:
            if files_downloadable_by(user).filter(pk=file_id).exclude(status=FileStatus.DELETED).exists():
                raise FileForbidden("Only the file's owner can delete it.") from None
            raise FileNotFound("File not found") from None
        file.status = FileStatus.DELETED
        file.deleted_at = timezone.now()
        file.save(update_fields=["status", "deleted_at", "updated_at"])
    return file


# --- Purge ----------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    deleted: int  # objects of files deleted longer than the retention period
    abandoned: int  # uploads never completed (or failed) after FILE_UPLOAD_STALE_HOURS


def files_purge_candidates(*, now: datetime | None = None) -> QuerySet[File]:
    """Files whose objects are due for removal from storage."""
    now = now or timezone.now()
    retention = now - timedelta(days=settings.FILE_PURGE_RETENTION_DAYS)
    stale = now - timedelta(hours=settings.FILE_UPLOAD_STALE_HOURS)
    return File.objects.filter(purged_at__isnull=True).filter(
        Q(status=FileStatus.DELETED, deleted_at__lt=retention)
        # Failed uploads lost their object at once, but a still-valid upload
        # URL may have put one back since.
        | Q(status__in=[FileStatus.UPLOADING, FileStatus.FAILED], created_at__lt=stale)
    )


def files_purge(*, now: datetime | None = None, progress: Callable[[int, int], None] | None = None) -> PurgeResult:
    """Delete from storage the objects of long-deleted files and of uploads never completed.

    The rows stay (an email's attachment list still names them), marked
    `purged_at`; uploads never completed become `failed`. A deleted file
    that mail still waiting to be sent carries (a send scheduled further
    ahead than the retention) keeps its object until that mail has gone.
    """
    now = now or timezone.now()
    due = list(files_purge_candidates(now=now).order_by("created_at").values_list("pk", "key", "status"))
    in_use = file_usage(file_ids=[pk for pk, _, status in due if status == FileStatus.DELETED])
    due = [row for row in due if not in_use.get(row[0], UNUSED).waiting]
    deleted = abandoned = 0
    for done, (file_id, key, status) in enumerate(due, start=1):
        storage.delete(key=key)
        if status == FileStatus.DELETED:
            File.objects.filter(pk=file_id).update(purged_at=now, updated_at=now)
            deleted += 1
        else:
            update: dict[str, Any] = {"purged_at": now, "updated_at": now}
            if status == FileStatus.UPLOADING:
                update |= {"status": FileStatus.FAILED, "failure_reason": "The upload was never completed."}
            File.objects.filter(pk=file_id, status=status).update(**update)
            abandoned += 1
        if progress is not None:
            progress(done, len(due))
    if due:
        logger.info("Purged %d deleted file(s) and %d abandoned upload(s) from storage.", deleted, abandoned)
    return PurgeResult(deleted=deleted, abandoned=abandoned)


# --- Sealing files on disk -----------------------------------------------------


@dataclass(frozen=True)
class SealResult:
    sealed: int  # rewritten under FILE_ENCRYPTION_KEY: plain before, or under an older key
    damaged: list[str]  # keys whose bytes failed their check: left as they are


def files_seal_candidates() -> QuerySet[File]:
    """Files whose objects are still stored, and no longer written to (an upload in flight is left alone)."""
    return File.objects.filter(purged_at__isnull=True, status__in=[FileStatus.COMPLETED, FileStatus.DELETED])


def files_seal(*, progress: Callable[[int, int], None] | None = None) -> SealResult:
    """Seal every stored file that is plain or sealed with an older key with the current one (disk storage).

    After it, the previous keys can go, and FILE_ENCRYPTION_ALLOW_PLAIN can be
    turned off. A file that fails its check is reported and left alone.
    """
    keys = list(files_seal_candidates().order_by("created_at").values_list("key", flat=True))
    sealed, damaged = 0, []
    for done, key in enumerate(keys, start=1):
        try:
            sealed += storage.reseal(key=key)
        except StoredObjectCorrupt as exc:
            logger.error("Not sealed: %s", exc)
            damaged.append(key)
        if progress is not None:
            progress(done, len(keys))
    if sealed or damaged:
        logger.info("Sealed %d stored file(s); %d failed their check.", sealed, len(damaged))
    return SealResult(sealed=sealed, damaged=damaged)


# --- Bytes the app already holds ----------------------------------------------


def file_store(
    *, owner: User, name: str, content_type: str, content: bytes, category: str, client_id: str = ""
) -> File:
    """Keep bytes the app holds (a send's inline attachment, checked by its caller) as a completed file.

    The object is written first; inside a transaction that then rolls back,
    `file_store_undo` removes it again.
    """
    file_id = uuid.uuid4()
    key = file_key(category=category, owner_id=owner.pk, file_id=file_id, name=name)
    bucket, region = storage.storage_location()
    info = storage.save(key=key, content=content, content_type=content_type)
    return File.objects.create(
        id=file_id,
        key=key,
        file_name=name_sanitise(name),
        original_name=name,
        content_type=content_type,
        size=info.size,
        max_size=info.size,
        category=category,
        status=FileStatus.COMPLETED,
        owner=owner,
        uploaded_by=owner,
        client_id=client_id,
        checksum=info.checksum,
        bucket=bucket,
        region=region,
        etag=info.etag,
        version_id=info.version_id,
        completed_at=timezone.now(),
    )


def file_store_undo(*, file: File) -> None:
    """Remove the object `file_store` wrote, when what it was stored for failed."""
    storage.delete(key=file.key)
