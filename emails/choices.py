"""The vocabularies of the email log (SPEC section 6)."""

from __future__ import annotations

from django.db import models


class Category(models.TextChoices):
    AUTH = "auth", "Auth"
    NOTIFICATION = "notification", "Notification"
    MARKETING = "marketing", "Marketing"
    SYSTEM = "system", "System"
    CLIENT_PORTAL = "client-portal", "Client portal"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class MessageStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    BOUNCED = "bounced", "Bounced"
    COMPLAINT = "complaint", "Complaint"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"
    CANCELLED = "cancelled", "Cancelled"
    HELD = "held", "Held"
    PAUSED = "paused", "Paused"


class RecipientKind(models.TextChoices):
    TO = "to", "To"
    CC = "cc", "Cc"
    BCC = "bcc", "Bcc"


class RecipientStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERY_DELAY = "delivery_delay", "Delivery delayed"
    DELIVERED = "delivered", "Delivered"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    BOUNCED = "bounced", "Bounced"
    COMPLAINT = "complaint", "Complaint"
    SUPPRESSED = "suppressed", "Suppressed"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


class EventType(models.TextChoices):
    SEND = "send", "Send"
    DELIVERY = "delivery", "Delivery"
    BOUNCE = "bounce", "Bounce"
    COMPLAINT = "complaint", "Complaint"
    REJECT = "reject", "Reject"
    DELIVERY_DELAY = "delivery_delay", "Delivery delay"
    OPEN = "open", "Open"
    CLICK = "click", "Click"
    RENDERING_FAILURE = "rendering_failure", "Rendering failure"
    SUBSCRIPTION = "subscription", "Subscription"
    FAILURE = "failure", "Send failure"
    SUPPRESSED = "suppressed", "Suppressed"


class SuppressionReason(models.TextChoices):
    BOUNCE = "bounce", "Permanent bounce"
    COMPLAINT = "complaint", "Complaint"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribed"
    MANUAL = "manual", "Added by staff"


# A suppression of this scope applies to every category.
SUPPRESSION_SCOPE_ALL = "all"
SUPPRESSION_SCOPES = [(SUPPRESSION_SCOPE_ALL, "All mail"), *Category.choices]


class BulkStatus(models.TextChoices):
    """A bulk's state: derived from its messages' (selectors.bulks), but `paused` and `cancelled` are asked for."""

    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


# Messages done sending: nothing of theirs goes to SES again, so their bodies may be removed (retention).
# Scheduled, queued, sending, held and paused ones still have to be sent.
MESSAGE_FINISHED = (
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.BOUNCED,
    MessageStatus.COMPLAINT,
    MessageStatus.FAILED,
    MessageStatus.SUPPRESSED,
    MessageStatus.CANCELLED,
)


class BodyRemoval(models.TextChoices):
    """Why a message's bodies are gone."""

    RETENTION = "retention", "Kept for EMAIL_BODY_RETENTION_DAYS"
    ERASURE = "erasure", "A recipient's address was erased"
