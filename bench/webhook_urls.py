"""The project's URLs plus `bench/bare-webhook`: the ceiling the real webhook is measured against."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm_email.urls import urlpatterns as project_urlpatterns
from emails.exceptions import SnsRejected
from emails.tracking.sns import sns_verify


@csrf_exempt
@require_POST
def bare_webhook(request: HttpRequest) -> JsonResponse:
    """Verify the same signature and parse the same JSON as the webhook; no database at all."""
    try:
        message = sns_verify(request.body)
        json.loads(message["Message"])
    except SnsRejected as exc:
        return JsonResponse({"success": False, "error": exc.reason}, status=403)
    return JsonResponse({"success": True})


urlpatterns = [path("bench/bare-webhook", bare_webhook), *project_urlpatterns]
