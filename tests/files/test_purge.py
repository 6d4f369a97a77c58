"""The purge: objects of long-deleted files and of abandoned uploads leave storage; rows stay."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from emails.models import Message
from files.models import File
from files.services import files_purge
from files.tasks import files_purge_task
from tests.files import samples
from tests.files.conftest import Storage
from tests.files.test_access import stored
from tests.files.test_upload_flow import ask


def age(file: File, **fields: Any) -> None:
    """Move a file's timestamps into the past (auto_now_add cannot be set on create)."""
    File.objects.filter(pk=file.pk).update(**fields)


def test_it_purges_files_deleted_longer_ago_than_the_retention(api: Any, storage: Storage) -> None:
    old = stored(api, fileName="old.pdf")
    recent = stored(api, fileName="recent.pdf")
    kept = stored(api, fileName="kept.pdf")
    for file in (old, recent):
        assert api.delete(f"/api/files/{file.pk}").status_code == 200
    now = timezone.now()
    age(old, deleted_at=now - timedelta(days=settings.FILE_PURGE_RETENTION_DAYS, minutes=1))
    age(recent, deleted_at=now - timedelta(days=settings.FILE_PURGE_RETENTION_DAYS - 1))

    result = files_purge()

    assert (result.deleted, result.abandoned) == (1, 0)
    assert storage.get(old.key) is None
    assert storage.get(recent.key) == samples.pdf()
    assert storage.get(kept.key) == samples.pdf()
    old.refresh_from_db()
    assert old.status == "deleted"
    assert old.purged_at is not None
    # Once purged, never again.
    assert files_purge().deleted == 0


def test_it_purges_uploads_never_completed_after_a_day(api: Any, storage: Storage) -> None:
    abandoned = ask(api, fileName="abandoned.pdf").json()["data"]
    fresh = ask(api, fileName="fresh.pdf").json()["data"]
    for data in (abandoned, fresh):
        storage.put(data["fileKey"], samples.pdf())
    age(File.objects.get(pk=abandoned["fileId"]), created_at=timezone.now() - timedelta(hours=24, minutes=1))

    result = files_purge()

    assert (result.deleted, result.abandoned) == (0, 1)
    assert storage.get(abandoned["fileKey"]) is None
    assert storage.get(fresh["fileKey"]) == samples.pdf()
    file = File.objects.get(pk=abandoned["fileId"])
    assert file.status == "failed"
    assert file.failure_reason == "The upload was never completed."
    assert File.objects.get(pk=fresh["fileId"]).status == "uploading"


def test_it_removes_an_object_put_back_after_a_failed_check(api: Any, storage: Storage) -> None:
    data = ask(api).json()["data"]
    storage.put(data["fileKey"], samples.png())
    assert api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json").status_code == 422
    # The upload URL was still valid: the client sends again.
    storage.put(data["fileKey"], samples.png())
    age(File.objects.get(pk=data["fileId"]), created_at=timezone.now() - timedelta(days=2))
    assert files_purge().abandoned == 1
    assert storage.get(data["fileKey"]) is None


def test_the_command_shows_a_progress_bar(api: Any, disk_storage: Storage) -> None:
    files = [stored(api, fileName=f"f{i}.pdf") for i in range(3)]
    for file in files:
        api.delete(f"/api/files/{file.pk}")
        age(file, deleted_at=timezone.now() - timedelta(days=90))

    dry = StringIO()
    call_command("files_purge", "--dry-run", stdout=dry)
    assert dry.getvalue().startswith("3 object(s) due")
    assert all(disk_storage.get(file.key) for file in files)

    out = StringIO()
    call_command("files_purge", stdout=out)
    text = out.getvalue()
    assert "[" + "#" * 40 + "] 3/3 (100%)" in text
    assert "Purged 3 deleted file(s) and 0 abandoned upload(s) from storage." in text
    assert not any(disk_storage.get(file.key) for file in files)


def test_the_celery_task_runs_the_purge_on_a_beat_schedule(api: Any, disk_storage: Storage) -> None:
    data = ask(api).json()["data"]
    age(File.objects.get(pk=data["fileId"]), created_at=timezone.now() - timedelta(days=2))
    assert files_purge_task.apply().get() == {"deleted": 0, "abandoned": 1}
    entry = settings.CELERY_BEAT_SCHEDULE["files-purge"]
    assert entry["task"] == "files.tasks.files_purge_task"
    assert entry["schedule"] == float(settings.FILE_PURGE_INTERVAL_SECONDS)


def test_a_deleted_file_that_scheduled_mail_carries_keeps_its_object_until_the_mail_has_gone(
    api: Any, storage: Storage
) -> None:
    file = stored(api, fileName="statement.pdf")
    later = (timezone.now() + timedelta(days=60)).isoformat()
    send = api.post("/api/email", {"to": "a@example.com", "subject": "Statement", "textContent": "Attached",
                                   "category": "notification", "sendAt": later,
                                   "s3Attachments": [{"fileId": str(file.pk)}]}, format="json")  # fmt: skip
    assert send.status_code == 201, send.json()
    assert api.delete(f"/api/files/{file.pk}").status_code == 200
    age(file, deleted_at=timezone.now() - timedelta(days=settings.FILE_PURGE_RETENTION_DAYS, minutes=1))

    assert files_purge().deleted == 0
    assert storage.get(file.key) == samples.pdf()  # the scheduled message will still read it

    Message.objects.filter(pk=send.json()["data"]["messageId"]).update(status="sent", sent_count=1)
    assert files_purge().deleted == 1
    assert storage.get(file.key) is None
