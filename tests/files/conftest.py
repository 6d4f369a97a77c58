"""Storage for the files tests: moto's S3 over real HTTP, or disk under a temporary MEDIA_ROOT."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import UserFactory

REGION = "us-east-1"
_bucket_numbers = itertools.count()


@dataclass
class Storage:
    kind: str  # "s3" or "disk"
    bucket: str = ""
    client: Any = None
    media_root: str = ""

    def put(self, key: str, content: bytes, content_type: str = "application/octet-stream") -> None:
        """Place an object behind the app's back (as a client uploading something else would)."""
        if self.kind == "s3":
            self.client.put_object(Bucket=self.bucket, Key=key, Body=content, ContentType=content_type)
        else:
            path = os.path.join(self.media_root, key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(content)

    def get(self, key: str) -> bytes | None:
        if self.kind == "s3":
            try:
                return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
            except self.client.exceptions.NoSuchKey:
                return None
        path = os.path.join(self.media_root, key)
        if not os.path.exists(path):
            return None
        with open(path, "rb") as handle:
            return handle.read()

    def remove(self, key: str) -> None:
        if self.kind == "s3":
            self.client.delete_object(Bucket=self.bucket, Key=key)
        else:
            os.remove(os.path.join(self.media_root, key))


@pytest.fixture
def s3_storage(settings: Any, moto_server: str) -> Iterator[Storage]:
    """STORAGES["default"] is django-storages' S3Storage on a fresh bucket of moto's server."""
    bucket = f"crm-files-test-{next(_bucket_numbers)}"
    client = boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket=bucket)
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": moto_server,
                "region_name": REGION,
                "access_key": "testing",
                "secret_key": "testing",
                "addressing_style": "path",
                "signature_version": "s3v4",
            },
        },
    }
    yield Storage(kind="s3", bucket=bucket, client=client)


def s3_unreachable(settings: Any) -> dict[str, Any]:
    """Point the S3 storage at a closed local port (one quick attempt); returns the working config to restore."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    working: dict[str, Any] = settings.STORAGES["default"]
    unreachable = {
        "endpoint_url": f"http://127.0.0.1:{closed_port}",
        "client_config": Config(
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=1,
            s3={"addressing_style": "path"},
            signature_version="s3v4",
        ),
    }
    settings.STORAGES = {**settings.STORAGES, "default": working | {"OPTIONS": working["OPTIONS"] | unreachable}}
    return working


@pytest.fixture
def disk_storage(settings: Any) -> Storage:
    """The embedded default: FileSystemStorage under the test's own MEDIA_ROOT."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    os.makedirs(settings.MEDIA_ROOT, exist_ok=True)
    return Storage(kind="disk", media_root=str(settings.MEDIA_ROOT))


@pytest.fixture(params=["disk", "s3"])
def storage(request: Any) -> Storage:
    """Each test using it runs once against disk and once against moto's S3."""
    return request.getfixturevalue("s3_storage" if request.param == "s3" else "disk_storage")


@dataclass
class Posted:
    status: int
    text: str


def post_upload(data: dict[str, Any], content: bytes, *, name: str = "upload.bin", part_type: str = "") -> Posted:
    """POST a file the way a browser does to the uploadUrl of POST /api/files/upload-url.

    `data` is that answer's data (uploadUrl, fields). An S3 URL is posted to
    moto's server over HTTP; the app's own URL (disk) through Django's test
    client, with no session: the signed URL is the only credential.
    """
    url, fields = data["uploadUrl"], data["fields"]
    part_type = part_type or fields.get("Content-Type", "application/octet-stream")
    if url.startswith("http://testserver"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = Client().post(
            url.removeprefix("http://testserver"),
            {**fields, "file": SimpleUploadedFile(name, content, content_type=part_type)},
        )
        return Posted(status=response.status_code, text=response.content.decode())
    answer = requests.post(url, data=fields, files={"file": (name, content, part_type)}, timeout=30)
    return Posted(status=answer.status_code, text=answer.text)


@pytest.fixture
def file_viewer(db: Any) -> Any:
    """Staff who may see every user's files."""
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_all_files"))
    return staff


@pytest.fixture
def other_api(other_user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(other_user)
    return client
