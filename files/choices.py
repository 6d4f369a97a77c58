"""The vocabularies of stored files (the seeds' lists) and the upload limits."""

from __future__ import annotations

from django.db import models


class FileCategory(models.TextChoices):
    EMAIL = "email", "Email"
    DOCUMENT = "document", "Document"
    AVATAR = "avatar", "Avatar"
    CONTRACT = "contract", "Contract"
    INVOICE = "invoice", "Invoice"
    BACKUP = "backup", "Backup"
    GENERAL = "general", "General"
    # Inline (base64) attachments of a sent email, kept as files so the worker
    # has one path: stream every attachment from storage.
    ATTACHMENT = "attachment", "Email attachment"


class FileStatus(models.TextChoices):
    UPLOADING = "uploading", "Uploading"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    DELETED = "deleted", "Deleted"


# The seeds' allowlist: images, PDF, Office, text, CSV.
ALLOWED_CONTENT_TYPES: dict[str, str] = {
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "application/pdf": "PDF document",
    "application/msword": "Word 97-2003 document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.ms-excel": "Excel 97-2003 workbook",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
    "text/plain": "text file",
    "text/csv": "CSV file",
}

ALLOWED_CONTENT_TYPE_CHOICES = sorted(ALLOWED_CONTENT_TYPES)

MAX_NAME_LENGTH = 255
