"""The web pages (the API is emails/api/urls.py)."""

from __future__ import annotations

from django.urls import path

from emails.pages import analytics, compose, contact, identities, log, message, unsubscribe

app_name = "emails"
urlpatterns = [
    path("", compose.ComposeView.as_view(), name="compose"),
    path("compose", compose.ComposeView.as_view()),
    path("emails", log.LogView.as_view(), name="log"),
    path("emails/export.csv", log.log_export, name="export"),
    path("emails/<uuid:message_id>", message.DetailView.as_view(), name="detail"),
    path("emails/<uuid:message_id>/live", message.LiveView.as_view(), name="message-live"),
    path("emails/live", log.LiveRowsView.as_view(), name="log-live"),
    path("analytics", analytics.AnalyticsView.as_view(), name="analytics"),
    path("analytics/export.csv", analytics.analytics_export, name="analytics-export"),
    path("contacts/<path:address>", contact.ContactView.as_view(), name="contact"),
    path("identities", identities.IdentitiesView.as_view(), name="identities"),
    path("unsubscribe/<str:token>", unsubscribe.unsubscribe_view, name="unsubscribe"),
]
