"""Real objects owned by one user, and the people who may or may not reach them: for the access matrix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Permission, User

from emails.accepting import BulkDraft, BulkRow, EmailDraft, bulk_accept, email_queue
from emails.models import Bulk, Message, ReputationHold, Suppression, Template
from emails.suppression import suppression_add
from emails.suppression.unsubscribe import preferences_token, unsubscribe_token
from files.models import File
from files.services import file_download_url, file_store, file_upload_start
from tests.factories import UserFactory

# Staff "with the view-all permissions": every permission the apps define for seeing and changing all of it.
STAFF_PERMISSIONS = [
    "view_all_messages", "change_all_messages", "erase_contact", "view_all_files", "manage_all_files",
    "view_template", "add_template", "change_template", "delete_template",
    "view_suppression", "add_suppression", "change_suppression", "delete_suppression",
    "view_reputationhold", "change_reputationhold",
]  # fmt: skip
ADDRESS = "owner-contact@example.com"


@dataclass
class World:
    owner: User
    peer: User  # another user with the same (no) permissions
    staff: User  # is_staff, without the view-all permissions
    staff_all: User  # is_staff, with STAFF_PERMISSIONS
    message: Message
    bulk: Bulk
    file: File
    template: Template
    suppression: Suppression
    hold: ReputationHold
    address: str
    unsubscribe_token: str
    preferences_token: str
    upload_token: str
    download_token: str

    @classmethod
    def build(cls) -> World:
        owner, peer = UserFactory(), UserFactory()
        staff = UserFactory(is_staff=True)
        staff_all = UserFactory(is_staff=True)
        staff_all.user_permissions.add(*Permission.objects.filter(codename__in=STAFF_PERMISSIONS))
        message = email_queue(
            owner=owner, draft=EmailDraft(to=ADDRESS, subject="Hi", text="Hello", category="notification")
        ).message
        rows = [BulkRow(to=f"bulk{i}@example.com") for i in range(2)]
        bulk = bulk_accept(owner=owner, draft=BulkDraft(name="B", subject="S", text="T", category="marketing",
                                                        rows=rows))  # fmt: skip
        file = file_store(owner=owner, name="a.pdf", content_type="application/pdf", content=b"%PDF-1.4 x",
                          category="general")  # fmt: skip
        upload = file_upload_start(owner=owner, file_name="b.pdf", content_type="application/pdf", category="general")
        download = file_download_url(user=owner, file_id=file.pk)
        return cls(
            owner=owner,
            peer=peer,
            staff=staff,
            staff_all=staff_all,
            message=message,
            bulk=bulk,
            file=file,
            template=Template.objects.order_by("slug").first() or Template.objects.create(slug="t", name="T"),
            suppression=suppression_add(address="suppressed@example.com", reason="manual"),
            hold=ReputationHold.objects.create(reason="Bounce rate over the limit"),
            address=ADDRESS,
            unsubscribe_token=unsubscribe_token(address=ADDRESS, category="marketing"),
            preferences_token=preferences_token(address=ADDRESS),
            upload_token=_token(upload),
            download_token=_last_part(download.url),
        )

    def user(self, role: str) -> User | None:
        return {"owner": self.owner, "peer": self.peer, "staff": self.staff, "staff_all": self.staff_all}.get(role)


def _token(upload: Any) -> str:
    return _last_part(upload.target.url)


def _last_part(url: str) -> str:
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
