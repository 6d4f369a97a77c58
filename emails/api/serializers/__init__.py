"""The email API's shapes: the seeds' send payload in (camelCase), the log out, and the other answers.

- sending: what a send parses from (`send_draft`) and what it answers (`queued_data`);
- log: a message as the log lists it and as its detail shows it (`message_summaries_data`, `message_detail_data`);
- answers: the log's stats, a send's acknowledgement and the quota, for the schema.
"""

from emails.api.serializers.answers import (
    CountByCategorySerializer,
    CountByPrioritySerializer,
    CountByStatusSerializer,
    EmailQueuedSerializer,
    EmailStatsSerializer,
    QuotaSerializer,
    QuotaUsageSerializer,
)
from emails.api.serializers.log import (
    EventSerializer,
    MessageDetailSerializer,
    MessageSummarySerializer,
    RecipientSerializer,
    message_detail_data,
    message_summaries_data,
)
from emails.api.serializers.sending import (
    AddressesField,
    Base64Field,
    EmailSendSerializer,
    InlineAttachmentSerializer,
    RescheduleSerializer,
    ResendSerializer,
    StoredAttachmentSerializer,
    queued_data,
    send_draft,
)

__all__ = [
    "AddressesField",
    "Base64Field",
    "CountByCategorySerializer",
    "CountByPrioritySerializer",
    "CountByStatusSerializer",
    "EmailQueuedSerializer",
    "EmailSendSerializer",
    "EmailStatsSerializer",
    "EventSerializer",
    "InlineAttachmentSerializer",
    "MessageDetailSerializer",
    "MessageSummarySerializer",
    "QuotaSerializer",
    "QuotaUsageSerializer",
    "RecipientSerializer",
    "RescheduleSerializer",
    "ResendSerializer",
    "StoredAttachmentSerializer",
    "message_detail_data",
    "message_summaries_data",
    "queued_data",
    "send_draft",
]
