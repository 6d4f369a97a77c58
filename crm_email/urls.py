from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core.signin import SignInView
from crm_email import health
from crm_email.api_docs import DocsView, SchemaView

urlpatterns = [
    # Answered first by crm_email.health.HealthMiddleware; named here for reverse() and the URL conf's readers.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include(("emails.api.urls", "api"), namespace="api")),
    path("api/", include(("files.api.urls", "files-api"), namespace="files-api")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(), name="api-docs"),
    path("", include("emails.urls")),
    path("", include("files.urls")),
]
# An unmatched path under /api/ answers the API's JSON envelope; a page's, the HTML page.
handler404 = "core.rest.errors.not_found"
