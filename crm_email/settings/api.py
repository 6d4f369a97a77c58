"""The REST API: authentication, parsers, errors and the OpenAPI schema."""

from __future__ import annotations

REST_FRAMEWORK = {
    # Token first: a request without credentials (or with a bad token) is a
    # 401 with `WWW-Authenticate: Token`; a signed-in user without a
    # permission is a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "core.rest.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.rest.errors.api_exception_handler",
    # OPTIONS is no documented operation: 405. (DRF's metadata asked viewsets without a serializer_class for
    # one, and answered 500.)
    "DEFAULT_METADATA_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM email & file service",
    "DESCRIPTION": "Send email through Amazon SES, follow every recipient, keep files in S3.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.rest.envelope.schema_paths_without_trailing_slash",
    ],
    # Enums named for what they are, not Category134Enum.
    "ENUM_NAME_OVERRIDES": {
        "Category": "emails.choices.Category",
        "Priority": "emails.choices.Priority",
        "MessageStatus": "emails.choices.MessageStatus",
        "RecipientStatus": "emails.choices.RecipientStatus",
        "RecipientKind": "emails.choices.RecipientKind",
        "EventType": "emails.choices.EventType",
        "SuppressionReason": "emails.choices.SuppressionReason",
        "SuppressionScope": "emails.choices.SUPPRESSION_SCOPES",
        "IdentityType": "emails.senders.IDENTITY_TYPES",
        "FileCategory": "files.choices.FileCategory",
        "FileStatus": "files.choices.FileStatus",
        "ContentType": "files.choices.ALLOWED_CONTENT_TYPE_CHOICES",
        "EmailSortBy": "emails.queries.SORT_BY_CHOICES",
        "FileSortBy": "files.queries.SORT_BY_CHOICES",
    },
}
