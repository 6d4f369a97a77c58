"""The project's app config: the admin's, to make the product-named site Django's default one, and connect
the permission cache's signals."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class ProductAdminConfig(AdminConfig):
    default_site = "crm_email.admin.ProductAdminSite"

    def ready(self) -> None:
        super().ready()
        # The cached permissions are renewed by any change of permissions, groups or who holds which. Imported
        # here, as Django's signal receivers are: the module imports auth's models, not loaded before ready().
        from core.permission_cache import permission_cache_connect

        permission_cache_connect()
