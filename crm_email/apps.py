"""The project's app configs: the admin's, to make the product-named site Django's default one."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class ProductAdminConfig(AdminConfig):
    default_site = "crm_email.admin.ProductAdminSite"
