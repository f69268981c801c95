"""Nobody is lost between the form and the staff: leads submitted through the real submit handler, recorded by
the table's stream and alerted by the real alert handler.

* an urgent lead that a spam rule matched is alerted as urgent, the email saying it was flagged for review;
* a person erased and submitting the identical form again within the dedupe window gets a new lead and alert.
"""

from __future__ import annotations

import copy
import importlib
import json
from typing import Any

from leads_core.manage import LeadAdmin
from leads_core.settings import load_settings

from tests.alerts.conftest import AlertWorld, lambda_event
from tests.conftest import load_event

CRISIS_WITH_LINKS = "I keep thinking about ending my life. I read 988lifeline.org, nami.org and afsp.org"


def _submit(fields: dict[str, Any], lambda_context: Any, ip: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("submit_valid_json"))
    event["body"] = json.dumps({**json.loads(event["body"]), **fields})
    event["requestContext"]["identity"]["sourceIp"] = ip
    submit_app = importlib.import_module("submit_consultation.app")
    response = submit_app.lambda_handler(event, lambda_context)
    assert response["statusCode"] == 201, response
    return json.loads(response["body"])


def run_stream(world: AlertWorld, handler: Any, lambda_context: Any) -> Any:
    return handler(lambda_event(world.new_stream_records()), lambda_context)


def test_crisis_lead_caught_by_a_spam_rule_is_alerted_as_urgent_and_flagged(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:
    crisis = _submit({"message": CRISIS_WITH_LINKS}, lambda_context, "203.0.113.31")
    links_only = {"message": "I read 988lifeline.org, nami.org and afsp.org"}
    spam = _submit(links_only, lambda_context, "203.0.113.32")
    plain = _submit({"message": "Evenings are best."}, lambda_context, "203.0.113.33")

    event = lambda_event(alert_world.new_stream_records())
    assert handler(event, lambda_context) == {"batchItemFailures": []}

    by_id = {e["MessageAttributes"]["lead_id"]["Value"]: e for e in alert_world.inbox()}
    assert sorted(by_id) == sorted([crisis["id"], plain["id"]])
    assert spam["id"] not in by_id
    assert by_id[crisis["id"]]["MessageAttributes"]["priority"]["Value"] == "urgent"
    messages = {p["attributes"]["lead_id"]["Value"]: p["message"] for p in alert_world.published_messages()}
    assert "Flagged for review: possible spam (links)." in messages[crisis["id"]]["email"]
    assert messages[crisis["id"]]["sms"].startswith("URGENT")
    assert "Flagged for review" not in messages[plain["id"]]["email"]
    assert "988lifeline" not in json.dumps(messages[crisis["id"]])  # the message text stays out (contact)


def test_a_resubmission_after_erasure_is_a_new_lead_with_its_alert(
    alert_world: AlertWorld, handler: Any, lambda_context: Any
) -> None:
    form = {"email": "erased.person@example.com", "message": "Please call me back."}
    first = _submit(form, lambda_context, "203.0.113.41")
    assert handler(lambda_event(alert_world.new_stream_records()), lambda_context) == {
        "batchItemFailures": []
    }
    assert [e["MessageAttributes"]["lead_id"]["Value"] for e in alert_world.inbox()] == [first["id"]]

    settings = load_settings()
    admin = LeadAdmin(settings.table_name, hash_key_secret_id=settings.hash_key_secret_id)
    erasure = admin.erase_by_contact("email", "erased.person@example.com", actor="test")
    assert erasure.lead_ids == (first["id"],)

    again = _submit(form, lambda_context, "203.0.113.41")  # identical, key-less, within 10 minutes
    assert again["id"] != first["id"]
    assert handler(lambda_event(alert_world.new_stream_records()), lambda_context) == {
        "batchItemFailures": []
    }
    assert [e["MessageAttributes"]["lead_id"]["Value"] for e in alert_world.inbox()] == [again["id"]]
