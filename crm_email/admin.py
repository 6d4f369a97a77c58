"""The admin site, in the product's name: Django's default site with PRODUCT_NAME for its header and titles.

Installed as the default site by `crm_email.apps.ProductAdminConfig` (in
INSTALLED_APPS instead of django.contrib.admin), so every app's admin.py
registers on it through `admin.site` as usual.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse

from core.signin import ThrottledAdminAuthenticationForm, signin_answer


class ProductAdminSite(AdminSite):
    # The app list beside every page took 280 of 1280 px from the changelists; the breadcrumbs and the
    # index still lead everywhere.
    enable_nav_sidebar = False
    # Failed sign-ins are throttled here as on the sign-in page (core/signin.py).
    login_form = ThrottledAdminAuthenticationForm

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site_header = settings.PRODUCT_NAME
        self.site_title = settings.PRODUCT_NAME
        self.index_title = f"{settings.PRODUCT_NAME} administration"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        return signin_answer(response, form)
