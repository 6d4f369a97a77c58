"""What every page's template needs from the project's settings: the product's name.

The project's, not `core`'s: core is what the apps share in code, this is the
deployment's branding, read by base.html, the sign-in page and the admin.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def product(request: HttpRequest) -> dict[str, str]:
    """`product_name`: PRODUCT_NAME, the one name the pages, the sign-in page and the admin show."""
    return {"product_name": settings.PRODUCT_NAME}
