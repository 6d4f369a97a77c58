"""Files: S3 or the disk, their limits and the purge; attachments' limits."""

from __future__ import annotations

import base64
import binascii

from django.core.exceptions import ImproperlyConfigured

from crm_email.env import env_bool, env_int, env_list, env_str
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
# Every object S3 stores for us is encrypted at rest: uploads through the
# presigned POST (whose policy pins the header) and the app's own writes.
# "none" is for S3-compatible stores without server-side encryption.
FILE_S3_SSE = env_str("FILE_S3_SSE", "AES256").strip()
FILE_S3_KMS_KEY_ID = env_str("FILE_S3_KMS_KEY_ID").strip()
if FILE_S3_SSE not in ("AES256", "aws:kms", "none"):
    raise ImproperlyConfigured(f"FILE_S3_SSE={FILE_S3_SSE!r} is not one of AES256, aws:kms or none.")
if FILE_S3_KMS_KEY_ID and FILE_S3_SSE != "aws:kms":
    raise ImproperlyConfigured(f"FILE_S3_KMS_KEY_ID is set, but FILE_S3_SSE={FILE_S3_SSE!r}: it needs aws:kms.")
# What django-storages writes itself (S3Storage.save) is encrypted the same way.
AWS_S3_OBJECT_PARAMETERS = (
    {}
    if FILE_S3_SSE == "none"
    else {"ServerSideEncryption": FILE_S3_SSE} | ({"SSEKMSKeyId": FILE_S3_KMS_KEY_ID} if FILE_S3_KMS_KEY_ID else {})
)
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


def _key_setting(name: str, value: str) -> bytes:
    """A key of FILE_ENCRYPTION_KEY's format: 32 bytes in base64url (padding optional); the value is never echoed."""
    text = value.strip()
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(
            f"{name} is not a valid key: it must be 32 random bytes in base64url (43 characters, or 44 with "
            "its '=' padding). Make one with: python -c \"import base64, os; "
            'print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
        )
    return key


# With a key, files on disk are sealed at rest (AES-256-GCM in 64 KiB
# segments, files/storage/sealed.py); files written before it stay readable.
# Keys moved to FILE_ENCRYPTION_PREVIOUS_KEYS (comma-separated) still read
# the files they sealed. Once `manage.py files_seal` has sealed every file,
# FILE_ENCRYPTION_ALLOW_PLAIN=false refuses a file without the seal's header
# (one swapped on disk), as any other damaged file.
_key_text = env_str("FILE_ENCRYPTION_KEY")
FILE_ENCRYPTION_KEY = _key_setting("FILE_ENCRYPTION_KEY", _key_text) if _key_text else None
FILE_ENCRYPTION_PREVIOUS_KEYS = [
    _key_setting("FILE_ENCRYPTION_PREVIOUS_KEYS", value) for value in env_list("FILE_ENCRYPTION_PREVIOUS_KEYS")
]
FILE_ENCRYPTION_ALLOW_PLAIN = env_bool("FILE_ENCRYPTION_ALLOW_PLAIN", True)
if not FILE_ENCRYPTION_ALLOW_PLAIN and FILE_ENCRYPTION_KEY is None:
    raise ImproperlyConfigured("FILE_ENCRYPTION_ALLOW_PLAIN=false needs FILE_ENCRYPTION_KEY: no file could be read.")
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
