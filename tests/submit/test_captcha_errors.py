"""Captcha answers through the real submit handler, against a local siteverify fake that behaves like the
providers (single-use tokens, error codes, Turnstile's ``idempotency_key``), reached over HTTP through
``CAPTCHA_VERIFY_URL``: only a definitely bad token is spam; provider and secret errors and an already used
token are accepted, flagged ``captcha_unverified``, counted and logged by code; a retry after a ``503`` stores
exactly one lead, alertable."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from leads_core import captcha
from leads_core.captcha import ERROR_CODES
from leads_core.observability import logger
from leads_core.settings import load_settings
from leads_local.template import stream_event_source

from tests.alerts.conftest import matches_pattern, serialize
from tests.conftest import load_event
from tests.submit.conftest import FaultInjector, Invoker, leads_in, response_header, response_json, with_body
from tests.submit.siteverify import Siteverify, SiteverifyServer, serve

Items = Callable[[], list[dict[str, Any]]]
SECRET = "captcha-secret-value"


@pytest.fixture(scope="module")
def server() -> Iterator[SiteverifyServer]:
    with serve(Siteverify(secret=SECRET)) as running:
        yield running


def _configure(monkeypatch: pytest.MonkeyPatch, server: SiteverifyServer, provider: str) -> Siteverify:
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/clinic-leads/captcha-secret", Value=SECRET, Type="SecureString", Overwrite=True
    )
    monkeypatch.setenv("CAPTCHA_PROVIDER", provider)
    monkeypatch.setenv("CAPTCHA_SECRET_PARAM", "/clinic-leads/captcha-secret")
    monkeypatch.setenv("CAPTCHA_VERIFY_URL", server.url)
    load_settings.cache_clear()
    captcha.forget_captcha_secret()
    captcha.forget_verdicts()
    server.current = Siteverify(secret=SECRET, provider=provider)
    return server.current


@pytest.fixture
def siteverify(stack: Any, server: SiteverifyServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Siteverify]:
    yield _configure(monkeypatch, server, "turnstile")
    captcha.forget_captcha_secret()
    captcha.forget_verdicts()


@pytest.fixture
def hcaptcha(stack: Any, server: SiteverifyServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Siteverify]:
    yield _configure(monkeypatch, server, "hcaptcha")
    captcha.forget_captcha_secret()
    captcha.forget_verdicts()


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def logs() -> Iterator[Recorded]:
    handler = Recorded()
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield handler
    logging.getLogger(logger.name).removeHandler(handler)  # Powertools' Logger types addHandler only


def metric_names(stdout: str) -> list[str]:
    """Metric names of the EMF blobs Powertools printed (one entry per blob and metric)."""
    names: list[str] = []
    for line in stdout.splitlines():
        if line.startswith('{"_aws"'):
            for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                names.extend(metric["Name"] for metric in directive["Metrics"])
    return names


def submission(token: str | None, message: str, **extra: Any) -> dict[str, Any]:
    fields = {**json.loads(load_event("submit_valid_json")["body"]), "message": message, **extra}
    if token is not None:
        fields["captcha_token"] = token
    return with_body(load_event("submit_valid_json"), fields)


def alertable(lead: dict[str, Any]) -> bool:
    """The lead's INSERT record passes the template's stream filter (what the alert function receives)."""
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": serialize(lead)}}
    return any(matches_pattern(record, pattern) for pattern in stream_event_source().filter_patterns)


# --- each error code ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_each_error_code_through_the_handler(
    code: str,
    invoke: Invoker,
    siteverify: Siteverify,
    table_items: Items,
    logs: Recorded,
    capsys: pytest.CaptureFixture[str],
) -> None:
    siteverify.forced = {"success": False, "error-codes": [code]}
    capsys.readouterr()

    response = invoke(submission(siteverify.issue("tok-each"), "Evenings are best."))

    assert response["statusCode"] == 201
    (lead,) = leads_in(table_items())
    unverified = [line for line in logs.lines if line["message"] == "captcha not verified"]
    counted = metric_names(capsys.readouterr().out).count("CaptchaUnverified")
    if ERROR_CODES[code] == "failed":
        assert lead["status"] == "spam"
        assert lead["spam_reasons"] == ["captcha"]
        assert "review_flags" not in lead
        assert unverified == []
        assert counted == 0
    else:
        assert lead["status"] == "new"
        assert lead["review_flags"] == ["captcha_unverified"]
        assert "spam_reasons" not in lead
        assert alertable(lead)
        assert [line["code"] for line in unverified] == [code]
        assert counted == 1
    assert "tok-each" not in json.dumps(logs.lines)


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (
            {"success": False, "error-codes": ["invalid-input-secret", "invalid-input-response"]},
            "invalid-input-secret",
        ),
        ({"success": False, "error-codes": ["brand-new-code"]}, "unknown-error-code"),
        ({"success": False}, "no-error-codes"),
        ({"ok": True}, "malformed-answer"),
    ],
)
def test_undecided_answers_accept_the_lead_flagged(
    answer: dict[str, Any],
    code: str,
    invoke: Invoker,
    siteverify: Siteverify,
    table_items: Items,
    logs: Recorded,
) -> None:
    siteverify.forced = answer
    assert invoke(submission(siteverify.issue("tok-odd"), "Mornings."))["statusCode"] == 201
    (lead,) = leads_in(table_items())
    assert lead["status"] == "new"
    assert lead["review_flags"] == ["captcha_unverified"]
    assert [line["code"] for line in logs.lines if line["message"] == "captcha not verified"] == [code]


def test_a_mistyped_secret_does_not_quarantine_anyone(
    invoke: Invoker, siteverify: Siteverify, table_items: Items
) -> None:
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/clinic-leads/captcha-secret", Value="rotated-but-wrong", Type="SecureString", Overwrite=True
    )
    captcha.forget_captcha_secret()
    responses = [
        invoke(submission(siteverify.issue("tok-a"), "First person.")),
        invoke(submission(siteverify.issue("tok-b"), "I want to die.", in_crisis=True)),
    ]
    assert [r["statusCode"] for r in responses] == [201, 201]
    leads = leads_in(table_items())
    assert {lead["status"] for lead in leads} == {"new"}
    assert all(lead["review_flags"] == ["captcha_unverified"] for lead in leads)


def test_real_tokens_pass_and_made_up_or_missing_ones_are_spam(
    invoke: Invoker, siteverify: Siteverify, table_items: Items
) -> None:
    invoke(submission(siteverify.issue("tok-real"), "real"))
    invoke(submission("tok-made-up", "made up"))
    invoke(submission(None, "missing"))

    by_message = {lead["message"]: lead for lead in leads_in(table_items())}
    assert by_message["real"]["status"] == "new"
    assert "review_flags" not in by_message["real"]
    assert by_message["made up"]["status"] == "spam"
    assert by_message["missing"]["status"] == "spam"
    assert [r["response"] for r in siteverify.requests] == ["tok-real", "tok-made-up"]


def test_a_token_used_by_another_submission_is_flagged_not_spam(
    invoke: Invoker, hcaptcha: Siteverify, table_items: Items
) -> None:
    token = hcaptcha.issue("tok-hc")
    invoke(submission(token, "first"))
    invoke(submission(token, "second, same token"))

    by_message = {lead["message"]: lead for lead in leads_in(table_items())}
    assert by_message["first"]["status"] == "new"
    assert "review_flags" not in by_message["first"]
    assert by_message["second, same token"]["status"] == "new"
    assert by_message["second, same token"]["review_flags"] == ["captcha_unverified"]
    assert [r.get("idempotency_key") for r in hcaptcha.requests] == [None, None]  # Turnstile only


# --- a retry after 503 -------------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", ["turnstile", "hcaptcha"])
@pytest.mark.parametrize("keyed", [True, False])
@pytest.mark.parametrize("container", ["same", "another"])
def test_retry_after_throttled_storage_stores_exactly_one_alertable_lead(
    provider: str,
    keyed: bool,
    container: str,
    invoke: Invoker,
    stack: Any,
    server: SiteverifyServer,
    monkeypatch: pytest.MonkeyPatch,
    faults: FaultInjector,
    table_items: Items,
) -> None:
    fake = _configure(monkeypatch, server, provider)
    extra = {"submission_id": "retry-after-503"} if keyed else {}
    event = submission(fake.issue("tok-once"), "Please call after 5.", **extra)
    faults.fail("TransactWriteItems", "ThrottlingException")
    for operation in ("PutItem", "UpdateItem", "GetItem", "Query", "DeleteItem", "BatchWriteItem"):
        faults.fail(operation, "ThrottlingException")  # every DynamoDB operation, not only the one we expect

    first = invoke(event)
    assert first["statusCode"] == 503
    assert int(response_header(first, "Retry-After") or "0") >= 1
    assert table_items() == []
    assert fake.used == {"tok-once"}  # the provider has consumed the token

    faults.clear()
    if container == "another":
        captcha.forget_verdicts()  # the retry reaches a container that did not see the first attempt
    retried = invoke(event)
    again = invoke(event)

    assert retried["statusCode"] == again["statusCode"] == 201
    assert response_json(retried)["id"] == response_json(again)["id"]
    (lead,) = leads_in(table_items())
    assert lead["id"] == response_json(retried)["id"]
    assert lead["status"] == "new"
    assert "spam_reasons" not in lead
    assert alertable(lead)
    if container == "same" or provider == "turnstile":
        # Remembered here, or Turnstile answered the same idempotency_key with its first result.
        assert "review_flags" not in lead
    else:
        assert lead["review_flags"] == ["captcha_unverified"]
    if container == "same":
        assert len(fake.requests) == 1  # the retries did not need the now-used token
    captcha.forget_verdicts()


def test_a_remembered_verdict_serves_only_the_same_submission(
    invoke: Invoker, siteverify: Siteverify, faults: FaultInjector, table_items: Items
) -> None:
    token = siteverify.issue("tok-x")
    faults.fail("TransactWriteItems", "ThrottlingException")
    assert invoke(submission(token, "original", submission_id="borrow-key-1"))["statusCode"] == 503
    faults.clear()

    other_content = invoke(submission(token, "changed content", submission_id="borrow-key-1"))
    other_key = invoke(submission(token, "original", submission_id="borrow-key-2"))

    assert other_content["statusCode"] == other_key["statusCode"] == 201
    leads = leads_in(table_items())
    assert len(leads) == 2
    assert all(lead["review_flags"] == ["captcha_unverified"] for lead in leads)  # the token was used


def test_a_crisis_lead_with_a_bad_token_is_kept_and_flagged(
    invoke: Invoker, siteverify: Siteverify, table_items: Items
) -> None:
    response = invoke(submission("tok-made-up", "I keep thinking about ending my life."))

    assert response_json(response)["urgent"] is True
    (lead,) = leads_in(table_items())
    assert lead["status"] == "new"
    assert lead["spam_reasons"] == ["captcha"]
    assert lead["review_flags"] == ["possible_spam"]
    assert alertable(lead)
