"""``intake.accept`` with collaborators handed in: a moto DynamoDB client of the test's own, a fake verifier.

No monkeypatching of ``leads_core.aws``: the repository writes through the client it is given, and the only
call left on ``leads_core.aws``'s session is the keyed-hash key (Secrets Manager, read once per container).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
from leads_core import captcha, intake
from leads_core.captcha import FAILED, CaptchaVerdict, VerdictCache
from leads_core.settings import load_settings
from leads_core.store.submit import LeadRepository

from tests.conftest import load_event
from tests.submit.conftest import CallCounter, leads_in

SOURCE_IP = "203.0.113.44"


class RejectingCaptcha:
    def __init__(self) -> None:
        self.calls = 0

    def verdict_key(self, submission_id: str | None, digest: str) -> str | None:
        return None

    def verify(self, token: str | None, source_ip: str, *, verdict_key: str | None) -> CaptchaVerdict:
        self.calls += 1
        return CaptchaVerdict(FAILED, "invalid-input-response")


def own_dynamodb() -> tuple[Any, CallCounter]:
    client = boto3.Session(region_name="us-east-1").client("dynamodb")
    counter = CallCounter()
    client.meta.events.register("before-call", counter)
    return client, counter


def submitted(**changes: Any) -> dict[str, Any]:
    return {**json.loads(load_event("submit_valid_json")["body"]), **changes}


def test_the_store_writes_through_the_client_it_is_given(
    stack: Any, aws_calls: CallCounter, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    client, own_calls = own_dynamodb()
    store = LeadRepository(load_settings(), dynamodb=client)

    first = intake.accept(
        submitted(submission_id="form-0100-abcdef"), "json", SOURCE_IP, settings=load_settings(), store=store
    )
    retry = intake.accept(
        submitted(submission_id="form-0100-abcdef"), "json", SOURCE_IP, settings=load_settings(), store=store
    )

    assert (first.kind, retry.kind) == ("accepted", "duplicate")
    assert retry.result.lead_id == first.result.lead_id
    assert own_calls.calls == ["dynamodb.TransactWriteItems", "dynamodb.TransactWriteItems"]
    assert aws_calls.calls == ["secrets-manager.GetSecretValue"]  # the hash key only, no DynamoDB call
    [lead] = leads_in(table_items())
    assert (lead["id"], lead["status"]) == (first.result.lead_id, "new")


def test_a_fake_verifier_decides_the_stored_status(
    stack: Any, monkeypatch: Any, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    monkeypatch.setenv("CAPTCHA_PROVIDER", "turnstile")
    monkeypatch.setenv("CAPTCHA_SECRET_PARAM", "/clinic-leads/captcha-secret")
    load_settings.cache_clear()
    client, _ = own_dynamodb()
    verifier = RejectingCaptcha()

    outcome = intake.accept(
        submitted(captcha_token="forged"),
        "form",
        SOURCE_IP,
        settings=load_settings(),
        store=LeadRepository(load_settings(), dynamodb=client),
        captcha=verifier,
        verdicts=VerdictCache(),
    )

    assert verifier.calls == 1
    assert outcome.kind == "spam"
    [lead] = leads_in(table_items())
    assert (lead["status"], lead["spam_reasons"], lead["channel"]) == ("spam", ["captcha"], "form")
    load_settings.cache_clear()


def test_the_provider_verifier_reads_its_secret_through_the_client_it_is_given(
    stack: Any, aws_calls: CallCounter, monkeypatch: Any, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    monkeypatch.setenv("CAPTCHA_PROVIDER", "turnstile")
    monkeypatch.setenv("CAPTCHA_SECRET_PARAM", "/clinic-leads/no-such-parameter")
    load_settings.cache_clear()
    captcha.forget_captcha_secret()
    ssm = boto3.Session(region_name="us-east-1").client("ssm")
    ssm_calls = CallCounter()
    ssm.meta.events.register("before-call", ssm_calls)
    client, _ = own_dynamodb()

    outcome = intake.accept(
        submitted(captcha_token="token"),
        "json",
        SOURCE_IP,
        settings=load_settings(),
        store=LeadRepository(load_settings(), dynamodb=client),
        captcha=intake.ProviderCaptcha(load_settings(), ssm=ssm),
        verdicts=VerdictCache(),
    )

    # The parameter does not exist: a configuration problem, so the lead is kept and flagged, never spam.
    assert ssm_calls.calls == ["ssm.GetParameter"]
    assert "ssm.GetParameter" not in aws_calls.calls
    assert outcome.kind == "accepted"
    [lead] = leads_in(table_items())
    assert (lead["status"], lead["review_flags"]) == ("new", ["captcha_unverified"])
    captcha.forget_captcha_secret()
    load_settings.cache_clear()
