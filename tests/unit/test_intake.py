"""The submit use case (``leads_core.intake.accept``) with a fake store and a fake captcha verifier (no AWS).

What ``accept`` owns: which rules run and in what order, how spam, crisis and captcha verdicts become the
lead's status, ``spam_reasons`` and ``review_flags``, the verdict memory, the outcome's metric and log line.
Storage and the provider's HTTP are covered with moto and a local fake provider in tests/submit/.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from leads_core import captcha, intake
from leads_core.captcha import FAILED, PASSED, UNVERIFIED, CaptchaVerdict, VerdictCache
from leads_core.errors import CaptchaUnavailable, ConfigurationError, RateLimited, ValidationFailed
from leads_core.observability import logger, metrics
from leads_core.settings import Settings
from leads_core.store.submit import NewLead, StoredResult

from tests.conftest import load_event

SOURCE_IP = "203.0.113.10"
TOKEN = "solved-challenge-token"


class FakeStore:
    """Keeps the leads it is given; answers like the repository (or replays, or raises)."""

    def __init__(self, *, replayed: bool = False, error: Exception | None = None) -> None:
        self.leads: list[NewLead] = []
        self.replayed = replayed
        self.error = error

    def submit(self, lead: NewLead) -> StoredResult:
        self.leads.append(lead)
        if self.error is not None:
            raise self.error
        return StoredResult(
            lead_id="01JDX4P7ZQ",
            urgent=lead.urgent,
            created_at="2026-12-02T06:00:00.000Z",
            replayed=self.replayed,
            status=None if self.replayed else lead.status,
        )


class FakeCaptcha:
    """Answers ``verdict`` (or raises ``error``) and records what it was asked."""

    def __init__(
        self, verdict: CaptchaVerdict | None = None, *, error: Exception | None = None, keyed: bool = True
    ) -> None:
        self.verdict = verdict or CaptchaVerdict(PASSED, "success")
        self.error = error
        self.keyed = keyed
        self.calls: list[tuple[str | None, str, str | None]] = []

    def verdict_key(self, submission_id: str | None, digest: str) -> str | None:
        if not self.keyed:
            return None
        return hashlib.sha256(f"{submission_id or ''}:{digest}".encode()).hexdigest()

    def verify(self, token: str | None, source_ip: str, *, verdict_key: str | None) -> CaptchaVerdict:
        self.calls.append((token, source_ip, verdict_key))
        if self.error is not None:
            raise self.error
        return self.verdict


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


@pytest.fixture(autouse=True)
def _no_metrics_left() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def metric_names() -> set[str]:
    return set(metrics.metric_set)


def settings(provider: str = "turnstile") -> Settings:
    return Settings(
        table_name="leads-table",
        locations=("naperville", "oak-brook"),
        captcha_provider=provider,  # type: ignore[arg-type]
        captcha_secret_param="/clinic-leads/captcha-secret" if provider != "none" else "",
    )


def fields(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {**json.loads(load_event("submit_valid_json")["body"]), "captcha_token": TOKEN}
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def accept(
    submitted: dict[str, Any],
    *,
    store: FakeStore,
    verifier: FakeCaptcha,
    provider: str = "turnstile",
    memory: VerdictCache | None = None,
) -> intake.Outcome:
    return intake.accept(
        submitted,
        "json",
        SOURCE_IP,
        settings=settings(provider),
        store=store,
        captcha=verifier,
        verdicts=memory if memory is not None else VerdictCache(),
    )


CRISIS_MESSAGE = "I keep thinking about ending my life and I need help this week."
HONEYPOT = "https://spam.example"


# --- outcomes -----------------------------------------------------------------------------------------------


def test_a_passed_captcha_stores_a_new_lead_without_flags(logs: Recorded) -> None:
    store, verifier = FakeStore(), FakeCaptcha(CaptchaVerdict(PASSED, "success"))

    outcome = accept(fields(), store=store, verifier=verifier)

    assert outcome.kind == "accepted"
    [lead] = store.leads
    assert outcome.lead is lead
    assert (lead.status, list(lead.spam_reasons), list(lead.review_flags)) == ("new", [], [])
    assert (lead.channel, lead.source_ip, lead.urgent) == ("json", SOURCE_IP, False)
    assert lead.fields["email"] == "Jordan.Sample@example.com"  # normalised by parse_submission
    [(token, source_ip, key)] = verifier.calls
    assert (token, source_ip) == (TOKEN, SOURCE_IP)
    assert key == verifier.verdict_key(None, lead.digest)
    assert metric_names() == {"LeadAccepted"}
    [line] = [line for line in logs.lines if line["message"] == "submission stored"]
    assert line["outcome"] == "accepted"
    assert line["lead_id"] == "01JDX4P7ZQ"
    assert (line["channel"], line["urgent"], line["keyed"]) == ("json", False, False)


def test_a_failed_captcha_quarantines_the_lead_as_spam() -> None:
    store = FakeStore()

    outcome = accept(fields(), store=store, verifier=FakeCaptcha(CaptchaVerdict(FAILED, "no-token")))

    assert outcome.kind == "spam"
    [lead] = store.leads
    assert (lead.status, list(lead.spam_reasons), list(lead.review_flags)) == ("spam", ["captcha"], [])
    assert metric_names() == {"SpamQuarantined"}


def test_a_failed_captcha_never_quarantines_a_person_in_crisis() -> None:
    store = FakeStore()

    outcome = accept(
        fields(message=CRISIS_MESSAGE),
        store=store,
        verifier=FakeCaptcha(CaptchaVerdict(FAILED, "invalid-input-response")),
    )

    assert outcome.kind == "accepted"
    [lead] = store.leads
    assert lead.status == "new"
    assert list(lead.urgent_reasons) == ["message"]
    assert list(lead.spam_reasons) == ["captcha"]
    assert list(lead.review_flags) == ["possible_spam"]
    assert metric_names() == {"LeadAccepted", "UrgentLead"}


@pytest.mark.parametrize(
    "answer",
    [
        CaptchaUnavailable("provider unreachable"),
        ConfigurationError("CAPTCHA_SECRET_PARAM: the SSM parameter is empty"),
        CaptchaVerdict(UNVERIFIED, "timeout-or-duplicate"),
    ],
    ids=["unavailable", "misconfigured", "already-used"],
)
def test_an_unverifiable_captcha_accepts_the_lead_flagged(
    answer: Exception | CaptchaVerdict, logs: Recorded
) -> None:
    store = FakeStore()
    if isinstance(answer, Exception):
        verifier = FakeCaptcha(error=answer)
        code = type(answer).__name__
    else:
        verifier = FakeCaptcha(answer)
        code = answer.code

    outcome = accept(fields(), store=store, verifier=verifier)

    assert outcome.kind == "accepted"
    [lead] = store.leads
    assert (lead.status, list(lead.spam_reasons), list(lead.review_flags)) == (
        "new",
        [],
        ["captcha_unverified"],
    )
    assert metric_names() == {"CaptchaUnverified", "LeadAccepted"}
    [warning] = [line for line in logs.lines if line["message"] == "captcha not verified"]
    assert warning["code"] == code


def test_a_spam_rule_quarantines_without_asking_the_captcha_provider() -> None:
    store, verifier = FakeStore(), FakeCaptcha()

    outcome = accept(fields(website=HONEYPOT), store=store, verifier=verifier)

    assert outcome.kind == "spam"
    assert verifier.calls == []
    [lead] = store.leads
    assert (lead.status, list(lead.spam_reasons)) == ("spam", ["honeypot"])


def test_without_a_captcha_provider_the_verifier_is_never_asked() -> None:
    store, verifier = FakeStore(), FakeCaptcha(CaptchaVerdict(FAILED, "no-token"))

    outcome = accept(fields(captcha_token=None), store=store, verifier=verifier, provider="none")

    assert outcome.kind == "accepted"
    assert verifier.calls == []
    assert list(store.leads[0].review_flags) == []


def test_an_urgent_honeypot_lead_is_kept_for_staff_and_flagged() -> None:
    store = FakeStore()

    outcome = accept(fields(website=HONEYPOT, in_crisis=True), store=store, verifier=FakeCaptcha())

    assert outcome.kind == "accepted"
    [lead] = store.leads
    assert lead.status == "new"
    assert list(lead.urgent_reasons) == ["self_reported"]
    assert list(lead.review_flags) == ["possible_spam"]


def test_a_replayed_submission_is_a_duplicate(logs: Recorded) -> None:
    outcome = accept(
        fields(submission_id="retry-of-form-0001"), store=FakeStore(replayed=True), verifier=FakeCaptcha()
    )

    assert outcome.kind == "duplicate"
    assert metric_names() == {"DuplicateSubmission"}
    [line] = [line for line in logs.lines if line["message"] == "submission stored"]
    assert (line["outcome"], line["keyed"]) == ("duplicate", True)


# --- what happens before anything is stored -----------------------------------------------------------------


def test_an_invalid_submission_reaches_neither_the_captcha_nor_the_store() -> None:
    store, verifier = FakeStore(), FakeCaptcha()

    with pytest.raises(ValidationFailed) as failed:
        accept(fields(email="not-an-address"), store=store, verifier=verifier)

    assert set(failed.value.errors) == {"email"}
    assert (store.leads, verifier.calls) == ([], [])
    assert metric_names() == set()


def test_a_storage_refusal_propagates_without_an_outcome_metric() -> None:
    store = FakeStore(error=RateLimited(120))

    with pytest.raises(RateLimited):
        accept(fields(), store=store, verifier=FakeCaptcha())

    assert len(store.leads) == 1
    assert metric_names() == set()


# --- the verdict memory -------------------------------------------------------------------------------------


def test_a_definite_verdict_is_remembered_for_a_retry_of_the_same_submission() -> None:
    memory, verifier = VerdictCache(), FakeCaptcha(CaptchaVerdict(FAILED, "invalid-input-response"))
    first, retry = FakeStore(), FakeStore()

    accept(fields(submission_id="form-0001-abcdef"), store=first, verifier=verifier, memory=memory)
    # The retry re-sends a now-used token; the provider is not asked again and the verdict is the same.
    accept(fields(submission_id="form-0001-abcdef"), store=retry, verifier=verifier, memory=memory)

    assert len(verifier.calls) == 1
    assert list(retry.leads[0].spam_reasons) == ["captcha"]

    # Another submission cannot borrow the verdict.
    accept(fields(submission_id="form-0002-abcdef"), store=FakeStore(), verifier=verifier, memory=memory)
    assert len(verifier.calls) == 2


def test_an_unverified_verdict_is_not_remembered() -> None:
    memory, verifier = VerdictCache(), FakeCaptcha(error=CaptchaUnavailable("down"))

    for _ in range(2):
        accept(fields(submission_id="form-0001-abcdef"), store=FakeStore(), verifier=verifier, memory=memory)

    assert len(verifier.calls) == 2
    assert len(memory) == 0


def test_without_a_verdict_key_nothing_is_remembered() -> None:
    memory, verifier = VerdictCache(), FakeCaptcha(keyed=False)

    for _ in range(2):
        accept(fields(), store=FakeStore(), verifier=verifier, memory=memory)

    assert [key for _token, _ip, key in verifier.calls] == [None, None]
    assert len(memory) == 0


def test_the_default_memory_is_the_containers_verdict_cache() -> None:
    captcha.forget_verdicts()
    verifier = FakeCaptcha()
    try:
        for _ in range(2):
            intake.accept(
                fields(submission_id="form-0003-abcdef"),
                "form",
                SOURCE_IP,
                settings=settings(),
                store=FakeStore(),
                captcha=verifier,
            )
        assert len(verifier.calls) == 1
        assert len(captcha.verdicts) == 1
    finally:
        captcha.forget_verdicts()
