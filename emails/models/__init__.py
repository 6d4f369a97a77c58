"""The email log, in modules: messages, their recipients, attachments and events; templates; suppressions and holds."""

from emails.models.events import Event, InboundNotification
from emails.models.messages import Attachment, Bulk, IdempotencyKey, Message, Recipient
from emails.models.profile import SenderSettings
from emails.models.suppression import ReputationHold, Suppression
from emails.models.templates import Template, TemplateVersion

__all__ = [
    "Attachment",
    "Bulk",
    "Event",
    "IdempotencyKey",
    "InboundNotification",
    "Message",
    "Recipient",
    "ReputationHold",
    "SenderSettings",
    "Suppression",
    "Template",
    "TemplateVersion",
]
