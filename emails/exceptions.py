"""Domain errors raised by the email services and translated to HTTP in one place."""

from __future__ import annotations


class EmailError(Exception):
    """Base of the errors a caller can act on."""


class EmailRenderError(EmailError):
    """A template or body could not be rendered."""


class IdempotencyConflict(EmailError):
    """An Idempotency-Key was reused with a different request."""


class SendTransientError(EmailError):
    """SES asked us to slow down or failed on its side: try again later."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class SendPermanentError(EmailError):
    """SES refused the message; sending it again would fail the same way."""

    def __init__(self, reason: str, *, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class ProviderUnavailable(EmailError):
    """SES could not be reached or refused our credentials."""


class SnsRejected(EmailError):
    """An SNS message failed verification (signature, certificate URL, topic, age, shape): refuse it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SnsUnavailable(EmailError):
    """An SNS host could not be reached (timeout, connection, 5xx): SNS should try again later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
