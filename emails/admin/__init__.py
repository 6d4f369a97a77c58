"""The email app's admin: the log (messages), templates, and who is not mailed (suppression).

The changelists fit 1280 px: long values (subjects, addresses, SES ids, ARNs)
are cut short with the whole value in their tooltip, and ids that only a
search needs are searchable rather than shown.
"""

from emails.admin import messages, suppression, templates

__all__ = ["messages", "suppression", "templates"]
