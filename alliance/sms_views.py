"""The address the SMS providers push delivery receipts to (alliance/sms.py). Thin."""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import sms

# A provider's batch is at most a few hundred receipts; anything far larger is not one.
MAX_BODY = 1024 * 1024


@csrf_exempt  # called by the provider's servers, authenticated by the secret in the address
@require_POST
def sms_receipts(request: HttpRequest, provider: str, secret: str) -> JsonResponse:
    expected = settings.SMS_RECEIPT_SECRET
    if not expected or provider not in sms.CALLBACK_ANSWERS or not hmac.compare_digest(secret, expected):
        raise Http404
    try:
        if int(request.headers.get("Content-Length") or 0) > MAX_BODY:
            raise ValueError("too large")
        receipts = sms.receipts_from_callback(provider, json.loads(request.body or b"null"))
    except ValueError:  # json.JSONDecodeError is one
        return JsonResponse({"detail": "a JSON list of receipts was expected"}, status=400)
    sms.record_receipts(receipts, provider=provider)
    return JsonResponse(sms.CALLBACK_ANSWERS[provider])
