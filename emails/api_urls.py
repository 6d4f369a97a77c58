from __future__ import annotations

from django.urls import path, re_path

from emails import api, api_suppressions, webhook

# The seeds' clients call these paths without a trailing slash; both work.
urlpatterns = [
    re_path(r"^email/?$", api.EmailCollectionView.as_view(), name="email-collection"),
    re_path(r"^email/quota/?$", api.EmailQuotaView.as_view(), name="email-quota"),
    re_path(r"^email/webhook/?$", webhook.sns_webhook, name="email-webhook"),
    re_path(r"^email/suppressions/?$", api_suppressions.SuppressionCollectionView.as_view(), name="suppressions"),
    re_path(
        r"^email/suppressions/(?P<suppression_id>[0-9]+)/?$",
        api_suppressions.SuppressionDetailView.as_view(),
        name="suppression-detail",
    ),
    re_path(r"^email/reputation/?$", api_suppressions.ReputationView.as_view(), name="reputation"),
    re_path(
        r"^email/reputation/holds/(?P<hold_id>[0-9]+)/resume/?$",
        api_suppressions.ReputationResumeView.as_view(),
        name="reputation-resume",
    ),
    path("email/<uuid:message_id>", api.EmailDetailView.as_view(), name="email-detail"),
    path("email/<uuid:message_id>/", api.EmailDetailView.as_view()),
]
