"""Local fakes of the SMS providers' HTTP APIs, for the real SDKs to talk to on 127.0.0.1.

Each fake is a threading http.server that records what the SDK sent (the action and its parameters) and
answers with what the test scripted for that action, in the providers' documented JSON: Tencent Cloud
API 3.0 (POST /, action in the X-TC-Action header, JSON body, answer in {"Response": …}) and Alibaba
Cloud RPC (action and parameters in the query string, answer a flat object with "Code")."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Call:
    action: str
    params: dict


@dataclass
class FakeProvider:
    """A provider on loopback: `answer(action, payload, delay=…)` scripts the next answers (the last one
    repeats), `calls` are what the SDK sent."""

    kind: str  # "tencent" | "aliyun"
    calls: list[Call] = field(default_factory=list)
    scripts: dict[str, list[tuple[dict, float]]] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, action: str, payload: dict, *, delay: float = 0.0) -> None:
        self.scripts.setdefault(action, []).append((payload, delay))

    def calls_of(self, action: str) -> list[Call]:
        return [call for call in self.calls if call.action == action]

    def _next(self, action: str) -> tuple[dict, float]:
        queue = self.scripts.get(action) or [({}, 0.0)]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        query = dict(parse_qsl(urlsplit(handler.path).query))
        if self.kind == "tencent":
            action = handler.headers.get("X-TC-Action", "")
            params = json.loads(raw or b"{}")
        else:
            action = query.get("Action") or handler.headers.get("x-acs-action", "")
            params = {**query, **dict(parse_qsl(raw.decode()))}
        self.calls.append(Call(action=action, params=params))
        payload, delay = self._next(action)
        if delay:
            time.sleep(delay)
        if self.kind == "tencent":
            payload = {"Response": {**payload, "RequestId": str(uuid.uuid4())}}
        else:
            payload = {**payload, "RequestId": str(uuid.uuid4())}
        status = payload.pop("_status", 200) if self.kind == "aliyun" else 200
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:  # the SDK gave up waiting (the timeout test): nobody reads the answer
            pass


def start(kind: str) -> FakeProvider:
    fake = FakeProvider(kind=kind)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            fake.handle(self)

        def do_GET(self) -> None:
            fake.handle(self)

        def log_message(self, *args) -> None:  # the test's output stays quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake


def stop(fake: FakeProvider) -> None:
    fake.server.shutdown()
    fake.server.server_close()


# --- The providers' answers ---------------------------------------------------------------------------


def tencent_sent(serial: str, phone: str) -> dict:
    return {
        "SendStatusSet": [
            {
                "SerialNo": serial,
                "PhoneNumber": f"+86{phone}",
                "Fee": 1,
                "SessionContext": "",
                "Code": "Ok",
                "Message": "send success",
                "IsoCode": "CN",
            }
        ]
    }


def tencent_refused_number(code: str, phone: str, message: str) -> dict:
    return {
        "SendStatusSet": [
            {
                "SerialNo": "",
                "PhoneNumber": f"+86{phone}",
                "Fee": 0,
                "SessionContext": "",
                "Code": code,
                "Message": message,
                "IsoCode": "CN",
            }
        ]
    }


def tencent_error(code: str, message: str) -> dict:
    return {"Error": {"Code": code, "Message": message}}


def tencent_receipts(*items: tuple[str, str, bool]) -> dict:
    """(serial, phone, delivered) per receipt."""
    return {
        "PullSmsSendStatusSet": [
            {
                "UserReceiveTime": "2026-11-28 10:15:07",
                "CountryCode": "86",
                "SubscriberNumber": phone,
                "PhoneNumber": f"+86{phone}",
                "SerialNo": serial,
                "ReportStatus": "SUCCESS" if delivered else "FAIL",
                "Description": "DELIVRD" if delivered else "MK:0005",
                "SessionContext": "",
            }
            for serial, phone, delivered in items
        ]
    }


def aliyun_sent(biz_id: str) -> dict:
    return {"Code": "OK", "Message": "OK", "BizId": biz_id}


def aliyun_error(code: str, message: str, *, status: int = 200) -> dict:
    return {"Code": code, "Message": message, "_status": status}


def aliyun_details(phone: str, *, status: int, err_code: str) -> dict:
    return {
        "Code": "OK",
        "Message": "OK",
        "TotalCount": 1,
        "SmsSendDetailDTOs": {
            "SmsSendDetailDTO": [
                {
                    "ErrCode": err_code,
                    "TemplateCode": "SMS_900001",
                    "OutId": "",
                    "ReceiveDate": "2026-11-28 10:15:07",
                    "SendDate": "2026-11-28 10:15:02",
                    "PhoneNum": phone,
                    "Content": "【柳巷街道】…",
                    "SendStatus": status,
                }
            ]
        },
    }
