"""S3 through django-storages' S3Storage, which supplies the bucket, credentials and client configuration."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import IO, Any, ParamSpec, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from files.exceptions import StorageUnavailable, StoredObjectChanged, StoredObjectMissing
from files.storage.protocol import ObjectInfo, UploadTarget, content_disposition

_client_lock = threading.Lock()
_P = ParamSpec("_P")
_R = TypeVar("_R")


# The form fields of server-side encryption and the same as put_object's parameters.
_SSE = "x-amz-server-side-encryption"
_SSE_KMS_KEY = "x-amz-server-side-encryption-aws-kms-key-id"
_SSE_PARAMETERS = {_SSE: "ServerSideEncryption", _SSE_KMS_KEY: "SSEKMSKeyId"}


def sse_fields() -> dict[str, str]:
    """The server-side encryption every object is written with (FILE_S3_SSE, FILE_S3_KMS_KEY_ID), as form fields."""
    mode = str(settings.FILE_S3_SSE)
    if mode == "none":
        return {}
    fields = {_SSE: mode}
    if mode == "aws:kms" and settings.FILE_S3_KMS_KEY_ID:
        fields[_SSE_KMS_KEY] = str(settings.FILE_S3_KMS_KEY_ID)
    return fields


def _s3_errors(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """S3 unreachable or failing on its side becomes StorageUnavailable; its refusals stay as they are."""

    @functools.wraps(method)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except BotoCoreError as exc:
            raise StorageUnavailable(f"Storage could not be reached: {exc}") from exc
        except ClientError as exc:
            if _status(exc) >= 500:
                raise StorageUnavailable(f"Storage failed: {exc}") from exc
            raise

    return call


class S3Backend:
    """An S3 bucket; every call that fails on S3's side or on the way is StorageUnavailable."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    @property
    def client(self) -> Any:
        # One client per storage for every thread: boto3 clients are
        # thread-safe, while the storage's own resource is per thread, and a
        # server that starts a thread per request would build one (reading
        # botocore's models again) for each request.
        client = vars(self.storage).get("_files_s3_client")
        if client is None:
            with _client_lock:
                client = vars(self.storage).get("_files_s3_client")
                if client is None:
                    client = self.storage.connection.meta.client
                    vars(self.storage)["_files_s3_client"] = client
        return client

    def _key(self, key: str) -> str:
        # The storage's own mapping of a name to an object key (AWS_LOCATION prefix).
        return str(self.storage._normalize_name(key))

    def location(self) -> tuple[str, str]:
        return str(self.storage.bucket_name), str(self.client.meta.region_name or "")

    def presign_upload(self, key: str, content_type: str, max_size: int, expires_in: int) -> UploadTarget:
        # A POST policy, unlike a presigned PUT, can pin the size: S3 refuses
        # a body outside content-length-range, another key or another type,
        # and a form without the server-side encryption it names (the form
        # carries it, so the browser sends it as it sends the type).
        sse = sse_fields()
        post = self.client.generate_presigned_post(
            Bucket=self.storage.bucket_name,
            Key=self._key(key),
            Fields={"Content-Type": content_type, **sse},
            Conditions=[
                {"Content-Type": content_type},
                *({name: value} for name, value in sse.items()),
                ["content-length-range", 1, max_size],
            ],
            ExpiresIn=expires_in,
        )
        return UploadTarget(url=post["url"], fields={name: str(value) for name, value in post["fields"].items()})

    @_s3_errors
    def head(self, key: str) -> ObjectInfo | None:
        try:
            found = self.client.head_object(Bucket=self.storage.bucket_name, Key=self._key(key))
        except ClientError as exc:
            if _status(exc) == 404:
                return None
            raise
        return ObjectInfo(
            size=int(found["ContentLength"]),
            etag=str(found.get("ETag", "")).strip('"'),
            version_id=str(found.get("VersionId") or ""),
        )

    @_s3_errors
    def read_range(self, key: str, start: int, length: int, etag: str) -> bytes:
        params = {
            "Bucket": self.storage.bucket_name,
            "Key": self._key(key),
            "Range": f"bytes=-{length}" if start < 0 else f"bytes={start}-{start + length - 1}",
        }
        if etag:
            params["IfMatch"] = f'"{etag}"'
        try:
            found = self.client.get_object(**params)
        except ClientError as exc:
            if _status(exc) == 404:
                raise StoredObjectMissing(key) from exc
            if _status(exc) == 412:
                raise StoredObjectChanged(key) from exc
            if _status(exc) == 416:  # an empty object
                return b""
            raise
        body = found["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    @_s3_errors
    def open_stream(self, key: str, etag: str, version_id: str) -> IO[bytes]:
        params: dict[str, str] = {"Bucket": self.storage.bucket_name, "Key": self._key(key)}
        # Pin the object the completion check passed: an upload URL still
        # valid could have replaced it since.
        if etag:
            params["IfMatch"] = f'"{etag}"'
        if version_id:
            params["VersionId"] = version_id
        try:
            found = self.client.get_object(**params)
        except ClientError as exc:
            if _status(exc) == 404:
                raise StoredObjectMissing(key) from exc
            if _status(exc) == 412:
                raise StoredObjectChanged(key) from exc
            raise
        body: IO[bytes] = found["Body"]
        return body

    @_s3_errors
    def save(self, key: str, content: bytes, content_type: str) -> ObjectInfo:
        encryption = {_SSE_PARAMETERS[name]: value for name, value in sse_fields().items()}
        written = self.client.put_object(
            Bucket=self.storage.bucket_name, Key=self._key(key), Body=content, ContentType=content_type, **encryption
        )
        return ObjectInfo(
            size=len(content),
            etag=str(written.get("ETag", "")).strip('"'),
            version_id=str(written.get("VersionId") or ""),
        )

    def reseal(self, key: str) -> bool:
        # S3 encrypts every object itself (server-side, and by default since 2023): nothing for the app to seal.
        return False

    @_s3_errors
    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.storage.bucket_name, Key=self._key(key))

    def presign_download(self, key: str, filename: str, content_type: str, expires_in: int, version_id: str) -> str:
        params = {
            "Bucket": self.storage.bucket_name,
            "Key": self._key(key),
            "ResponseContentDisposition": content_disposition(filename),
            "ResponseContentType": content_type,
        }
        if version_id:
            params["VersionId"] = version_id
        return str(self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))


def _status(exc: ClientError) -> int:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    if code in ("NoSuchKey", "NotFound", "404"):
        return 404
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
