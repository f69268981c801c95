"""The real staff function behind the local API emulation: the console's settings point at the local pool and
sign-in endpoint, and the demo admin's ID token opens the staff API."""

from __future__ import annotations

import importlib.util
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from leads_local.stack import LocalStack

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(importlib.util.find_spec("staff_api") is None, reason="staff_api not in this branch"),
]


@pytest.fixture(scope="module")
def local() -> Iterator[LocalStack]:
    stack = LocalStack(port=0, aws_port=0, log=lambda line: None)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def call(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def id_token(local: LocalStack) -> str:
    assert local.cognito is not None
    pool, demo = local.cognito.staff_pool, local.cognito.demo
    assert pool is not None
    assert demo is not None
    payload = {
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": pool.client_id(),
        "AuthParameters": {"USERNAME": demo.email, "PASSWORD": demo.password},
    }
    status, _, body = call(
        f"{local.base_url}/_local/cognito/",
        "POST",
        json.dumps(payload).encode(),
        {
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    assert status == 200
    return str(json.loads(body)["AuthenticationResult"]["IdToken"])


def test_config_json_names_the_local_pool_and_the_same_origin_sign_in_endpoint(local: LocalStack) -> None:
    assert local.cognito is not None
    pool = local.cognito.staff_pool
    assert pool is not None
    status, headers, body = call(f"{local.base_url}/staff/config.json")
    assert status == 200
    config = json.loads(body)
    assert config["userPoolId"] == pool.pool_id
    assert config["clientId"] == pool.client_id()
    assert config["authEndpoint"] == f"{local.base_url}/_local/cognito/"
    assert "connect-src 'self'" in headers["Content-Security-Policy"]


def test_the_demo_admin_lists_leads_and_an_anonymous_caller_cannot(local: LocalStack) -> None:
    token = id_token(local)
    status, _, body = call(f"{local.base_url}/staff/leads", headers={"Authorization": token})
    assert status == 200
    assert json.loads(body) == {"leads": [], "next": None}
    status, _, body = call(f"{local.base_url}/staff/leads")
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})


def test_sign_in_is_recorded_through_the_authorizer(local: LocalStack) -> None:
    status, _, _ = call(f"{local.base_url}/staff/session", "POST", headers={"Authorization": id_token(local)})
    assert status == 204
