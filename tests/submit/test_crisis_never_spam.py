"""A person in crisis is never dropped by a spam rule: an urgent lead that a spam rule matched is stored as
``new`` (alerted) with ``review_flags: ["possible_spam"]`` and its ``spam_reasons`` kept for staff."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tests.conftest import load_event
from tests.submit.conftest import Invoker, from_ip, leads_in, response_header, response_json, with_body

Items = Callable[[], list[dict[str, Any]]]
CRISIS_WITH_LINKS = "I keep thinking about ending my life. I read 988lifeline.org, nami.org and afsp.org"


def json_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(load_event("submit_valid_json")["body"])
    fields.update(changes)
    return fields


def only_lead(items: list[dict[str, Any]], lead_id: str) -> dict[str, Any]:
    return next(lead for lead in leads_in(items) if lead["id"] == lead_id)


def test_crisis_message_with_three_links_is_urgent_new_and_flagged(
    invoke: Invoker, table_items: Items
) -> None:
    response = invoke(with_body(load_event("submit_valid_json"), json_fields(message=CRISIS_WITH_LINKS)))

    assert response["statusCode"] == 201
    body = response_json(response)
    assert body["urgent"] is True
    assert body["message"].index("988") < body["message"].index("received")
    lead = only_lead(table_items(), body["id"])
    assert lead["status"] == "new"
    assert lead["urgent_reasons"] == ["message"]
    assert lead["spam_reasons"] == ["links"]
    assert lead["review_flags"] == ["possible_spam"]
    # Kept for RETENTION_DAYS like any lead, not the spam quarantine's SPAM_RETENTION_DAYS.
    created = datetime.fromisoformat(lead["created_at"].replace("Z", "+00:00")).timestamp()
    assert abs(int(lead["expires_at"]) - created - 730 * 86400) <= 1


def test_ticked_in_crisis_with_the_honeypot_filled_is_kept_on_the_form_channel(
    invoke: Invoker, table_items: Items
) -> None:
    event = load_event("submit_valid_form")
    form = dict(parse_qsl(event["body"], keep_blank_values=True))
    form.update(website="https://seo.example", in_crisis="on")
    response = invoke(with_body(event, urlencode(form)))

    assert response["statusCode"] == 303
    (lead,) = leads_in(table_items())
    assert "ref=" + lead["id"] in (response_header(response, "Location") or "")
    assert lead["status"] == "new"
    assert lead["channel"] == "form"
    assert lead["urgent_reasons"] == ["self_reported"]
    assert lead["spam_reasons"] == ["honeypot"]
    assert lead["review_flags"] == ["possible_spam"]


def test_the_same_spam_without_crisis_is_still_quarantined(invoke: Invoker, table_items: Items) -> None:
    links = "I read 988lifeline.org, nami.org and afsp.org"
    response = invoke(with_body(load_event("submit_valid_json"), json_fields(message=links)))
    form_event = load_event("submit_valid_form")
    form = dict(parse_qsl(form_event["body"], keep_blank_values=True), website="filled")
    form_response = invoke(from_ip(with_body(form_event, urlencode(form)), "198.51.100.40"))

    assert response["statusCode"] == 201
    assert form_response["statusCode"] == 303
    assert response_json(response)["urgent"] is False
    by_channel = {lead["channel"]: lead for lead in leads_in(table_items())}
    assert by_channel["json"]["status"] == by_channel["form"]["status"] == "spam"
    assert by_channel["json"]["spam_reasons"] == ["links"]
    assert by_channel["form"]["spam_reasons"] == ["honeypot"]
    assert "review_flags" not in by_channel["json"]
    assert "review_flags" not in by_channel["form"]
