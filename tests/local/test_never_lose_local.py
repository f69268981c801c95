"""Nobody is lost through the local stack (``make run``'s stack, in process, over real HTTP), with hCaptcha
verified against the local siteverify fake:

* storage throttled (``dynamodb:*``) -> ``503``; the retry, on a container that did not see the first attempt,
  re-sends the now-used token -> exactly one lead, alerted once;
* a crisis message that the link rule catches is alerted as urgent, flagged for review;
* a person erased by email who sends the identical form again within 10 minutes gets a new lead and alert.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from leads_core import captcha
from leads_core.manage import LeadAdmin
from leads_local.faults import parse_faults
from leads_local.stack import CAPTCHA_TEST_SECRETS, LocalStack

from tests.submit.siteverify import Siteverify, SiteverifyServer, serve

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def siteverify() -> Iterator[SiteverifyServer]:
    with serve(Siteverify(secret=CAPTCHA_TEST_SECRETS["hcaptcha"], provider="hcaptcha")) as running:
        yield running


@pytest.fixture(scope="module")
def local(siteverify: SiteverifyServer) -> Iterator[LocalStack]:
    captcha.forget_captcha_secret()
    captcha.forget_verdicts()
    settings = {
        "RATE_LIMIT_PER_HOUR": "1000",
        "CAPTCHA_PROVIDER": "hcaptcha",
        "CAPTCHA_VERIFY_URL": siteverify.url,
    }
    stack = LocalStack(port=0, aws_port=0, settings=settings, log=lambda line: None)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
        captcha.forget_captcha_secret()
        captcha.forget_verdicts()


def submit(local: LocalStack, fields: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    lead = {
        "first_name": "Jordan",
        "last_name": "Sample",
        "email": "jordan.sample@example.com",
        "phone": "(630) 555-0142",
        "service": "anxiety",
        "consent_privacy": True,
        **fields,
    }
    request = urllib.request.Request(
        f"{local.base_url}/consultations",
        data=json.dumps(lead).encode(),
        method="POST",
        headers={"Origin": local.base_url, "Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def alerts_for(local: LocalStack, lead_id: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{local.base_url}/_local/alerts", timeout=30) as response:
        return [a for a in json.loads(response.read())["alerts"] if a["lead_id"] == lead_id]


def wait_for_alerts(local: LocalStack, lead_id: str, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The alerts of ``lead_id`` once the first arrived and the stream had time to deliver any duplicate."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alerts_for(local, lead_id):
            time.sleep(1.0)  # a duplicate would come from the same poll or the next ones
            return alerts_for(local, lead_id)
        time.sleep(0.2)
    raise AssertionError(f"no alert for {lead_id} within {timeout} s")


def lead_item(local: LocalStack, lead_id: str) -> dict[str, Any]:
    admin = LeadAdmin(local.settings["TABLE_NAME"], hash_key_secret_id=local.settings["HASH_KEY_SECRET_ID"])
    return admin.get_lead(lead_id)


def test_retry_after_throttling_with_the_used_token_stores_and_alerts_once(
    local: LocalStack, siteverify: SiteverifyServer
) -> None:
    fields = {"message": "Evenings please.", "submission_id": "local-retry-0001"}
    fields["captcha_token"] = siteverify.current.issue("local-token-1")
    local.faults.set_rules(parse_faults("dynamodb:*=1"))
    try:
        status, _ = submit(local, fields)
    finally:
        local.faults.set_rules(())
    assert status == 503
    assert "local-token-1" in siteverify.current.used

    local.replace_workers()  # the retry reaches a container that did not see the first attempt
    status, first = submit(local, fields)
    again_status, again = submit(local, fields)

    assert (status, again_status) == (201, 201)
    assert again["id"] == first["id"]
    lead = lead_item(local, first["id"])
    assert lead["status"] == "new"
    assert lead["review_flags"] == ["captcha_unverified"]
    assert len(wait_for_alerts(local, first["id"])) == 1


def test_crisis_message_caught_by_the_link_rule_is_alerted_as_urgent(
    local: LocalStack, siteverify: SiteverifyServer
) -> None:
    status, body = submit(
        local,
        {
            "first_name": "Alex",
            "message": "I keep thinking about ending my life. I read 988lifeline.org, nami.org and afsp.org",
            "captcha_token": siteverify.current.issue("local-token-2"),
        },
    )

    assert status == 201
    assert body["urgent"] is True
    (alert,) = wait_for_alerts(local, body["id"])
    assert alert["attributes"]["priority"] == "urgent"
    assert "Flagged for review: possible spam (links)." in alert["email"]
    assert lead_item(local, body["id"])["review_flags"] == ["possible_spam"]


def test_identical_form_after_erasure_is_a_new_lead_with_its_alert(
    local: LocalStack, siteverify: SiteverifyServer
) -> None:
    fields = {"first_name": "Robin", "email": "robin.erased@example.com", "message": "Call me back."}
    status, first = submit(local, {**fields, "captcha_token": siteverify.current.issue("local-token-3")})
    assert status == 201
    assert len(wait_for_alerts(local, first["id"])) == 1

    admin = LeadAdmin(local.settings["TABLE_NAME"], hash_key_secret_id=local.settings["HASH_KEY_SECRET_ID"])
    assert admin.erase_by_contact("email", "robin.erased@example.com", actor="test").lead_ids == (
        first["id"],
    )

    status, again = submit(local, {**fields, "captcha_token": siteverify.current.issue("local-token-4")})
    assert status == 201
    assert again["id"] != first["id"]
    assert len(wait_for_alerts(local, again["id"])) == 1
    assert lead_item(local, again["id"])["status"] == "new"
