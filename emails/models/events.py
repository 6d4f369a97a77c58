"""What SES told us: the stored SNS notifications and the events they hold."""

from __future__ import annotations

from django.db import models

from emails.choices import (
    EventType,
)
from emails.models.messages import Message, Recipient


class InboundNotification(models.Model):
    """The raw body of every accepted SNS message: dedupe on its MessageId, replay from here."""

    sns_message_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=40)
    topic_arn = models.CharField(max_length=256)
    body = models.TextField(help_text="The SNS message exactly as it was posted.")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The body was removed (SNS_RAW_RETENTION_DAYS): the row stays, for dedupe and its events.
    body_removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["-received_at"], name="inbound_received"),
            models.Index(fields=["processed_at"], name="inbound_processed"),
            # The retention reads processed bodies still kept, oldest first. Stored rows are unprocessed, so the
            # webhook's INSERT writes nothing here; a row enters once applied and leaves when its body goes.
            models.Index(
                fields=["received_at"],
                condition=models.Q(processed_at__isnull=False, body_removed_at__isnull=True),
                name="inbound_body_kept",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.sns_message_id}"


class Event(models.Model):
    """Append-only: one row per recipient per SES event. Never updated."""

    # event_message_time serves lookups by message, event_once_per_notification
    # those by notification: no index of their own (one fewer to write per event).
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    recipient = models.ForeignKey(Recipient, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    # The address SES named, kept also when no recipient of ours matched.
    address = models.CharField(max_length=254, blank=True)
    inbound = models.ForeignKey(
        InboundNotification, null=True, blank=True, on_delete=models.SET_NULL, related_name="events", db_index=False
    )
    type = models.CharField(max_length=20, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    ses_message_id = models.CharField(max_length=100, blank=True)
    sns_message_id = models.CharField(max_length=100, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["message", "occurred_at"], name="event_message_time"),
            models.Index(fields=["type", "-occurred_at"], name="event_type_time"),
            models.Index(fields=["ses_message_id"], name="event_ses_id"),
            # An address's events are found through its recipients; those no recipient of ours matched (SES
            # naming an address we never sent to) by this, which only they enter: an export or an erasure
            # reads no whole table, and the events the pipeline matches cost it nothing.
            models.Index(
                fields=["address"], condition=models.Q(recipient__isnull=True), name="event_unmatched_address"
            ),
        ]
        constraints = [
            # Re-processing a stored notification appends nothing twice. Only
            # events from a notification can collide (NULLs never do), so the
            # events a send writes, which have none, stay out of this index.
            models.UniqueConstraint(
                fields=["inbound", "type", "address"],
                condition=models.Q(inbound__isnull=False),
                name="event_once_per_notification",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"
