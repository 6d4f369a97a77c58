"""Errors of the email wings, each of a kind (core.errors) that core.rest turns into HTTP in one place."""

from __future__ import annotations

from typing import ClassVar

from core.errors import Conflict, DomainError, Forbidden, NotFound, Unavailable


class EmailRenderError(DomainError):
    """A template or body could not be rendered (accepting turns it into a field error)."""


class IdempotencyConflict(Conflict):
    """An Idempotency-Key was reused with a different request."""


class MessageNotFound(NotFound):
    """No such message among those the caller may see."""


class MessageForbidden(Forbidden):
    """The caller may see the message, not change it (someone else's, without change_all_messages)."""


class SuppressionNotFound(NotFound):
    """No such suppression."""


class HoldNotFound(NotFound):
    """No active reputation hold with that id."""


class ProviderUnavailable(Unavailable):
    """SES could not be reached or refused our credentials."""

    public_message: ClassVar[str] = "SES is unavailable; try again shortly."


class SendTransientError(Exception):
    """SES asked us to slow down or failed on its side: try again later."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class SendPermanentError(Exception):
    """SES refused the message; sending it again would fail the same way."""

    def __init__(self, reason: str, *, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class AttachmentUnavailable(Exception):
    """An attachment could not be read from storage when the email was built."""


class SnsRejected(Exception):
    """An SNS message failed verification (signature, certificate URL, topic, age, shape): refuse it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SnsUnavailable(Exception):
    """An SNS host could not be reached (timeout, connection, 5xx): SNS should try again later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemplateNotFound(NotFound):
    """No template with that slug."""


class TemplateEditConflict(Conflict):
    """A save built on a version that is no longer the newest."""


class TemplateProtected(Conflict):
    """A system template cannot be deleted (it can be edited)."""


class MessageStateConflict(Conflict):
    """The message is not in a state that allows this (a cancel of a sent message, a reschedule of a queued one)."""


class BulkNotFound(NotFound):
    """No such bulk among those the caller may see."""


class BulkStateConflict(Conflict):
    """The bulk is not in a state that allows this (resume a cancelled one, pause a finished one)."""
