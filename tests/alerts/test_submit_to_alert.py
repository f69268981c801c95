"""The whole path on moto: the real submit handler stores leads, the table's stream records them, the alert
function alerts staff once per accepted non-spam lead."""

from __future__ import annotations

import copy
import importlib
import json
from typing import Any

from leads_core.alerts import is_single_gsm7_segment, is_valid_subject

from tests.alerts.conftest import AlertWorld, lambda_event
from tests.conftest import load_event


def _submit(name: str, lambda_context: Any, ip: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event(name))
    event["requestContext"]["identity"]["sourceIp"] = ip  # one rate-limit bucket per submission
    # Imported once the stack's environment is set: the submit module reads its settings at import.
    submit_app = importlib.import_module("submit_consultation.app")
    response = submit_app.lambda_handler(event, lambda_context)
    assert response["statusCode"] == 201, response
    return json.loads(response["body"])


def test_submitted_leads_alert_staff_once_and_spam_never(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:
    accepted = _submit("submit_valid_json", lambda_context, "203.0.113.21")
    crisis = _submit("submit_crisis", lambda_context, "203.0.113.22")
    referral = _submit("submit_provider_referral", lambda_context, "203.0.113.23")
    spam = _submit("submit_spam_honeypot", lambda_context, "203.0.113.24")
    event = lambda_event(alert_world.new_stream_records())

    assert handler(event, lambda_context) == {"batchItemFailures": []}
    assert handler(event, lambda_context) == {"batchItemFailures": []}  # the stream delivering twice

    envelopes = alert_world.inbox()
    by_id = {e["MessageAttributes"]["lead_id"]["Value"]: e for e in envelopes}
    assert sorted(by_id) == sorted([accepted["id"], crisis["id"], referral["id"]])
    assert spam["id"] not in by_id
    assert by_id[crisis["id"]]["MessageAttributes"]["priority"]["Value"] == "urgent"
    assert by_id[accepted["id"]]["MessageAttributes"]["priority"]["Value"] == "normal"
    assert by_id[referral["id"]]["MessageAttributes"]["referral_type"]["Value"] == "provider"
    for published in alert_world.published_messages():
        assert is_valid_subject(published["subject"])
        assert is_single_gsm7_segment(published["message"]["sms"])
    crisis_sms = next(
        p["message"]["sms"]
        for p in alert_world.published_messages()
        if p["attributes"]["lead_id"]["Value"] == crisis["id"]
    )
    assert crisis_sms.startswith("URGENT")
    assert "Sam S." in crisis_sms
    assert "+16305550199" in crisis_sms  # the submit path stored E.164; the alert calls that number
