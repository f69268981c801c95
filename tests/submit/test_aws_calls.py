"""AWS API calls per submission, counted with a botocore ``before-call`` hook on leads_core.aws's session.

Our design: one ``TransactWriteItems`` per accepted lead on a warm container (lead + idempotency record + rate
counter). The cold start adds one ``GetSecretValue`` (the keyed-hash key, read once per container).

For comparison, the same job built on Powertools' Idempotency utility (``DynamoDBPersistenceLayer``) is
measured against the same table: it writes an INPROGRESS record, then our lead, then marks the record
COMPLETED, and still has no rate limit.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from leads_core import aws, keys
from leads_core.settings import load_settings

from tests.conftest import load_event
from tests.submit.conftest import CallCounter, Invoker, from_ip, leads_in, with_body

TRANSACTION = "dynamodb.TransactWriteItems"


def test_exactly_one_aws_call_per_accepted_lead_on_a_warm_container(
    invoke: Invoker, aws_calls: CallCounter, table_items: Any
) -> None:
    cold = invoke(load_event("submit_valid_json"))
    assert cold["statusCode"] == 201
    assert aws_calls.calls == ["secrets-manager.GetSecretValue", TRANSACTION]

    per_request: dict[str, list[str]] = {}
    for name in (
        "submit_valid_form",
        "submit_base64_form",
        "submit_crisis",
        "submit_provider_referral",
        "submit_duplicate",
        "submit_spam_honeypot",
    ):
        aws_calls.reset()
        response = invoke(load_event(name))
        assert response["statusCode"] in {201, 303}, name
        per_request[name] = list(aws_calls.calls)
    assert all(calls == [TRANSACTION] for calls in per_request.values()), per_request

    aws_calls.reset()
    assert invoke(load_event("submit_duplicate"))["statusCode"] == 201  # a replay: also one call
    assert aws_calls.calls == [TRANSACTION]

    aws_calls.reset()
    for rejected in (
        "submit_invalid_json",
        "submit_invalid_form",
        "preflight_allowed",
        "preflight_disallowed",
    ):
        assert invoke(load_event(rejected))["statusCode"] in {204, 403, 422}
    assert aws_calls.calls == [], "rejections and preflights make no AWS call"
    assert len(leads_in(table_items())) == 7


def test_powertools_idempotency_costs_three_calls_per_lead(
    stack: Any, aws_calls: CallCounter, lambda_context: Any
) -> None:
    session = aws.session()
    persistence = DynamoDBPersistenceLayer(
        table_name=stack.table_name, key_attr="pk", sort_key_attr="sk", boto3_session=session
    )
    config = IdempotencyConfig(event_key_jmespath="submission_id", use_local_cache=False)
    config.register_lambda_context(lambda_context)
    dynamodb = aws.client("dynamodb")

    @idempotent_function(data_keyword_argument="submission", persistence_store=persistence, config=config)
    def store(submission: dict[str, Any]) -> dict[str, Any]:
        lead_id = keys.new_lead_id()
        dynamodb.put_item(
            TableName=stack.table_name,
            Item={**keys.lead_key(lead_id), "first_name": {"S": submission["first_name"]}},
            ConditionExpression="attribute_not_exists(pk)",
        )
        return {"id": lead_id}

    store(submission={"submission_id": "warm-up-0001", "first_name": "Warm"})
    counts = []
    for n in range(3):
        aws_calls.reset()
        store(submission={"submission_id": f"powertools-{n:04d}", "first_name": "Jordan"})
        counts.append(len(aws_calls.calls))
    aws_calls.reset()
    replay = store(submission={"submission_id": "powertools-0000", "first_name": "Jordan"})

    assert counts == [3, 3, 3]  # PutItem (INPROGRESS), PutItem (lead), UpdateItem (COMPLETED)
    assert aws_calls.calls == ["dynamodb.PutItem"]  # a replay: the failed conditional put returns the record
    assert "id" in replay


def test_rate_limited_request_costs_one_call_and_invalid_costs_none(
    invoke: Invoker, aws_calls: CallCounter, monkeypatch: Any
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_HOUR", "1")
    load_settings.cache_clear()
    invoke(load_event("submit_duplicate"))
    aws_calls.reset()
    limited = invoke(from_ip(load_event("submit_crisis"), "203.0.113.14"))
    invalid = invoke(
        with_body(load_event("submit_duplicate"), '{"first_name": "Other", "last_name": "Person"}')
    )
    assert limited["statusCode"] == 429
    assert invalid["statusCode"] == 422  # validation runs before any AWS call
    assert aws_calls.calls == [TRANSACTION]
