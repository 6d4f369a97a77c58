"""The web pages (the API is emails/api/urls.py)."""

from __future__ import annotations

from django.urls import path

from emails.pages import (
    actions,
    analytics,
    bulk,
    compose,
    contact,
    identities,
    log,
    message,
    settings,
    templates,
    unsubscribe,
)

app_name = "emails"
urlpatterns = [
    path("", compose.ComposeView.as_view(), name="compose"),
    path("compose", compose.ComposeView.as_view()),
    path("compose/recipients", compose.RecipientCheckView.as_view(), name="compose-recipients"),
    path("compose/template", compose.TemplateCheckView.as_view(), name="compose-template"),
    path("emails", log.LogView.as_view(), name="log"),
    path("emails/export.csv", log.log_export, name="export"),
    path("emails/<uuid:message_id>", message.DetailView.as_view(), name="detail"),
    path("emails/<uuid:message_id>/live", message.LiveView.as_view(), name="message-live"),
    path("emails/<uuid:message_id>/html", message.BodyView.as_view(), name="message-html"),
    path("emails/<uuid:message_id>/cancel", actions.CancelView.as_view(), name="cancel"),
    path("emails/<uuid:message_id>/reschedule", actions.RescheduleView.as_view(), name="reschedule"),
    path("emails/<uuid:message_id>/resend", actions.ResendView.as_view(), name="resend"),
    path("emails/live", log.LiveRowsView.as_view(), name="log-live"),
    path("bulk", bulk.BulkListView.as_view(), name="bulk"),
    path("bulk/<uuid:bulk_id>", bulk.BulkDetailView.as_view(), name="bulk-detail"),
    path("bulk/<uuid:bulk_id>/live", bulk.BulkLiveView.as_view(), name="bulk-live"),
    path("bulk/<uuid:bulk_id>/<str:change>", bulk.BulkChangeView.as_view(), name="bulk-change"),
    path("analytics", analytics.AnalyticsView.as_view(), name="analytics"),
    path("analytics/export.csv", analytics.analytics_export, name="analytics-export"),
    path("contacts/<path:address>", contact.ContactView.as_view(), name="contact"),
    path("identities", identities.IdentitiesView.as_view(), name="identities"),
    # The template pages; "-" is no slug's first character, so the preview never hides a template.
    path("templates", templates.TemplateListView.as_view(), name="templates"),
    path("templates/new", templates.TemplateNewView.as_view(), name="template-new"),
    path("templates/-/preview", templates.TemplatePreviewView.as_view(), name="template-preview"),
    path("templates/<slug:slug>", templates.TemplateEditView.as_view(), name="template-edit"),
    path("templates/<slug:slug>/restore", templates.TemplateRestoreView.as_view(), name="template-restore"),
    path("templates/<slug:slug>/test", templates.TemplateTestView.as_view(), name="template-test"),
    path("templates/<slug:slug>/delete", templates.TemplateDeleteView.as_view(), name="template-delete"),
    path("settings", settings.SettingsView.as_view(), name="settings"),
    path("unsubscribe/<str:token>", unsubscribe.unsubscribe_view, name="unsubscribe"),
    path("preferences/<str:token>", unsubscribe.preferences_view, name="preferences"),
]
