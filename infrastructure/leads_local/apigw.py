"""API Gateway REST API (v1) Lambda proxy integration, emulated for one resource.

``build_event`` turns an HTTP request into the event API Gateway sends, ``http_response`` turns the
handler's dict back into status, headers and body the way API Gateway does, ``LambdaContext`` stands in for
the runtime's context object.

Body encoding: the deployed ``ConsultationsApi`` declares no ``BinaryMediaTypes`` (``binary_media_types()``
reads them from the template), so API Gateway hands every body to the function as text with
``isBase64Encoded: false``. The emulation does the same for any body that is valid UTF-8 and whose content
type is not a declared binary type; a body that is not valid UTF-8 (which API Gateway would mangle) is passed
base64-encoded with ``isBase64Encoded: true`` so the handler sees the exact bytes and can answer 400. An empty
body is ``None``, as in API Gateway.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

STAGE = "v1"
API_ID = "local000001"
RESOURCE_ID = "consult1"
DEPLOYMENT_ID = "local1"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
DOMAIN_NAME = f"{API_ID}.execute-api.{REGION}.amazonaws.com"


def binary_media_types() -> tuple[str, ...]:
    """``BinaryMediaTypes`` of the template's ``AWS::Serverless::Api`` (empty when none are declared)."""
    from leads_local.template import resources_of_type  # noqa: PLC0415

    types: list[str] = []
    for api in resources_of_type("AWS::Serverless::Api").values():
        types.extend(str(t).replace("~1", "/") for t in api.get("Properties", {}).get("BinaryMediaTypes", []))
    return tuple(types)


def _is_binary(content_type: str, binary_types: Iterable[str]) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return bool(media_type) and any(fnmatch.fnmatch(media_type, pattern.lower()) for pattern in binary_types)


def _multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value  # last value per name, as API Gateway does
        multi.setdefault(name, []).append(value)
    return single, multi


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


@dataclass(frozen=True)
class HttpRequest:
    """What the local HTTP server received."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"
    server_port: int = 0


def build_event(  # noqa: PLR0913 - the request plus what API Gateway adds to the event, named
    request: HttpRequest,
    resource: str = "/consultations",
    request_id: str | None = None,
    binary_types: Iterable[str] = (),
    now: datetime | None = None,
    *,
    path_parameters: Mapping[str, str] | None = None,
    claims: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The proxy event API Gateway REST sends for ``request`` (regional endpoint, stage ``v1``); ``claims``
    are a Cognito authorizer's (``requestContext.authorizer.claims``)."""
    request_id = request_id or str(uuid.uuid4())
    now = now or datetime.now(UTC)
    headers = list(request.headers)
    names = {name.lower() for name, _ in headers}
    forwarded = next((v for n, v in headers if n.lower() == "x-forwarded-for"), "")
    headers = [(n, v) for n, v in headers if n.lower() != "x-forwarded-for"]
    headers.append(
        ("X-Forwarded-For", f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip)
    )
    if "x-forwarded-proto" not in names:
        headers.append(("X-Forwarded-Proto", "http"))  # the local server speaks plain HTTP
    if "x-forwarded-port" not in names and request.server_port:
        headers.append(("X-Forwarded-Port", str(request.server_port)))
    if "x-amzn-trace-id" not in names:
        headers.append(("X-Amzn-Trace-Id", _trace_id()))
    single_headers, multi_headers = _multi(headers)
    query_pairs = parse_qsl(request.query, keep_blank_values=True)
    single_query, multi_query = _multi(query_pairs)
    user_agent = next((v for n, v in reversed(headers) if n.lower() == "user-agent"), None)
    content_type = next((v for n, v in reversed(headers) if n.lower() == "content-type"), "")

    body: str | None
    is_base64 = False
    if not request.body:
        body = None
    elif _is_binary(content_type, binary_types):
        body, is_base64 = base64.b64encode(request.body).decode("ascii"), True
    else:
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            body, is_base64 = base64.b64encode(request.body).decode("ascii"), True

    event: dict[str, Any] = {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "deploymentId": DEPLOYMENT_ID,
            "domainName": DOMAIN_NAME,
            "domainPrefix": API_ID,
            "extendedRequestId": secrets.token_urlsafe(12),
            "httpMethod": request.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": request.source_ip,
                "user": None,
                "userAgent": user_agent,
                "userArn": None,
            },
            "path": f"/{STAGE}{request.path}",
            "protocol": request.protocol,
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": RESOURCE_ID,
            "resourcePath": resource,
            "stage": STAGE,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }
    if claims is not None:
        event["requestContext"]["authorizer"] = {"claims": dict(claims)}
    return event


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def gateway_error(status: int, message: str, request_id: str) -> HttpResponse:
    """An error API Gateway itself answers (e.g. 502 for a failed or malformed integration response)."""
    body = json.dumps({"message": message}).encode()
    return HttpResponse(
        status,
        [
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", message),
        ],
        body,
    )


def http_response(result: Any, request_id: str) -> HttpResponse:
    """Translate a proxy integration result; anything malformed is a 502, as API Gateway answers it."""
    if not isinstance(result, Mapping) or "statusCode" not in result:
        return gateway_error(502, "Internal server error", request_id)
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return gateway_error(502, "Internal server error", request_id)
    headers_in = result.get("headers") or {}
    multi_in = result.get("multiValueHeaders") or {}
    if not isinstance(headers_in, Mapping) or not isinstance(multi_in, Mapping) or not 100 <= status <= 599:
        return gateway_error(502, "Internal server error", request_id)
    # A name in multiValueHeaders replaces the same name in headers (API Gateway merges them that way).
    multi_names = {str(name).lower() for name in multi_in}
    headers: list[tuple[str, str]] = [
        (str(n), str(v)) for n, v in headers_in.items() if str(n).lower() not in multi_names
    ]
    for name, values in multi_in.items():
        headers.extend((str(name), str(v)) for v in (values or []))
    raw_body = result.get("body")
    if raw_body is None:
        body = b""
    elif result.get("isBase64Encoded"):
        try:
            body = base64.b64decode(str(raw_body), validate=True)
        except (binascii.Error, ValueError):
            return gateway_error(502, "Internal server error", request_id)
    else:
        body = str(raw_body).encode("utf-8")
    lower = {n.lower() for n, _ in headers}
    if "content-type" not in lower and body:
        headers.append(("Content-Type", "application/json"))
    headers.append(("x-amzn-RequestId", request_id))
    return HttpResponse(status, headers, body)


@dataclass
class LambdaContext:
    """The parts of the Lambda runtime's context object handlers and Powertools use."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 10.0
    function_version: str = "$LATEST"
    region: str = REGION
    account_id: str = ACCOUNT_ID
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.start_clock()

    def start_clock(self) -> None:
        """(Re)start the ``timeout_seconds`` countdown (the local stack calls it when the invocation runs)."""
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
