"""The email log: bulks, messages, their recipients and attachments, idempotency keys."""

from __future__ import annotations

import uuid
from decimal import Decimal
from email.utils import formataddr

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce

from emails.choices import (
    MESSAGE_FINISHED,
    BodyRemoval,
    BulkStatus,
    Category,
    MessageStatus,
    Priority,
    RecipientKind,
    RecipientStatus,
)
from emails.models.templates import Template
from files.models import File


class Bulk(models.Model):
    """One request to mail many people: one message per recipient, each personalised, followed together."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="email_bulks")
    name = models.CharField(max_length=200)
    template = models.ForeignKey(Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    template_version = models.PositiveIntegerField(null=True, blank=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.LOW)
    send_at = models.DateTimeField(null=True, blank=True)
    # Asked for: paused or cancelled (None: it runs). The rest of its state is its messages'.
    stopped = models.CharField(max_length=12, choices=BulkStatus.choices, blank=True)
    total = models.PositiveIntegerField(default=0, help_text="Rows given, accepted or skipped.")
    accepted = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=list, blank=True, help_text='[{"index", "to", "reason"}, ...]')
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What its messages were rendered from, as accepted (the template may change after). When `bodies_stored`
    # is off, its messages' bodies are not stored: each is rendered again when read, from these and the
    # message's own data, which gives what accepting rendered (emails.templating.bodies).
    subject_source = models.TextField(blank=True)
    html_source = models.TextField(blank=True)
    text_source = models.TextField(blank=True)
    provided = models.JSONField(
        default=dict, blank=True, help_text="What every template's context held besides the data."
    )
    bodies_stored = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="bulk_owner_created")]

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    """One send request. Its status is derived from its recipients and its lifecycle."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Every index is written on each status change (the claim and the
    # outcome), so none is kept that another already covers: msg_owner_created
    # serves lookups by owner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="email_messages", db_index=False
    )
    from_email = models.CharField(max_length=320)
    reply_to = models.EmailField(max_length=254, blank=True)
    subject = models.CharField(max_length=200)
    html_body = models.TextField(blank=True)
    text_body = models.TextField(blank=True)
    # msg_template (partial: most messages name no template) serves lookups by template.
    template = models.ForeignKey(
        Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # The template's version the bodies were rendered from; later edits never touch them.
    template_version = models.PositiveIntegerField(null=True, blank=True)
    template_data = models.JSONField(default=dict, blank=True)
    # The bulk this message is one recipient's of.
    bulk = models.ForeignKey(Bulk, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages",
                             db_index=False)  # fmt: skip
    # Its row in the bulk's request (0-based): the report's order, with the skipped rows in between.
    bulk_index = models.PositiveIntegerField(null=True, blank=True)
    # A resend's original (Resend, or Retry failed recipients on the message page).
    resent_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resends", db_index=False
    )
    category = models.CharField(max_length=20, choices=Category.choices)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    status_reason = models.TextField(blank=True)
    client_id = models.CharField(max_length=100, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    custom_data = models.JSONField(default=dict, blank=True)
    recipient_count = models.PositiveIntegerField(default=0)
    # Kept with the message so that a worker asks for attachments only when there are some.
    attachment_count = models.PositiveSmallIntegerField(default=0)
    # Recipients per outcome, derived from the recipient rows.
    sent_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    delivered_count = models.PositiveIntegerField(default=0)
    bounced_count = models.PositiveIntegerField(default=0)
    complaint_count = models.PositiveIntegerField(default=0)
    opened_count = models.PositiveIntegerField(default=0)
    clicked_count = models.PositiveIntegerField(default=0)
    suppressed_count = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=8, default=Decimal("0"))
    size = models.PositiveIntegerField(default=0, help_text="Bytes of raw MIME handed to SES, all calls.")
    # Not before this time: a scheduled send, or the backoff after throttling.
    send_after = models.DateTimeField(null=True, blank=True)
    # While `sending`, the claim is valid until this time; the sweeper
    # returns messages whose lease ran out to the queue.
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The bodies (and the template data) were removed: by the retention, or
    # when a recipient's address was erased. The message, its recipients,
    # events and cost stay.
    body_removed_at = models.DateTimeField(null=True, blank=True)
    body_removed_reason = models.CharField(max_length=10, choices=BodyRemoval.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="msg_owner_created"),
            models.Index(fields=["category", "status", "-created_at"], name="msg_cat_status_created"),
            models.Index(fields=["status", "-created_at"], name="msg_status_created"),
            models.Index(fields=["priority", "-created_at"], name="msg_priority_created"),
            models.Index(fields=["client_id", "-created_at"], name="msg_client_created"),
            models.Index(fields=["-created_at"], name="msg_created"),
            # Deleting a template sets its messages' template to NULL; a
            # lookup by template implies NOT NULL, so this partial index serves it.
            models.Index(fields=["template"], condition=models.Q(template__isnull=False), name="msg_template"),
            # The claim and the sweeper read only queued rows, oldest first,
            # however many were sent; the sweeper also looks for expired
            # leases among the few messages being sent. Partial, so a message
            # in any other state costs these indexes nothing.
            models.Index(fields=["created_at"], condition=models.Q(status="queued"), name="msg_queued_created"),
            models.Index(fields=["lease_until"], condition=models.Q(status="sending"), name="msg_sending_lease"),
            # A bulk's messages by status (its counts, pause, cancel); most messages are in none.
            models.Index(fields=["bulk", "status"], condition=models.Q(bulk__isnull=False), name="msg_bulk_status"),
            # Urgent and high mail is claimed before the rest, however much is queued.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="queued", priority__in=["urgent", "high"]),
                name="msg_queued_urgent_created",
            ),
            # The sweep releases scheduled messages once due.
            models.Index(fields=["send_after"], condition=models.Q(status="scheduled"), name="msg_scheduled_due"),
            models.Index(fields=["resent_from"], condition=models.Q(resent_from__isnull=False), name="msg_resent_from"),
            # Analytics cut mail by the day it was sent (created, if it never was).
            models.Index(Coalesce("sent_at", "created_at"), name="msg_activity"),
            # The retention reads finished messages still holding their bodies, oldest first: a message enters
            # this index when it finishes and leaves it when its bodies go, so a run reads only what it removes,
            # however many were removed before.
            models.Index(
                Coalesce("sent_at", "created_at"),
                condition=models.Q(status__in=MESSAGE_FINISHED, body_removed_at__isnull=True),
                name="msg_body_kept",
            ),
        ]
        permissions = [
            ("view_all_messages", "Can see every user's messages"),
            ("change_all_messages", "Can cancel, reschedule and resend every user's messages"),
            ("erase_contact", "Can erase an address from every message, event and suppression"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.id})"

    @property
    def body_kept_days(self) -> int | None:
        """How many days after it was sent (or created) its bodies were removed; None while it has them."""
        if self.body_removed_at is None:
            return None
        return (self.body_removed_at - (self.sent_at or self.created_at)).days


class Recipient(models.Model):
    """One address of one message: the unit events, suppression and analytics talk about."""

    # recipient_unique_per_message (message, address) serves lookups by message.
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="recipients", db_index=False)
    kind = models.CharField(max_length=3, choices=RecipientKind.choices)
    address = models.EmailField(max_length=254, help_text="Lower-cased, for matching.")
    display_name = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=RecipientStatus.choices, default=RecipientStatus.QUEUED)
    reason = models.TextField(blank=True)
    ses_message_id = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    # The address's domain, for rates by recipient domain.
    domain = models.CharField(max_length=253, blank=True)
    # When SES first reported each outcome (from its events): what the counts count, whatever the status
    # says now (a recipient who opened and then complained is `complaint`, and still opened).
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True, help_text="A permanent bounce.")

    class Meta:
        ordering = ["message", "position"]
        constraints = [
            models.UniqueConstraint(fields=["message", "address"], name="recipient_unique_per_message"),
        ]
        indexes = [
            models.Index(fields=["ses_message_id", "address"], name="recipient_ses_addr"),
            models.Index(fields=["address"], name="recipient_address"),
            models.Index(fields=["status"], name="recipient_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.formatted()}"

    def formatted(self) -> str:
        return formataddr((self.display_name, self.address)) if self.display_name else self.address


class Attachment(models.Model):
    """A stored file attached to a message, in order, under the name the email shows."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    # PROTECT: files are only ever soft-deleted; a sent message keeps its record.
    file = models.ForeignKey(File, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["message", "position"]
        constraints = [
            models.UniqueConstraint(fields=["message", "position"], name="attachment_unique_position"),
        ]

    def __str__(self) -> str:
        return self.filename


class IdempotencyKey(models.Model):
    """The first answer to a POST with an Idempotency-Key, kept for 24 hours."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_unique_owner_key")]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expiry")]

    def __str__(self) -> str:
        return self.key
