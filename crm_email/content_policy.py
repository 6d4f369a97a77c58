"""django-csp's middleware, told where browsers upload files.

With S3, the files and composer pages POST each file straight to the bucket
(a presigned POST), so their connect-src needs the bucket's origin beside
our own. It is read off a presigned POST (files.storage.presign_upload), so
it is exactly the URL boto3 gives the browser whatever the region,
addressing style or endpoint; presigning is local work, and the answer is
kept while the storage stays the same. With disk storage the uploads come
to this app and nothing is added.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError
from csp.middleware import CSPMiddleware, PolicyParts
from django.core.files.storage import storages
from django.http import HttpRequest, HttpResponseBase

from files.storage import presign_upload

logger = logging.getLogger(__name__)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    _known: tuple[weakref.ref[Any], str] | None = None

    def upload_origin(self) -> str:
        """scheme://host[:port] of the upload URL when it is not this app's, else ""."""
        storage = storages["default"]
        if self._known is not None and self._known[0]() is storage:
            return self._known[1]
        try:
            url = urlsplit(presign_upload(key="origin", content_type="text/plain", max_size=1, expires_in=60).url)
        except BotoCoreError:  # no credentials, say: no upload can work either, and the page still must
            logger.warning("No upload origin for the CSP: storage cannot presign", exc_info=True)
            return ""
        origin = f"{url.scheme}://{url.netloc}" if url.scheme and url.netloc else ""
        self._known = (weakref.ref(storage), origin)
        return origin

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        # Only pages upload; a view with a policy of its own (an email's body) keeps it as it is.
        if parts.config is not None or not response.get("Content-Type", "").startswith("text/html"):
            return parts
        origin = self.upload_origin()
        if origin:
            parts.update = {**(parts.update or {})}
            parts.update["connect-src"] = [*parts.update.get("connect-src", []), origin]
        return parts
