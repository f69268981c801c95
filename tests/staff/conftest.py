"""Fixtures of the staff API tests: the moto stack from template.yaml, leads stored by the real submit
handler, and ``StaffCaller`` that sends events/staff_*.json (claims as the Cognito authorizer passes them on)
through ``staff_api.app.lambda_handler``."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cli.conftest import Submitter
from tests.conftest import FakeLambdaContext, load_event

# The actor is the email a person signs in with; ``cognito:username`` is the account's opaque id.
STAFF_USER = "frontdesk@example-clinic.com"
ADMIN_USER = "manager@example-clinic.com"
_ACCOUNT_IDS = {
    STAFF_USER: "4b8e2f1a-9c3d-4e5f-8a7b-1c2d3e4f5a6b",
    ADMIN_USER: "9d0c1b2a-3e4f-4a5b-8c7d-6e5f4a3b2c1d",
}
CLIENT_ID = "3n4b5c6d7e8f9g0h1i2j3k4l5m"

# (event file, path template) of every data route; ``{id}`` is replaced by the lead id.
DATA_ROUTES: dict[str, tuple[str, str]] = {
    "list": ("staff_list_leads", "/staff/leads"),
    "show": ("staff_show_lead", "/staff/leads/{id}"),
    "status": ("staff_set_status", "/staff/leads/{id}/status"),
    "assign": ("staff_assign", "/staff/leads/{id}/assign"),
    "erase": ("staff_erase_lead", "/staff/leads/{id}"),
    "export": ("staff_export", "/staff/export"),
    "report": ("staff_report", "/staff/report"),
    "session": ("staff_session", "/staff/session"),
}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def staff_event(
    route: str,
    *,
    lead_id: str = "7K3M9Q2XAB",
    user: str = STAFF_USER,
    groups: Any = "staff",
    body: Any = None,
    query: dict[str, str] | None = None,
    claims: bool = True,
) -> dict[str, Any]:
    name, template = DATA_ROUTES[route]
    event = copy.deepcopy(load_event(name))
    path = template.replace("{id}", lead_id)
    event["path"] = path
    event["requestContext"]["path"] = "/v1" + path
    if "{id}" in template:
        event["pathParameters"] = {"id": lead_id}
    if query is not None:
        event["queryStringParameters"] = query or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if not claims:
        event["requestContext"].pop("authorizer", None)
        for headers in (event["headers"], event["multiValueHeaders"]):
            headers.pop("Authorization", None)
    else:
        token_claims = event["requestContext"]["authorizer"]["claims"]
        token_claims["email"] = user
        token_claims["cognito:username"] = _ACCOUNT_IDS.get(user, user)
        token_claims["sub"] = _ACCOUNT_IDS.get(user, user)
        token_claims["aud"] = CLIENT_ID
        if groups is None:
            token_claims.pop("cognito:groups", None)
        else:
            token_claims["cognito:groups"] = groups
    return event


StaffCaller = Callable[..., Reply]


@pytest.fixture
def staff_env(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("USER_POOL_ID", "us-east-1_Example12")
    monkeypatch.setenv("USER_POOL_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("COGNITO_ENDPOINT", "https://cognito-idp.us-east-1.amazonaws.com/")
    monkeypatch.delenv("CONSOLE_URL", raising=False)
    from staff_api import config

    config.staff_settings.cache_clear()
    yield stack
    config.staff_settings.cache_clear()


def invoke_raw(event: dict[str, Any]) -> Reply:
    from staff_api.app import lambda_handler

    response = lambda_handler(event, FakeLambdaContext())
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return Reply(response["statusCode"], headers, response.get("body") or "")


@pytest.fixture
def staff(staff_env: Any) -> StaffCaller:
    """``staff(route, **staff_event options)`` -> ``Reply``."""

    def call(route: str, **options: Any) -> Reply:
        return invoke_raw(staff_event(route, **options))

    return call


@pytest.fixture
def submit(staff_env: Any) -> Submitter:
    return Submitter(FakeLambdaContext())


def audit_entries(table_name: str) -> list[dict[str, Any]]:
    from leads_core.manage import LeadAdmin

    return list(LeadAdmin(table_name).iter_audit())
