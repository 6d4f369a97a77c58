"""The staff's web pages (the API is in emails/api_urls.py)."""

from __future__ import annotations

from django.urls import path

from emails import public_views, views

app_name = "emails"
urlpatterns = [
    path("", views.ComposeView.as_view(), name="compose"),
    path("compose", views.ComposeView.as_view()),
    path("emails", views.LogView.as_view(), name="log"),
    path("emails/export.csv", views.log_export, name="export"),
    path("emails/<uuid:message_id>", views.DetailView.as_view(), name="detail"),
    path("unsubscribe/<str:token>", public_views.unsubscribe_view, name="unsubscribe"),
]
