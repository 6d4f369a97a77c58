"""`POST /api/email/webhook`: where Amazon SNS posts SES events and subscription confirmations.

It only verifies and stores, so it keeps up with SNS bursts: applying the
events is scheduled on commit for a worker (emails.tracking).
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from emails.exceptions import SnsRejected, SnsUnavailable
from emails.tracking import webhook_receive

# Named for what operators search their logs for, wherever the view lives.
logger = logging.getLogger("emails.webhook")


@csrf_exempt  # SNS signs its messages; there is no session to forge
@require_POST
def sns_webhook(request: HttpRequest) -> JsonResponse:
    # SNS posts JSON as text/plain: read the raw body whatever the type says.
    try:
        body = request.body
    except RequestDataTooBig:
        return JsonResponse({"success": False, "error": "The body is larger than any SNS message."}, status=413)
    try:
        # A replay (same MessageId) stores and schedules nothing and is still a 200.
        webhook_receive(body)
    except SnsRejected as exc:
        logger.warning("SNS message refused: %s", exc.reason)
        return JsonResponse({"success": False, "error": exc.reason}, status=403)
    except SnsUnavailable as exc:
        # Only a 5xx makes SNS deliver again; the message may well be genuine.
        logger.warning("SNS message not verifiable now: %s", exc.reason)
        return JsonResponse({"success": False, "error": "Signing certificate unavailable"}, status=503)
    return JsonResponse({"success": True})
