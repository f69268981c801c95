"""LeadRepository against moto: one transaction, idempotency, rate limit, and error translation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from leads_core import aws
from leads_core.errors import DuplicateConflict, RateLimited, StorageUnavailable
from leads_core.settings import load_settings
from leads_core.store.submit import LeadRepository, NewLead, StoredResult, iso_timestamp, submission_hash

from tests.submit.conftest import CallCounter, FaultInjector, leads_in

NOW = 1_795_953_600.25  # 2026-11-29T12:00:00.250Z, 3599.75 s before the next hour


def fields(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "Ada.L@example.com",
        "phone": "+16305550100",
        "preferred_contact": "phone",
        "best_time": "any",
        "service": "anxiety",
        "location": "naperville",
        "referral_type": "self",
        "provider_name": None,
        "provider_practice": "",
        "provider_email": None,
        "provider_phone": None,
        "message": "",
        "heard_about": None,
        "consent_privacy": True,
        "consent_sms": False,
        "in_crisis": False,
        "submission_id": None,
        "attribution": {"utm_source": "google", "gclid": ""},
        "website": "",
        "captcha_token": "token-should-not-be-stored",
    }
    values.update(overrides)
    return values


def new_lead(
    *, digest: str = "d1", submission_id: str | None = None, source_ip: str = "203.0.113.7", **kwargs: Any
) -> NewLead:
    return NewLead(
        fields=fields(submission_id=submission_id),
        digest=digest,
        channel="json",
        source_ip=source_ip,
        submission_id=submission_id,
        **kwargs,
    )


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def repository(stack: Any, clock: Clock) -> LeadRepository:
    return LeadRepository(load_settings(), clock=clock)


def test_accepted_lead_is_one_transaction_with_normalised_item(
    repository: LeadRepository, table_items: Callable[[], list[dict[str, Any]]], aws_calls: CallCounter
) -> None:
    repository.submit(new_lead())  # cold: the hash key is read once
    aws_calls.reset()
    result = repository.submit(
        new_lead(digest="d2", submission_id="key-0002", urgent_reasons=["self_reported"])
    )

    assert aws_calls.calls == ["dynamodb.TransactWriteItems"]
    assert result.replayed is False
    assert result.urgent is True
    items = table_items()
    lead = next(item for item in leads_in(items) if item["id"] == result.lead_id)
    assert lead["pk"] == f"LEAD#{result.lead_id}"
    assert lead["sk"] == "LEAD"
    assert lead["status"] == "new"
    assert lead["created_at"] == iso_timestamp(NOW) == "2026-11-29T12:00:00.250Z"
    assert lead["expires_at"] == int(NOW) + 730 * 86400
    assert lead["consent_privacy"] is True
    assert lead["consent_privacy_at"] == lead["created_at"]
    assert "consent_sms_at" not in lead
    assert lead["attribution"] == {"utm_source": "google"}
    assert lead["urgent_reasons"] == ["self_reported"]
    assert lead["submission_id"] == "key-0002"
    omitted = ("provider_name", "provider_practice", "message", "heard_about", "website", "captcha_token")
    assert not set(omitted) & set(lead)
    assert "spam_reasons" not in lead
    assert len(lead["email_hash"]) == len(lead["phone_hash"]) == len(lead["source_hash"]) == 64
    assert "203.0.113.7" not in str(items)
    record = next(item for item in items if item["pk"] == "IDEM#key-0002")
    assert record["lead_id"] == result.lead_id
    assert record["request_digest"] == submission_hash(load_settings().hash_key_secret_id, "d2")
    assert "d2" not in {str(v) for item in items for v in item.values()}  # no unkeyed digest is stored
    assert "dedupe_hash" not in lead  # a keyed submission has no dedupe record
    assert record["status"] == "received"
    assert record["urgent"] is True
    assert record["expires_at"] == int(NOW) + 24 * 3600
    counter = next(item for item in items if item["pk"].startswith("RATE#"))
    assert counter["sk"] == "2026112912"
    assert counter["hits"] == 2


def test_same_key_same_digest_replays_first_result(
    repository: LeadRepository, table_items: Callable[[], list[dict[str, Any]]], aws_calls: CallCounter
) -> None:
    first = repository.submit(new_lead(submission_id="retry-key-1"))
    aws_calls.reset()
    again = repository.submit(new_lead(submission_id="retry-key-1"))

    expected = StoredResult(lead_id=first.lead_id, urgent=False, created_at=first.created_at, replayed=True)
    assert again == expected
    assert aws_calls.calls == ["dynamodb.TransactWriteItems"], "ALL_OLD must make the replay a single call"
    assert len(leads_in(table_items())) == 1


def test_same_key_different_digest_conflicts(
    repository: LeadRepository, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    repository.submit(new_lead(submission_id="retry-key-2", digest="one"))
    with pytest.raises(DuplicateConflict):
        repository.submit(new_lead(submission_id="retry-key-2", digest="two"))
    assert len(leads_in(table_items())) == 1


def test_keyless_duplicate_collapses_for_ten_minutes_only(
    repository: LeadRepository, clock: Clock, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    first = repository.submit(new_lead(digest="same"))
    clock.now += 599
    assert repository.submit(new_lead(digest="same")).lead_id == first.lead_id
    clock.now += 2
    later = repository.submit(new_lead(digest="same"))
    assert later.replayed is False
    assert later.lead_id != first.lead_id
    assert len(leads_in(table_items())) == 2
    keyed = submission_hash(load_settings().hash_key_secret_id, "same")
    assert len(keyed) == 64
    assert keyed != "same"
    record = next(item for item in table_items() if item["pk"] == f"IDEMC#{keyed}")
    assert record["lead_id"] == later.lead_id
    assert record["request_digest"] == keyed
    assert (
        next(lead for lead in leads_in(table_items()) if lead["id"] == later.lead_id)["dedupe_hash"] == keyed
    )


def test_a_record_from_before_keyed_digests_still_replays(
    repository: LeadRepository, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    """``IDEM#`` records written before the change hold the plain digest (24 h): a retry replays, no 409."""
    first = repository.submit(new_lead(submission_id="legacy-key-1", digest="plain"))
    aws.client("dynamodb").update_item(
        TableName=load_settings().table_name,
        Key={"pk": {"S": "IDEM#legacy-key-1"}, "sk": {"S": "IDEM"}},
        UpdateExpression="SET request_digest = :plain",
        ExpressionAttributeValues={":plain": {"S": "plain"}},
    )
    assert repository.submit(new_lead(submission_id="legacy-key-1", digest="plain")).lead_id == first.lead_id
    with pytest.raises(DuplicateConflict):
        repository.submit(new_lead(submission_id="legacy-key-1", digest="other"))
    assert len(leads_in(table_items())) == 1


def test_rate_limit_counts_per_source_and_hour(
    repository: LeadRepository, clock: Clock, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    for n in range(10):
        repository.submit(new_lead(digest=f"d{n}"))
    with pytest.raises(RateLimited) as raised:
        repository.submit(new_lead(digest="eleventh"))
    assert raised.value.retry_after == 3600 - int(NOW) % 3600
    repository.submit(new_lead(digest="other-source", source_ip="198.51.100.9"))
    clock.now += 3600
    repository.submit(new_lead(digest="next-hour"))
    assert len(leads_in(table_items())) == 12


def test_duplicate_wins_over_rate_limit(repository: LeadRepository) -> None:
    first = repository.submit(new_lead(submission_id="accepted-early"))
    for n in range(9):
        repository.submit(new_lead(digest=f"fill{n}"))
    with pytest.raises(RateLimited):
        repository.submit(new_lead(digest="blocked"))
    assert repository.submit(new_lead(submission_id="accepted-early")).lead_id == first.lead_id


def test_spam_goes_through_the_same_transaction(
    repository: LeadRepository, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    result = repository.submit(new_lead(digest="bot", spam_reasons=["honeypot"]))
    assert repository.submit(new_lead(digest="bot", spam_reasons=["honeypot"])).lead_id == result.lead_id
    (lead,) = leads_in(table_items())
    assert lead["status"] == "spam"
    assert lead["spam_reasons"] == ["honeypot"]
    assert lead["expires_at"] == int(NOW) + 30 * 86400


def test_lead_id_collision_retries_with_a_fresh_id(stack: Any, clock: Clock) -> None:
    ids = iter(["AAAAAAAAAA", "AAAAAAAAAA", "BBBBBBBBBB"])
    repository = LeadRepository(load_settings(), clock=clock, new_lead_id=lambda: next(ids))
    assert repository.submit(new_lead(digest="x")).lead_id == "AAAAAAAAAA"
    assert repository.submit(new_lead(digest="y")).lead_id == "BBBBBBBBBB"
    always_taken = LeadRepository(load_settings(), clock=clock, new_lead_id=lambda: "AAAAAAAAAA")
    with pytest.raises(StorageUnavailable):
        always_taken.submit(new_lead(digest="z"))


def test_throttling_and_timeouts_are_storage_unavailable_and_nothing_is_written(
    repository: LeadRepository,
    faults: FaultInjector,
    table_items: Callable[[], list[dict[str, Any]]],
) -> None:
    for code in ("ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError"):
        faults.fail("TransactWriteItems", code)
        with pytest.raises(StorageUnavailable) as raised:
            repository.submit(new_lead(submission_id="during-outage"))
        assert raised.value.retry_after > 0
        assert table_items() == [], code
    faults.clear()

    def time_out(**_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")

    client_events = aws.client("dynamodb").meta.events  # the client exists: hook it directly
    client_events.register("before-call.dynamodb.TransactWriteItems", time_out)
    with pytest.raises(StorageUnavailable):
        repository.submit(new_lead(submission_id="during-outage"))
    client_events.unregister("before-call.dynamodb.TransactWriteItems", time_out)
    assert table_items() == []

    first = repository.submit(new_lead(submission_id="during-outage"))
    assert repository.submit(new_lead(submission_id="during-outage")).lead_id == first.lead_id
    assert len(leads_in(table_items())) == 1


def test_transaction_conflict_reason_is_storage_unavailable(repository: LeadRepository) -> None:
    error = ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "x"},
            "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}, {"Code": "None"}],
        },
        "TransactWriteItems",
    )
    with pytest.raises(StorageUnavailable):
        repository._cancelled(new_lead(), error.response["CancellationReasons"], NOW)


def test_replay_without_all_old_falls_back_to_one_read(repository: LeadRepository) -> None:
    first = repository.submit(new_lead(submission_id="no-all-old"))
    reasons = [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}, {"Code": "None"}]
    replay = repository._cancelled(new_lead(submission_id="no-all-old"), reasons, NOW)
    assert replay is not None
    assert replay.lead_id == first.lead_id


@pytest.mark.parametrize(
    ("urgent_reasons", "spam_reasons", "status", "flags"),
    [
        ((), (), "new", ()),
        ((), ("links",), "spam", ()),
        (("message",), (), "new", ()),
        (("message",), ("links",), "new", ("possible_spam",)),
        (("self_reported",), ("honeypot", "captcha"), "new", ("possible_spam",)),
    ],
)
def test_an_urgent_lead_is_never_spam_but_flagged_for_review(
    urgent_reasons: tuple[str, ...], spam_reasons: tuple[str, ...], status: str, flags: tuple[str, ...]
) -> None:
    lead = new_lead(urgent_reasons=urgent_reasons, spam_reasons=spam_reasons)
    assert lead.status == status
    assert tuple(lead.review_flags) == flags
    flagged = new_lead(
        urgent_reasons=urgent_reasons, spam_reasons=spam_reasons, review_flags=["captcha_unverified"]
    )
    assert tuple(flagged.review_flags) == ("captcha_unverified", *flags)
