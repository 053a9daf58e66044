"""Text messages through a pluggable backend (settings.SMS_BACKEND), in the manner of Django's e-mail.

- `ConsoleSmsBackend` (the demo default) logs the text, masked; `LocmemSmsBackend` keeps it for tests.
- `TencentSmsBackend` and `AliyunSmsBackend` send through the providers' official SDKs. Providers send an
  approved TEMPLATE with parameters, never free text: SMS_TEMPLATES maps a notification kind to a
  template id and the names of the parameters it takes, in order (Tencent numbers them {1}, {2}…;
  Aliyun names them ${code}…: `"params": {"code": "code"}` maps a template's name to ours). What the
  platform can put in a parameter is `PARAMETERS`. A kind without a template is not sent by text.
- A backend raises `SmsTransientError` for what may work later (throttled, timed out, the provider's own
  failure) and `SmsPermanentError` for what will not (a bad template, signature or number); the delivery
  (alliance/notifications.py) retries the first with backoff and records the second for staff.
- A text that went out returns `SmsSent` with the provider's message id; `fetch_receipts` (a beat task)
  asks the provider what became of it and records the receipt on the notification row.
- At most SMS_DAILY_CAP texts a day go to one number (`take_daily_allowance`): later ones wait for the
  next day, visibly (the row says so), instead of being dropped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from .masking import mask_phone, redact
from .models import Notification, SmsDailyCount, SmsStatus

logger = logging.getLogger(__name__)

# What a template's parameters may be made of (SMS_TEMPLATES "params"): the notification's subject and
# body, its link (absolute), and for password-recovery codes the code and how many minutes it works.
PARAMETERS = frozenset({"subject", "body", "link", "code", "minutes"})
# Receipts are asked for texts sent in the last few days; older ones the providers no longer answer for.
RECEIPT_WINDOW = timedelta(days=3)
RECEIPT_BATCH = 100


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    kind: str = ""
    # The values the template's parameters are taken from (names in PARAMETERS).
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SmsTemplate:
    template_id: str
    # (the name in the provider's template, our parameter name), in the template's order.
    params: tuple[tuple[str, str], ...]

    def values(self, message: SmsMessage) -> list[tuple[str, str]]:
        missing = [ours for _theirs, ours in self.params if ours not in message.params]
        if missing:
            raise SmsPermanentError(
                "template_params",
                f"the template {self.template_id} takes {', '.join(missing)}, which kind {message.kind!r} does not supply",
            )
        return [(theirs, str(message.params[ours])) for theirs, ours in self.params]


@dataclass(frozen=True)
class SmsSent:
    provider: str
    message_id: str = ""
    template_id: str = ""
    # True when the provider reports delivery later (then the row waits for a receipt).
    receipts: bool = False


@dataclass(frozen=True)
class SmsReceipt:
    message_id: str
    delivered: bool
    at: datetime | None
    error_code: str = ""


class SmsError(Exception):
    transient = False

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class SmsTransientError(SmsError):
    """Worth trying again later: throttled, timed out, the provider failed."""

    transient = True


class SmsPermanentError(SmsError):
    """Will fail again: a template, signature or number the provider refuses, credentials it rejects."""


class SmsNoTemplate(SmsPermanentError):
    """The kind has no template: not sent by text at all (never as free text)."""


def template_for(kind: str) -> SmsTemplate | None:
    """The template of `kind`: its exact entry, else the longest prefix ("need_resident:"), else "*"."""
    templates: dict = settings.SMS_TEMPLATES
    entry = templates.get(kind) if kind else None
    if entry is None:
        prefixes = [name for name in templates if name.endswith(":") and kind.startswith(name)]
        entry = templates[max(prefixes, key=len)] if prefixes else templates.get("*")
    if entry is None:
        return None
    raw = entry.get("params", [])
    pairs = tuple(raw.items()) if isinstance(raw, dict) else tuple((name, name) for name in raw)
    unknown = sorted({ours for _theirs, ours in pairs} - PARAMETERS)
    if unknown:
        # Staff see this on the row (the text is not sent), and it is not tried again until they fix it.
        raise SmsPermanentError(
            "template_config",
            f"SMS_TEMPLATES for {kind!r} names parameters the platform does not supply: {', '.join(unknown)} "
            f"(it supplies {', '.join(sorted(PARAMETERS))})",
        )
    return SmsTemplate(template_id=str(entry["template"]), params=pairs)


class BaseSmsBackend:
    """A gateway adapter implements `send`. It returns `SmsSent`, or raises `SmsError` (or anything else,
    which the delivery treats as worth retrying)."""

    name = "base"
    # Template backends send only kinds that have a template; the others send the text itself.
    uses_templates = False

    def send(self, message: SmsMessage) -> SmsSent:  # pragma: no cover - interface
        raise NotImplementedError

    def fetch_receipts(self, pending: list[Notification]) -> list[SmsReceipt]:
        """Receipts for (some of) these rows, still awaiting one; backends without receipts have none."""
        return []


class ConsoleSmsBackend(BaseSmsBackend):
    """The default: writes the message to the log. The number is masked, as everywhere in logs, and so
    are the secrets a text may carry (a password-set link, a tracking code): the log is read by more
    people than the message's recipient."""

    name = "console"

    def send(self, message: SmsMessage) -> SmsSent:
        logger.info("SMS to %s: %s", mask_phone(message.phone), redact(message.text))
        return SmsSent(provider=self.name)


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps messages in `outbox`, for tests (like django.core.mail's locmem backend)."""

    name = "locmem"
    outbox: list[SmsMessage] = []

    def send(self, message: SmsMessage) -> SmsSent:
        type(self).outbox.append(message)
        return SmsSent(provider=self.name)


def _credentials() -> tuple[str, str]:
    key_id, secret = settings.SMS_ACCESS_KEY_ID, settings.SMS_ACCESS_KEY_SECRET
    if not (key_id and secret and settings.SMS_SIGN_NAME):
        raise ImproperlyConfigured(
            "SMS_ACCESS_KEY_ID, SMS_ACCESS_KEY_SECRET and SMS_SIGN_NAME must be set for a provider's SMS backend."
        )
    return key_id, secret


def _endpoint() -> tuple[str, str] | None:
    """(scheme, host[:port]) of SMS_ENDPOINT, or None for the provider's own."""
    raw = settings.SMS_ENDPOINT.strip()
    if not raw:
        return None
    scheme, _sep, host = raw.partition("://")
    return (scheme, host.rstrip("/")) if host else ("https", scheme.rstrip("/"))


class TencentSmsBackend(BaseSmsBackend):
    """Tencent Cloud SMS (API 2021-01-11, `tencentcloud-sdk-python-sms`): SendSms with SmsSdkAppId, the
    signature, a template id and its parameters in order; receipts by PullSmsSendStatus."""

    name = "tencent"
    uses_templates = True
    # SendSms answers per number with a code; these are worth trying again later.
    TRANSIENT = ("LimitExceeded", "RequestLimitExceeded", "InternalError", "ClientNetworkError", "ServerNetworkError")

    def __init__(self) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        key_id, secret = _credentials()
        if not settings.SMS_SDK_APP_ID:
            raise ImproperlyConfigured("SMS_SDK_APP_ID must be set for Tencent Cloud SMS.")
        http = HttpProfile(reqTimeout=settings.SMS_TIMEOUT_SECONDS)
        endpoint = _endpoint()
        if endpoint is not None:
            http.scheme, http.endpoint = endpoint
        self.client = sms_client.SmsClient(
            credential.Credential(key_id, secret), settings.SMS_REGION, ClientProfile(httpProfile=http)
        )

    def _classify(self, code: str, message: str) -> SmsError:
        transient = any(code == prefix or code.startswith(f"{prefix}.") for prefix in self.TRANSIENT)
        return (SmsTransientError if transient else SmsPermanentError)(code, message)

    def send(self, message: SmsMessage) -> SmsSent:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        template = template_for(message.kind)
        if template is None:
            raise SmsNoTemplate("no_template", f"kind {message.kind!r}")
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{message.phone}"]
        request.SmsSdkAppId = settings.SMS_SDK_APP_ID
        request.SignName = settings.SMS_SIGN_NAME
        request.TemplateId = template.template_id
        request.TemplateParamSet = [value for _name, value in template.values(message)]
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise self._classify(exc.get_code() or "", exc.get_message() or "") from exc
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise SmsTransientError("NoStatus", "SendSms answered without a status")
        if status.Code != "Ok":
            raise self._classify(status.Code or "", status.Message or "")
        return SmsSent(
            provider=self.name, message_id=status.SerialNo or "", template_id=template.template_id, receipts=True
        )

    def fetch_receipts(self, pending: list[Notification]) -> list[SmsReceipt]:
        """PullSmsSendStatus hands out the account's receipts not pulled yet (up to 100 a call), whatever
        the texts: the rows they name are matched by serial number."""
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        if not pending:
            return []
        request = models.PullSmsSendStatusRequest()
        request.Limit = RECEIPT_BATCH
        request.SmsSdkAppId = settings.SMS_SDK_APP_ID
        try:
            response = self.client.PullSmsSendStatus(request)
        except TencentCloudSDKException as exc:
            raise self._classify(exc.get_code() or "", exc.get_message() or "") from exc
        return [
            SmsReceipt(
                message_id=item.SerialNo or "",
                delivered=item.ReportStatus == "SUCCESS",
                at=_provider_time(item.UserReceiveTime),
                error_code="" if item.ReportStatus == "SUCCESS" else (item.Description or "FAIL"),
            )
            for item in response.PullSmsSendStatusSet or []
        ]


class AliyunSmsBackend(BaseSmsBackend):
    """Alibaba Cloud SMS (Dysmsapi 2017-05-25, `alibabacloud_dysmsapi20170525`): SendSms with the
    signature, a template code and its parameters as a JSON object; receipts by QuerySendDetails."""

    name = "aliyun"
    uses_templates = True
    TRANSIENT = frozenset(
        {
            "isv.BUSINESS_LIMIT_CONTROL",
            "isv.DAY_LIMIT_CONTROL",
            "Throttling.User",
            "Throttling",
            "isp.SYSTEM_ERROR",
            "ServiceUnavailable",
            "InternalError",
        }
    )
    DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"

    def __init__(self) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as open_api_models

        key_id, secret = _credentials()
        scheme, host = _endpoint() or ("https", self.DEFAULT_ENDPOINT)
        timeout_ms = settings.SMS_TIMEOUT_SECONDS * 1000
        self.client = Client(
            open_api_models.Config(
                access_key_id=key_id,
                access_key_secret=secret,
                endpoint=host,
                protocol=scheme,
                region_id=settings.SMS_REGION if settings.SMS_REGION.startswith("cn-") else "cn-hangzhou",
                read_timeout=timeout_ms,
                connect_timeout=timeout_ms,
            )
        )

    def _classify(self, code: str, message: str) -> SmsError:
        transient = code in self.TRANSIENT or code.startswith("Throttling")
        return (SmsTransientError if transient else SmsPermanentError)(code, message)

    def _call(self, method, request):
        from Tea.exceptions import TeaException, UnretryableException

        try:
            return method(request)
        except UnretryableException as exc:  # the network: refused, reset, timed out
            raise SmsTransientError("NetworkError", str(exc)[:200]) from exc
        except TeaException as exc:  # the provider answered with an error status
            raise self._classify(str(exc.code or ""), str(exc.message or "")[:200]) from exc

    def send(self, message: SmsMessage) -> SmsSent:
        from alibabacloud_dysmsapi20170525 import models

        template = template_for(message.kind)
        if template is None:
            raise SmsNoTemplate("no_template", f"kind {message.kind!r}")
        request = models.SendSmsRequest(
            phone_numbers=message.phone,
            sign_name=settings.SMS_SIGN_NAME,
            template_code=template.template_id,
            template_param=json.dumps(dict(template.values(message)), ensure_ascii=False),
        )
        body = self._call(self.client.send_sms, request).body
        if body.code != "OK":
            raise self._classify(body.code or "", body.message or "")
        return SmsSent(
            provider=self.name, message_id=body.biz_id or "", template_id=template.template_id, receipts=True
        )

    def fetch_receipts(self, pending: list[Notification]) -> list[SmsReceipt]:
        """QuerySendDetails answers for one text (number, BizId, day sent)."""
        from alibabacloud_dysmsapi20170525 import models

        receipts = []
        for row in pending:
            sent_day = timezone.localtime(row.sms_sent_at or row.created_at).strftime("%Y%m%d")
            request = models.QuerySendDetailsRequest(
                phone_number=row.phone, biz_id=row.sms_message_id, send_date=sent_day, page_size=10, current_page=1
            )
            body = self._call(self.client.query_send_details, request).body
            if body.code != "OK":
                raise self._classify(body.code or "", body.message or "")
            details = body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []
            # SendStatus: 1 waiting for the receipt, 2 failed, 3 delivered.
            for detail in details or []:
                if detail.send_status in (2, 3):
                    receipts.append(
                        SmsReceipt(
                            message_id=row.sms_message_id,
                            delivered=detail.send_status == 3,
                            at=_provider_time(detail.receive_date),
                            error_code="" if detail.send_status == 3 else (detail.err_code or "FAILED"),
                        )
                    )
                    break
        return receipts


def _provider_time(value: str | None) -> datetime | None:
    """ "2026-11-28 10:15:00", Beijing time in both providers' answers."""
    if not value:
        return None
    try:
        return timezone.make_aware(datetime.strptime(value, "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return None


def get_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(phone: str, text: str, *, kind: str = "", params: Mapping[str, str] | None = None) -> SmsSent:
    return get_backend().send(SmsMessage(phone=phone, text=text, kind=kind, params=dict(params or {})))


# --- The daily cap per number ----------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def take_daily_allowance(phone: str) -> bool:
    """Count one text to `phone` today; False (and nothing counted) when SMS_DAILY_CAP are already out.
    The count is a row per number and day, raised by a conditional UPDATE: on PostgreSQL the second of
    two racing workers waits for the first's row lock and re-reads the count, so the cap holds exactly."""
    day = _today()
    with transaction.atomic():
        try:
            with transaction.atomic():
                SmsDailyCount.objects.get_or_create(phone=phone, day=day)
        except IntegrityError:  # another worker made today's row first: it is there now
            pass
        taken = SmsDailyCount.objects.filter(phone=phone, day=day, count__lt=settings.SMS_DAILY_CAP).update(
            count=F("count") + 1
        )
    return taken == 1


def give_back_allowance(phone: str) -> None:
    """The provider refused the text: it did not go out and does not count."""
    SmsDailyCount.objects.filter(phone=phone, day=_today(), count__gt=0).update(count=F("count") - 1)


def next_day_start() -> datetime:
    """When a text held by the cap may go: the next midnight, Beijing time."""
    tomorrow = _today() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, datetime.min.time()))


def forget_old_counts(days: int = 7) -> int:
    return SmsDailyCount.objects.filter(day__lt=_today() - timedelta(days=days)).delete()[0]


# --- Receipts ----------------------------------------------------------------------------------------


def record_receipts(receipts: Iterable[SmsReceipt], *, provider: str) -> int:
    """Put the receipts on their rows (only rows still awaiting one: a receipt told twice counts once)."""
    recorded = 0
    for receipt in receipts:
        if not receipt.message_id:
            continue
        recorded += Notification.objects.filter(
            sms_provider=provider, sms_message_id=receipt.message_id, sms_status=SmsStatus.ACCEPTED
        ).update(
            sms_status=SmsStatus.DELIVERED if receipt.delivered else SmsStatus.UNDELIVERED,
            sms_receipt_at=receipt.at or timezone.now(),
            sms_error_code=receipt.error_code[:80],
        )
    return recorded


def fetch_receipts() -> int:
    """The beat task: ask the configured provider what became of the texts still awaiting a receipt."""
    backend = get_backend()
    pending = list(
        Notification.objects.filter(
            sms_status=SmsStatus.ACCEPTED,
            sms_provider=backend.name,
            sms_sent_at__gte=timezone.now() - RECEIPT_WINDOW,
        )
        .exclude(sms_message_id="")
        .order_by("sms_sent_at")
        .only("pk", "phone", "sms_message_id", "sms_sent_at", "created_at")[:RECEIPT_BATCH]
    )
    if not pending:
        return 0
    try:
        receipts = backend.fetch_receipts(pending)
    except SmsError as exc:
        logger.warning("SMS receipts not fetched from %s: %s", backend.name, redact(str(exc)))
        return 0
    return record_receipts(receipts, provider=backend.name)


# --- Receipts pushed by the provider (the callback address) -----------------------------------------
# Both providers can also POST receipts to an address of ours (Tencent "状态回执" callback, Aliyun
# "SmsReport" HTTP push). Neither signs the request in a way both SDKs check, so the address carries a
# secret (SMS_RECEIPT_SECRET); without it the address does not exist.


def receipts_from_callback(provider: str, payload: object) -> list[SmsReceipt]:
    """The receipts in a provider's callback body (a JSON list); ValueError when it is not one."""
    if not isinstance(payload, list) or not all(isinstance(item, dict) for item in payload):
        raise ValueError("a JSON list of receipts was expected")
    receipts = []
    for item in payload:
        if provider == "tencent":
            delivered = item.get("report_status") == "SUCCESS"
            message_id, at, error = item.get("sid"), item.get("user_receive_time"), item.get("errmsg")
        elif provider == "aliyun":
            delivered = item.get("success") is True
            message_id, at, error = item.get("biz_id"), item.get("report_time"), item.get("err_code")
        else:
            raise ValueError(f"unknown provider {provider!r}")
        receipts.append(
            SmsReceipt(
                message_id=str(message_id or ""),
                delivered=delivered,
                at=_provider_time(str(at or "")),
                error_code="" if delivered else str(error or "FAILED"),
            )
        )
    return receipts


CALLBACK_ANSWERS = {"tencent": {"result": 0, "errmsg": "OK"}, "aliyun": {"code": 0, "msg": "成功"}}
