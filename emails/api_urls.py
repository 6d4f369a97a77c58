from __future__ import annotations

from django.urls import path, re_path

from emails import api, webhook

# The seeds' clients call these paths without a trailing slash; both work.
urlpatterns = [
    re_path(r"^email/?$", api.EmailCollectionView.as_view(), name="email-collection"),
    re_path(r"^email/quota/?$", api.EmailQuotaView.as_view(), name="email-quota"),
    re_path(r"^email/webhook/?$", webhook.sns_webhook, name="email-webhook"),
    path("email/<uuid:message_id>", api.EmailDetailView.as_view(), name="email-detail"),
    path("email/<uuid:message_id>/", api.EmailDetailView.as_view()),
]
