"""Privacy: a full local-stack run at DEBUG log level, every kind of request, then a scan of everything the
stack printed (stdout and stderr: Powertools logs of both functions, the poller, the inbox, the server) for
every visitor value used in the run. Zero hits allowed (contract section 3).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from benchmarks.local_stack import LocalStackProcess, http_request
from benchmarks.payloads import run_token, valid_lead

pytestmark = [pytest.mark.slow, pytest.mark.stack, pytest.mark.timeout(600)]


def _variants(token: str) -> list[tuple[str, dict[str, Any]]]:
    """(encoding, submission) pairs covering every path through both functions."""
    lead = lambda i, **changes: {**valid_lead(token, i), **changes}  # noqa: E731
    provider = {
        "referral_type": "provider",
        "provider_name": f"Dr Hallorann {token.capitalize()}",
        "provider_practice": f"Overlook Practice {token}",
        "provider_email": f"referrals.{token}@practice.example.org",
        "provider_phone": "(312) 555-0147",
    }
    return [
        ("json", lead(0)),
        ("json", lead(1, in_crisis=True, message=f"I am not safe tonight {token}, please call")),
        ("json", lead(2, message=f"I keep thinking about ending my life, {token}")),
        ("json", lead(3, **provider)),
        ("json", lead(4, preferred_contact="text", consent_sms=True)),
        ("json", lead(5, website=f"http://spam-{token}.example")),
        ("json", lead(6, email=f"not-an-email-{token}")),
        ("json", lead(7, phone=f"call {token} anytime", preferred_contact="phone")),
        ("json", lead(8, first_name=f"Bad\u0000Name{token}")),
        ("json", lead(9, consent_privacy=False)),
        ("json", {**lead(10), f"unknown_{token}": f"value {token}"}),
        ("form", lead(11)),
        ("form", lead(12, email=f"broken@@{token}")),
        ("form-json", lead(13)),
    ]


def _visitor_values(submissions: list[dict[str, Any]]) -> set[str]:
    skip = {
        "preferred_contact",
        "best_time",
        "service",
        "location",
        "referral_type",
        "consent_privacy",
        "consent_sms",
        "in_crisis",
        "submission_id",
    }
    values: set[str] = set()
    for submission in submissions:
        for name, value in submission.items():
            if name in skip or not isinstance(value, str) or len(value) < 4:
                continue
            values.add(value)
            values.add(json.dumps(value)[1:-1])  # as it would appear inside a JSON log line
            if "phone" in name:
                digits = "".join(ch for ch in value if ch.isdigit())
                values.update({digits, "+1" + digits} if len(digits) == 10 else {digits})
            if "email" in name:
                values.add(value.lower())
    return {value for value in values if len(value) >= 4}


def _send(stack: LocalStackProcess, encoding: str, submission: dict[str, Any], key: str) -> int:
    if encoding == "json":
        return stack.post_json(submission, idempotency_key=key, origin=stack.origin).status
    fields = {k: ("on" if v is True else str(v)) for k, v in submission.items() if v is not False}
    return stack.post_form(fields, accept_json=encoding == "form-json").status


def test_no_visitor_value_in_any_log_line_of_a_full_run() -> None:
    token = run_token()
    variants = _variants(token)
    env = {"RATE_LIMIT_PER_HOUR": "10000", "POWERTOOLS_LOG_LEVEL": "DEBUG", "ALERT_DETAIL": "full"}
    statuses: list[int] = []
    with LocalStackProcess(extra_env=env) as stack:
        for number, (encoding, submission) in enumerate(variants):
            key = f"privacy-{number:04d}-{run_token()}"
            statuses.append(_send(stack, encoding, submission, key))
            statuses.append(_send(stack, encoding, submission, key))  # duplicate
        # Same key, different submission: 409.
        statuses.append(
            stack.post_json(
                variants[0][1] | {"message": f"changed {token}"},
                idempotency_key="privacy-0000-conflict",
                origin=stack.origin,
            ).status
        )
        statuses.append(
            stack.post_json(
                variants[0][1], idempotency_key="privacy-0000-conflict", origin=stack.origin
            ).status
        )
        statuses.append(stack.post_json(variants[1][1], origin="https://evil.example").status)
        statuses.append(
            http_request(
                stack.port,
                "POST",
                "/consultations",
                f'{{"first_name": "{token}"'.encode(),
                {"Content-Type": "application/json"},
            ).status
        )
        statuses.append(
            http_request(
                stack.port,
                "POST",
                "/consultations",
                urlencode(variants[0][1]).encode(),
                {"Content-Type": "text/plain"},
            ).status
        )
        accepted = {201, 303}
        assert accepted & set(statuses), statuses
        assert {400, 403, 409, 415, 422} <= set(statuses), statuses
        alerts = stack.wait_for_alerts(set(), timeout=0, settle=4.0)
        assert alerts, "no alert was published: the alert function's logs were not exercised"
        inbox = http_request(stack.port, "GET", "/_local/inbox")
        assert inbox.status == 200
    log_text = stack.log_text
    # The scan is not vacuous: both functions' Powertools logs (accepted, rejected, alerted) are in it.
    for message in (
        "submission stored",
        "submission rejected",
        '"function_name":"clinic-leads-local-SendAlerts',
    ):
        assert message in log_text, message

    values = _visitor_values([submission for _, submission in variants])
    hits = sorted(value for value in values if value in log_text)
    assert hits == [], f"{len(hits)} visitor values found in the logs"
    assert token not in log_text.lower()
