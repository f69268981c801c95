"""The local stack end to end, in process, over real HTTP: pages, CORS, submit -> table -> stream -> alert."""

from __future__ import annotations

import importlib.util
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from leads_local.faults import parse_faults
from leads_local.server import WEB_DIR
from leads_local.stack import LocalStack

pytestmark = pytest.mark.stack


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


HANDLERS_MISSING = [m for m in ("submit_consultation.app", "send_alerts.app") if _missing(m)]
needs_handlers = pytest.mark.skipif(
    bool(HANDLERS_MISSING), reason=f"handlers not written yet: {HANDLERS_MISSING}"
)


@pytest.fixture(scope="module")
def local() -> Iterator[LocalStack]:
    stack = LocalStack(port=0, aws_port=0, settings={"RATE_LIMIT_PER_HOUR": "1000"}, log=lambda line: None)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
    assert "AWS_ENDPOINT_URL" not in os.environ  # the stack put the environment back
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"  # as conftest set it


class Reply:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def call(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> Reply:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _opener.open(request, timeout=30) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers, error.read())


def _lead(**overrides: Any) -> dict[str, Any]:
    lead = {
        "first_name": "Jordan",
        "last_name": "Sample",
        "email": "jordan.sample@example.com",
        "phone": "(630) 555-0142",
        "service": "anxiety",
        "consent_privacy": True,
        "submission_id": f"test-{uuid.uuid4().hex[:16]}",
    }
    lead.update(overrides)
    return lead


def _submit_json(local: LocalStack, lead: dict[str, Any]) -> Reply:
    return call(
        f"{local.base_url}/consultations",
        "POST",
        json.dumps(lead).encode(),
        {"Origin": local.base_url, "Content-Type": "application/json", "Accept": "application/json"},
    )


def _wait_for_alert(local: LocalStack, lead_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alerts = call(f"{local.base_url}/_local/alerts").json()["alerts"]
        found = [a for a in alerts if a["lead_id"] == lead_id]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no alert for {lead_id} within {timeout} s")


def test_health_and_routes(local: LocalStack) -> None:
    health = call(f"{local.base_url}/_local/health")
    assert health.status == 200
    assert health.json()["aws_endpoint"] == local.aws_endpoint
    assert call(f"{local.base_url}/nope").status == 404
    assert call(f"{local.base_url}/static/../template.yaml").status == 404
    assert call(f"{local.base_url}/static/%2e%2e/template.yaml").status == 404
    assert call(f"{local.base_url}/static/.git").status == 404
    assert call(f"{local.base_url}/_local/alerts", "POST", b"{}").status == 404
    assert call(f"{local.base_url}/consultations").status == 403  # API Gateway: no GET method on the resource


def test_pages_from_web(local: LocalStack) -> None:
    if not (WEB_DIR / "index.html").is_file():
        pytest.skip("web/index.html not written yet")
    page = call(f"{local.base_url}/")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.body == (WEB_DIR / "index.html").read_bytes()
    for name in ("form.js", "form.css"):
        if (WEB_DIR / name).is_file():
            asset = call(f"{local.base_url}/static/{name}")
            assert asset.status == 200
            assert asset.body == (WEB_DIR / name).read_bytes()
    assert call(f"{local.base_url}/static/form.js").headers["Content-Type"].startswith("text/javascript")
    assert call(f"{local.base_url}/_local/inbox").headers["Content-Type"].startswith("text/html")


def test_local_settings_reach_the_handlers(local: LocalStack) -> None:
    assert local.settings["ALLOWED_ORIGINS"] == f"{local.base_url},http://localhost:{local.port}"
    assert local.settings["THANK_YOU_URL"] == f"{local.base_url}/thank-you"
    assert local.settings["RATE_LIMIT_PER_HOUR"] == "1000"
    assert local.settings["TABLE_NAME"] == "clinic-leads-local-LeadsTable"
    assert local.settings["POWERTOOLS_SERVICE_NAME"] == "clinic-leads"  # from the template's Globals


@needs_handlers
def test_preflight_through_the_emulation(local: LocalStack) -> None:
    allowed = call(
        f"{local.base_url}/consultations",
        "OPTIONS",
        headers={"Origin": f"http://localhost:{local.port}", "Access-Control-Request-Method": "POST"},
    )
    assert allowed.status == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == f"http://localhost:{local.port}"
    refused = call(f"{local.base_url}/consultations", "OPTIONS", headers={"Origin": "https://evil.example"})
    assert refused.status == 403
    assert refused.headers["Access-Control-Allow-Origin"] is None


@needs_handlers
def test_submit_json_alerts_staff_and_is_readable_with_boto3(local: LocalStack) -> None:
    reply = _submit_json(local, _lead())
    assert reply.status == 201, reply.body
    lead_id = reply.json()["id"]
    assert reply.headers["Access-Control-Allow-Origin"] == local.base_url

    alert = _wait_for_alert(local, lead_id)
    assert alert["attributes"]["lead_id"] == lead_id
    assert alert["attributes"]["priority"] == "normal"
    assert alert["subject"]
    assert lead_id in alert["email"]
    assert lead_id in alert["sms"]
    assert alert["sms"].startswith("Clinic leads> ")  # as the demo StaffPhones number receives it
    assert len(alert["sms"]) <= 160
    assert alert["email"] != alert["sms"]  # each protocol's part, not the default text twice
    assert alert["published_at"].endswith("Z")
    # Both link to the lead in this stack's console; at the default minimal detail nobody is named.
    link = f"{local.base_url}/staff/#{lead_id}"
    assert alert["sms"].endswith(f" {link}")
    assert f"Open it in the staff console: {link}\n" in alert["email"]
    for personal in ("Jordan", "Sample", "jordan.sample", "555-0142", "5550142"):
        assert personal not in alert["sms"]
        assert personal not in alert["email"]

    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=local.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    item = dynamodb.get_item(
        TableName="clinic-leads-local-LeadsTable", Key={"pk": {"S": f"LEAD#{lead_id}"}, "sk": {"S": "LEAD"}}
    )["Item"]
    assert item["status"] == {"S": "new"}
    assert item["email"] == {"S": "jordan.sample@example.com"}


@needs_handlers
def test_form_post_redirects_to_the_thank_you_page(local: LocalStack) -> None:
    form = urllib.parse.urlencode(
        {k: ("on" if v is True else v) for k, v in _lead(first_name="Casey").items()}
    ).encode()
    reply = call(
        f"{local.base_url}/consultations",
        "POST",
        form,
        {"Origin": local.base_url, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 303
    location = reply.headers["Location"]
    assert location.startswith(f"{local.base_url}/thank-you")
    assert "Casey" not in location
    assert call(location).status in {200, 404}  # 404 only until web/thank-you.html exists


@needs_handlers
def test_injected_throttling_answers_503_and_the_retry_succeeds_once(local: LocalStack) -> None:
    lead = _lead()
    local.faults.set_rules(parse_faults("dynamodb:*=1"))
    try:
        throttled = _submit_json(local, lead)
    finally:
        local.faults.set_rules(())
    assert throttled.status == 503, throttled.body
    assert throttled.headers["Retry-After"]
    first = _submit_json(local, lead)
    again = _submit_json(local, lead)
    assert first.status == 201
    assert again.json()["id"] == first.json()["id"]
