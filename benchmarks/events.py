"""API Gateway REST proxy events (the shape Lambda receives from a REST API with proxy integration)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any


def rest_proxy_event(
    body: str | bytes | dict[str, Any] | None,
    *,
    method: str = "POST",
    path: str = "/consultations",
    headers: dict[str, str] | None = None,
    source_ip: str = "198.51.100.7",
) -> dict[str, Any]:
    """A REST API proxy event. ``dict`` bodies are sent as JSON; ``bytes`` bodies base64-encoded."""
    all_headers = {"Host": "api.example-clinic.com", "User-Agent": "bench/1.0"}
    is_base64 = False
    if isinstance(body, dict):
        text: str | None = json.dumps(body)
        all_headers["Content-Type"] = "application/json"
    elif isinstance(body, bytes):
        text = base64.b64encode(body).decode("ascii")
        is_base64 = True
    else:
        text = body
    all_headers.update(headers or {})
    request_id = str(uuid.uuid4())
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "accountId": "123456789012",
            "apiId": "bench00001",
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": 1_764_423_912_000,
            "identity": {"sourceIp": source_ip, "userAgent": all_headers["User-Agent"]},
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


def source_ip(index: int) -> str:
    """A distinct documentation-range address (TEST-NET-1/2/3) per index."""
    network = ("192.0.2", "198.51.100", "203.0.113")[(index // 250) % 3]
    return f"{network}.{index % 250 + 1}"
