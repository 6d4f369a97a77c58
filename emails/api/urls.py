"""`/api/email...`: the seeds' clients call these paths without a trailing slash; both work."""

from __future__ import annotations

from django.urls import re_path

from core.rest.routers import OptionalSlashRouter
from emails.api import analytics, bulks, contacts, identities, messages, suppressions, templates, webhook

router = OptionalSlashRouter()
router.register("email/analytics", analytics.AnalyticsViewSet, basename="analytics")
router.register("email/account", analytics.AccountViewSet, basename="account")
# Before the contact's own route, whose address pattern would take "<address>/export" whole.
router.register("email/contacts", contacts.ContactPrivacyViewSet, basename="contact-privacy")
router.register("email/contacts", analytics.ContactViewSet, basename="contact")
router.register("email/suppressions", suppressions.SuppressionViewSet, basename="suppression")
router.register("email/reputation/holds", suppressions.ReputationHoldViewSet, basename="reputation-hold")
router.register("email/reputation", suppressions.ReputationViewSet, basename="reputation")
router.register("email/identities", identities.IdentityViewSet, basename="identity")
router.register("email/bulk", bulks.BulkViewSet, basename="bulk")
router.register("email/templates", templates.TemplateViewSet, basename="template")
router.register("email", messages.MessageViewSet, basename="email")

urlpatterns = [
    # SNS signs its posts and has no session or token: a plain view, outside DRF's authentication.
    re_path(r"^email/webhook/?$", webhook.sns_webhook, name="email-webhook"),
    *router.urls,
]
