"""A user's own defaults for the mail they compose: reply-to, a signature, category and priority."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.utils.html import escape, linebreaks

from core.errors import FieldErrors
from core.text import text_problem
from emails.accepting.addresses import reply_to_problem
from emails.choices import Category, Priority
from emails.models import SenderSettings

MAX_SIGNATURE = 2_000


@dataclass(frozen=True)
class SettingsDraft:
    reply_to: str = ""
    signature: str = ""
    category: str = ""
    priority: str = ""


def sender_settings_get(*, user: User) -> SenderSettings:
    """The user's settings (unsaved blank ones if they never chose any)."""
    return SenderSettings.objects.filter(user=user).first() or SenderSettings(user=user)


def sender_settings_save(*, user: User, draft: SettingsDraft) -> SenderSettings:
    """Check and save; ValidationFailed with every problem (paths: replyTo, signature, category, priority)."""
    errors = FieldErrors()
    reply_to = draft.reply_to.strip()
    if reply_to and (problem := reply_to_problem(reply_to)):
        errors.add(("replyTo",), problem, "address_invalid")
    signature = draft.signature.replace("\r\n", "\n").strip()
    if problem := text_problem(signature):
        errors.add(("signature",), problem)
    elif len(signature) > MAX_SIGNATURE:
        errors.add(("signature",), f"Ensure this field has no more than {MAX_SIGNATURE} characters.")
    for name, value, choices in (("category", draft.category, Category.values),
                                 ("priority", draft.priority, Priority.values)):  # fmt: skip
        if value and value not in choices:
            errors.add((name,), f'"{value[:100]}" is not a valid choice.', "choice_invalid")
    errors.raise_any()
    settings, _ = SenderSettings.objects.update_or_create(
        user=user,
        defaults={"reply_to": reply_to.lower(), "signature": signature, "category": draft.category,
                  "priority": draft.priority},
    )  # fmt: skip
    return settings


def signature_append(*, html: str, text: str, signature: str) -> tuple[str, str]:
    """The bodies with the signature after them: as text under "-- ", as escaped paragraphs in HTML."""
    if not signature:
        return html, text
    if text:
        text = f"{text.rstrip()}\n\n-- \n{signature}"
    if html:
        html = f'{html}\n<div class="signature">{linebreaks(escape(signature))}</div>'
    return html, text
