"""Stored files (the seeds' File model) and their tags."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from files.choices import FileCategory, FileStatus


class File(models.Model):
    """One object in storage (S3 or disk). Usable only once its completion check passed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # `category/user/uuid-sanitised-name`; S3 allows 1,024 bytes.
    key = models.CharField(max_length=512, unique=True)
    file_name = models.CharField(max_length=255, help_text="The sanitised name used in the key.")
    original_name = models.CharField(max_length=255, help_text="As the user named it; shown and downloaded as.")
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField(default=0, help_text="Bytes, as measured in storage on completion.")
    max_size = models.BigIntegerField(help_text="The upload's size limit, pinned in its upload URL.")
    category = models.CharField(max_length=20, choices=FileCategory.choices)
    status = models.CharField(max_length=10, choices=FileStatus.choices, default=FileStatus.UPLOADING)
    failure_reason = models.TextField(blank=True)
    is_public = models.BooleanField(default=False, help_text="Any signed-in user may download it.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="files")
    client_id = models.CharField(max_length=100, blank=True)
    department_id = models.CharField(max_length=100, blank=True)

    # The seeds' `metadata`.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploader_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    checksum = models.CharField(max_length=100, blank=True, help_text="algorithm:hex, of the stored bytes.")
    extra_metadata = models.JSONField(default=dict, blank=True, help_text="The caller's own string metadata.")

    # The seeds' `s3Info` (empty bucket and region for disk storage).
    bucket = models.CharField(max_length=255, blank=True)
    region = models.CharField(max_length=50, blank=True)
    etag = models.CharField(max_length=100, blank=True)
    version_id = models.CharField(max_length=1024, blank=True)

    # The seeds' `access`.
    download_count = models.PositiveIntegerField(default=0)
    last_accessed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="No downloads after this time.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # When the purge job removed the object from storage; the row stays.
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The seeds' indexes.
            models.Index(fields=["owner", "category", "status"], name="file_owner_cat_status"),
            models.Index(fields=["status", "-created_at"], name="file_status_created"),
            models.Index(fields=["department_id", "-created_at"], name="file_department_created"),
            models.Index(fields=["client_id", "-created_at"], name="file_client_created"),
            models.Index(fields=["category", "-created_at"], name="file_category_created"),
            # The list's default: a user's files, newest first.
            models.Index(fields=["owner", "-created_at"], name="file_owner_created"),
            # The purge job's two scans.
            models.Index(fields=["status", "deleted_at"], name="file_status_deleted"),
            models.Index(fields=["purged_at", "status"], name="file_purged_status"),
        ]
        permissions = [
            ("view_all_files", "Can see and download every user's files"),
            ("manage_all_files", "Can delete every user's files"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"


class FileTag(models.Model):
    """One tag of a file: a row, so tags can be indexed and filtered on every database."""

    file = models.ForeignKey(File, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["file", "name"], name="file_tag_unique")]
        indexes = [models.Index(fields=["name"], name="file_tag_name")]

    def __str__(self) -> str:
        return self.name
