"""The per-view changes to the Content-Security-Policy (crm_email/settings/security.py has the site's own).

Each is a decorator for a view function; a class-based view takes it with
`method_decorator(..., name="dispatch")`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp, csp_update
from django.views.decorators.clickjacking import xframe_options_sameorigin

View = TypeVar("View", bound=Callable[..., Any])

# An email's layout is in style attributes (css-inline puts it there), and a
# srcdoc preview inherits its page's policy: the pages showing one allow
# style *attributes*, never a <style> element (the sanitiser drops those) nor
# an inline script. A style attribute can neither run code nor, with img-src
# and font-src kept to our own, fetch anything.
PREVIEW_STYLES: dict[str, Any] = {"style-src-attr": [UNSAFE_INLINE]}

# A message's HTML body with its remote images, and nothing else: no script,
# form, plugin or base URL, a sandbox (an opaque origin, as the iframe's own
# sandbox attribute also gives), framed only by our own pages. http: is there
# for mail that still links its images so; on an HTTPS page the browser
# upgrades those requests itself.
REMOTE_IMAGES_BODY: dict[str, Any] = {
    "default-src": [NONE],
    "img-src": ["http:", "https:", "data:"],
    "style-src": [UNSAFE_INLINE],
    "base-uri": [NONE],
    "form-action": [NONE],
    "frame-ancestors": [SELF],
    # Its links open in a tab of their own (the sanitiser marks them target=_blank), never in the frame.
    "sandbox": ["allow-popups", "allow-popups-to-escape-sandbox"],
}


def csp_preview_styles(view: View) -> View:
    """For a page with a sanitised email preview in a srcdoc iframe: the site's policy plus style attributes."""
    return csp_update(PREVIEW_STYLES)(view)  # type: ignore[return-value]


def csp_remote_images_body(view: View) -> View:
    """For the view serving an email's body with its remote images, framed by our own page."""
    return xframe_options_sameorigin(csp(REMOTE_IMAGES_BODY)(view))  # type: ignore[return-value]
