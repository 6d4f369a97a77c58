"""The admin site, in the product's name: Django's default site with PRODUCT_NAME for its header and titles.

Installed as the default site by `crm_email.apps.ProductAdminConfig` (in
INSTALLED_APPS instead of django.contrib.admin), so every app's admin.py
registers on it through `admin.site` as usual.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin import AdminSite


class ProductAdminSite(AdminSite):
    # The app list beside every page took 280 of 1280 px from the changelists; the breadcrumbs and the
    # index still lead everywhere.
    enable_nav_sidebar = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site_header = settings.PRODUCT_NAME
        self.site_title = settings.PRODUCT_NAME
        self.index_title = f"{settings.PRODUCT_NAME} administration"
