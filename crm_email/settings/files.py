"""Files: S3 or the disk, their limits and the purge; attachments' limits."""

from __future__ import annotations

from crm_email.env import env_int, env_str
from crm_email.settings.email import AWS_SES_REGION_NAME
from crm_email.settings.tasks import CELERY_BEAT_SCHEDULE

# With a bucket, files live in S3 (django-storages; credentials as for SES, or
# AWS_S3_ACCESS_KEY_ID/AWS_S3_SECRET_ACCESS_KEY); without, on disk under
# MEDIA_ROOT, which is never served directly: downloads go through signed URLs.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME") or AWS_SES_REGION_NAME
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_S3_FILE_OVERWRITE = False
AWS_DEFAULT_ACL = None
STORAGES = {
    "default": {
        "BACKEND": (
            "storages.backends.s3.S3Storage"
            if AWS_STORAGE_BUCKET_NAME
            else "django.core.files.storage.FileSystemStorage"
        )
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_MAX_SIZE_BYTES = env_int("FILE_MAX_SIZE_BYTES", 100 * 1024 * 1024)
FILE_DEFAULT_MAX_SIZE_BYTES = env_int("FILE_DEFAULT_MAX_SIZE_BYTES", 10 * 1024 * 1024)
FILE_UPLOAD_URL_EXPIRES_SECONDS = env_int("FILE_UPLOAD_URL_EXPIRES_SECONDS", 900)
FILE_DOWNLOAD_URL_EXPIRES_SECONDS = env_int("FILE_DOWNLOAD_URL_EXPIRES_SECONDS", 3600)
# The purge removes objects of files deleted this long ago, and of uploads
# not completed within FILE_UPLOAD_STALE_HOURS.
FILE_PURGE_RETENTION_DAYS = env_int("FILE_PURGE_RETENTION_DAYS", 30)
FILE_UPLOAD_STALE_HOURS = env_int("FILE_UPLOAD_STALE_HOURS", 24)
FILE_PURGE_INTERVAL_SECONDS = env_int("FILE_PURGE_INTERVAL_SECONDS", 3600)
CELERY_BEAT_SCHEDULE["files-purge"] = {
    "task": "files.tasks.files_purge_task",
    "schedule": float(FILE_PURGE_INTERVAL_SECONDS),
}
# Attachments of one email (SPEC section 6), and the raw message SES takes:
# 10 MB through SendRawEmail (django-ses's v1 API), 40 MB through SES v2.
EMAIL_ATTACHMENTS_MAX_COUNT = env_int("EMAIL_ATTACHMENTS_MAX_COUNT", 10)
EMAIL_INLINE_ATTACHMENTS_MAX_BYTES = env_int("EMAIL_INLINE_ATTACHMENTS_MAX_BYTES", 10 * 1024 * 1024)
EMAIL_STORED_ATTACHMENT_MAX_BYTES = env_int("EMAIL_STORED_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)
EMAIL_RAW_MESSAGE_MAX_BYTES = env_int("EMAIL_RAW_MESSAGE_MAX_BYTES", 10 * 1024 * 1024)
# A send with 10 MB of inline base64 attachments is a JSON body of ~14 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 16 * 1024 * 1024)
# Serve static files straight from the app's folders, so the embedded
# default needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
