"""The OpenAPI schema and its Swagger UI: for anyone, or only after sign-in when API_DOCS_PUBLIC is false.

The UI is drf-spectacular's split view: its start-up script is a second
request to the same URL (`?script=`), not an inline <script>, so the page
runs under the site's CSP unchanged; its one inline <style> is a static file
here (templates/api/swagger_ui.html).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseBase
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class ApiDocsAccess(BasePermission):
    """Anyone while the docs are public; otherwise a signed-in user (by session or token)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(settings.API_DOCS_PUBLIC or (request.user and request.user.is_authenticated))


class SchemaView(SpectacularAPIView):
    """GET /api/schema/: the OpenAPI document; a 401 (`WWW-Authenticate: Token`) without sign-in when not public."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [ApiDocsAccess]


class DocsView(SpectacularSwaggerSplitView):
    """GET /api/docs/: Swagger UI; a browser without a session is sent to sign in first when not public."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [ApiDocsAccess]
    template_name = "api/swagger_ui.html"

    # DRF's dispatch finishes any HttpResponseBase this answers (its stubs say Response only).
    def handle_exception(self, exc: Exception) -> HttpResponseBase:  # type: ignore[override]
        if isinstance(exc, NotAuthenticated | AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        response: HttpResponseBase = super().handle_exception(exc)
        return response
