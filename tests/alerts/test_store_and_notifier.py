"""Exactly-once bookkeeping and the SNS adapter on their own (moto; faults through botocore events)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from leads_core import aws, delivery, notifier
from leads_core.alerts import Alert
from leads_core.errors import NotificationFailed, StorageUnavailable
from leads_core.store import alert_state
from leads_core.store import layout as keys
from leads_core.store.alert_state import ClaimStatus

from tests.alerts.conftest import AlertWorld, _shared_session


def _throttle_dynamodb_updates(matching: str) -> None:
    """Answer every UpdateItem whose UpdateExpression contains ``matching`` with a throttling error."""

    def before_call(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = params["body"]
        if matching not in (body.decode() if isinstance(body, bytes) else str(body)):
            return None
        error = {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, None), error  # type: ignore[arg-type]

    aws.client("dynamodb").meta.events.register("before-call.dynamodb.UpdateItem", before_call)


def test_claim_outcomes(alert_world: AlertWorld) -> None:
    fresh = alert_world.put_lead()
    spam = alert_world.put_lead(status="spam")

    first = alert_state.claim(fresh["id"], now=1_000)
    assert first.status is ClaimStatus.CLAIMED
    assert alert_world.get_item(fresh["id"])["alert_lease_until"] == {
        "N": str(1_000 + alert_state.LEASE_SECONDS)
    }
    assert alert_state.claim(fresh["id"], now=1_030).status is ClaimStatus.LEASED_ELSEWHERE
    assert alert_state.claim(fresh["id"], now=1_061).status is ClaimStatus.CLAIMED  # the lease expired

    alert_state.mark_sent(fresh["id"], "message-1")
    assert alert_state.claim(fresh["id"], now=9_999_999_999).status is ClaimStatus.ALREADY_ALERTED
    assert alert_state.claim(spam["id"]).status is ClaimStatus.NOT_ALERTABLE
    assert alert_state.claim("0000000000").status is ClaimStatus.MISSING
    assert alert_world.get_item("0000000000") == {}


def test_release_lets_the_next_attempt_claim_at_once(alert_world: AlertWorld) -> None:
    lead = alert_world.put_lead()
    assert alert_state.claim(lead["id"]).claimed
    alert_state.release(lead["id"])
    assert alert_state.claim(lead["id"]).claimed
    alert_state.mark_sent(lead["id"], "message-1")
    alert_state.release(lead["id"])  # after sending, a release changes nothing
    item = alert_world.get_item(lead["id"])
    assert item["alert_message_id"] == {"S": "message-1"}


def test_dynamodb_throttling_on_claim_fails_the_lead_without_publishing(alert_world: AlertWorld) -> None:
    lead = alert_world.put_lead()
    _throttle_dynamodb_updates("alert_lease_until = :until")

    with pytest.raises(StorageUnavailable):
        alert_state.claim(lead["id"])
    report = delivery.deliver([lead])

    assert report.failed_lead_ids == [lead["id"]]
    assert report.sns_calls == 0
    assert alert_world.inbox() == []


def test_a_published_alert_whose_mark_fails_is_remembered_and_never_published_again(
    alert_world: AlertWorld,
) -> None:
    lead = alert_world.put_lead()
    _throttle_dynamodb_updates("alerted_at = :sent")  # every mark attempt, retries included

    report = delivery.deliver([lead])

    assert list(report.published) == [lead["id"]]
    assert report.unmarked == [lead["id"]]
    assert report.failed_lead_ids == []
    assert len(alert_world.inbox()) == 1
    assert "alert_lease_until" in alert_world.get_item(lead["id"])  # the lease keeps other containers away
    again = delivery.deliver([lead])  # the record comes again to this container: mark, do not publish
    assert (again.suppressed, again.unmarked, again.sns_calls) == ([lead["id"]], [lead["id"]], 0)
    assert alert_world.inbox() == []


def test_deliver_writes_its_bookkeeping_with_the_client_it_is_given(alert_world: AlertWorld) -> None:
    lead = alert_world.put_lead()
    _throttle_dynamodb_updates("")  # the default client refuses every UpdateItem: it must not be used
    given = _shared_session().client("dynamodb")  # another client on the same (moto) table

    report = delivery.deliver([lead], dynamodb=given)

    assert list(report.published) == [lead["id"]]
    assert (report.unmarked, report.failed_lead_ids) == ([], [])
    assert "alerted_at" in alert_world.get_item(lead["id"])
    assert len(alert_world.inbox()) == 1
    again = delivery.deliver([lead], dynamodb=given)  # claimed through the given client: already alerted
    assert (again.suppressed, again.sns_calls) == ([lead["id"]], 0)
    assert alert_world.inbox() == []


def test_deliver_rejects_a_lead_without_a_usable_id(alert_world: AlertWorld) -> None:
    with pytest.raises(ValueError, match="usable id"):
        delivery.deliver([{"id": "bad id with spaces"}])


def test_load_lead_returns_the_current_item_or_none(alert_world: AlertWorld) -> None:
    lead = alert_world.put_lead(first_name="Current")
    loaded = delivery.load_lead(lead["id"])
    assert loaded is not None
    assert loaded["first_name"] == "Current"
    assert delivery.load_lead("0000000000") is None


class _FakeSns:
    def __init__(self, behaviour: Any) -> None:
        self.behaviour = behaviour
        self.calls: list[list[str]] = []

    def publish_batch(
        self, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]
    ) -> dict[str, Any]:
        ids = [entry["Id"] for entry in PublishBatchRequestEntries]
        self.calls.append(ids)
        return self.behaviour(ids)


def _alerts(count: int) -> list[Alert]:
    return [Alert(f"LEAD{i:06d}", "s", "e", "m", "e", {"lead_id": f"LEAD{i:06d}"}) for i in range(count)]


def test_publish_batch_chunks_by_ten_and_maps_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(ids: list[str]) -> dict[str, Any]:
        # SNS answers for the first entries only; the last one of each call gets no answer at all.
        return {"Successful": [{"Id": i, "MessageId": f"m-{i}"} for i in ids[:-1]], "Failed": []}

    fake = _FakeSns(answer)
    monkeypatch.setattr(aws, "client", lambda service: fake)

    outcome = notifier.publish_batch("arn:aws:sns:us-east-1:123456789012:t", _alerts(23))

    assert [len(call) for call in fake.calls] == [10, 10, 3]
    assert outcome.calls == 3
    assert len(outcome.succeeded) == 20
    assert outcome.failed == {"LEAD000009": "NoResult", "LEAD000019": "NoResult", "LEAD000022": "NoResult"}
    with pytest.raises(NotificationFailed):
        outcome.raise_for_failures()


def test_publish_batch_turns_connection_errors_into_failed_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(ids: list[str]) -> dict[str, Any]:
        raise EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com")

    monkeypatch.setattr(aws, "client", lambda service: _FakeSns(unreachable))

    outcome = notifier.publish_batch("arn:aws:sns:us-east-1:123456789012:t", _alerts(2))

    assert outcome.succeeded == {}
    assert outcome.failed == {
        "LEAD000000": "EndpointConnectionError",
        "LEAD000001": "EndpointConnectionError",
    }


def test_publish_batch_keeps_each_call_under_the_payload_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeSns(lambda ids: {"Successful": [{"Id": i, "MessageId": f"m-{i}"} for i in ids], "Failed": []})
    monkeypatch.setattr(aws, "client", lambda service: fake)
    big_email = "😀" * 8_000 + "x" * 4_000  # a full-detail email at its largest: about 36 KB, twice per entry
    alerts = [
        Alert(f"LEAD{i:06d}", "s", big_email, "m", big_email, {"lead_id": f"LEAD{i:06d}"}) for i in range(10)
    ]

    outcome = notifier.publish_batch("arn:aws:sns:us-east-1:123456789012:t", alerts)

    assert len(outcome.succeeded) == 10
    assert len(fake.calls) > 1
    assert sorted(i for call in fake.calls for i in call) == sorted(a.lead_id for a in alerts)
    for call in fake.calls:
        entries = [a.to_publish_entry() for a in alerts if a.lead_id in call]
        assert sum(notifier.entry_bytes(e) for e in entries) <= 256 * 1024


def _published_and_claimed(alert_world: AlertWorld, count: int) -> list[dict[str, Any]]:
    leads = alert_world.put_leads(count)
    for lead in leads:
        assert alert_state.claim(lead["id"]).claimed
    return leads


def test_a_chunk_is_marked_in_one_transaction(alert_world: AlertWorld) -> None:
    leads = _published_and_claimed(alert_world, 3)
    calls: list[str] = []
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb.*", lambda event_name, **_: calls.append(event_name.rsplit(".", 1)[-1])
    )

    marks = [(keys.lead_key(lead["id"]), f"message-{n}") for n, lead in enumerate(leads)]
    assert alert_state.mark_items(marks) is True

    assert calls == ["TransactWriteItems"]
    for n, lead in enumerate(leads):
        item = alert_world.get_item(lead["id"])
        assert item["alert_message_id"] == {"S": f"message-{n}"}
        assert "alerted_at" in item
        assert "alert_lease_until" not in item
        assert "alert_attempt" not in item


def test_a_chunk_with_an_erased_or_marked_lead_is_not_marked_at_all(alert_world: AlertWorld) -> None:
    leads = _published_and_claimed(alert_world, 3)
    alert_state.mark_sent(leads[1]["id"], "marked-before")
    marks = [(keys.lead_key(lead["id"]), "message") for lead in leads]
    marks.append((keys.lead_key("0000000000"), "message"))  # erased while its alert was in flight

    assert alert_state.mark_items(marks) is False

    assert "alerted_at" not in alert_world.get_item(leads[0]["id"])  # nothing written: mark each instead
    assert alert_world.get_item(leads[1]["id"])["alert_message_id"] == {"S": "marked-before"}
    assert alert_world.get_item("0000000000") == {}


def test_a_throttled_mark_transaction_raises_storage_unavailable(alert_world: AlertWorld) -> None:
    leads = _published_and_claimed(alert_world, 2)

    def throttle(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, None), error  # type: ignore[arg-type]

    aws.client("dynamodb").meta.events.register("before-call.dynamodb.TransactWriteItems", throttle)

    with pytest.raises(StorageUnavailable):
        alert_state.mark_items([(keys.lead_key(lead["id"]), "message") for lead in leads])


def test_mark_items_refuses_what_one_transaction_cannot_hold() -> None:
    key = keys.lead_key("AAAAAAAAAA")
    with pytest.raises(ValueError, match="at most once"):
        alert_state.mark_items([(key, "m1"), (key, "m2")], table_name="t")
    with pytest.raises(ValueError, match="1 to 100"):
        alert_state.mark_items([], table_name="t")
    too_many = [(keys.lead_key(f"L{n:09d}"), "m") for n in range(alert_state.MARKS_PER_TRANSACTION + 1)]
    with pytest.raises(ValueError, match="1 to 100"):
        alert_state.mark_items(too_many, table_name="t")


def test_delivery_marks_each_lead_on_its_own_when_the_chunk_transaction_is_cancelled(
    alert_world: AlertWorld,
) -> None:
    leads = alert_world.put_leads(4)
    erased = leads[2]["id"]
    client = aws.client("dynamodb")

    transactions: list[int] = []

    def erase_before_marking(params: dict[str, Any], **_: Any) -> None:  # staff erase it as it goes out
        transactions.append(1)
        client.delete_item(TableName=alert_world.resources.table_name, Key=keys.lead_key(erased))

    client.meta.events.register_first("before-call.dynamodb.TransactWriteItems", erase_before_marking)

    report = delivery.deliver(leads)

    assert transactions == [1]  # the chunk's one transaction, cancelled by the erased lead
    assert sorted(report.published) == sorted(lead["id"] for lead in leads)  # all four went out
    assert report.unmarked == []
    for lead in leads:
        if lead["id"] != erased:
            assert "alerted_at" in alert_world.get_item(lead["id"])  # marked one by one
    assert alert_world.get_item(erased) == {}  # the erasure stands: the mark did not bring it back
