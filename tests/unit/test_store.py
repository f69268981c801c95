"""``leads_core.store``: the one error translation, the one pager, the one codec, and store functions that
take the client they are handed (a moto client made here, not ``aws.client``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from leads_cli.app import EXIT_ACCESS_DENIED, EXIT_AWS_UNREACHABLE, State, translate_error
from leads_core.cursor import InvalidCursor
from leads_core.errors import (
    ConditionFailed,
    LeadNotFound,
    StorageThrottled,
    StorageUnavailable,
    TransactionCancelled,
)
from leads_core.manage import LeadAdmin
from leads_core.store import alert_state, codec, escalations, layout, pager
from leads_core.store.failures import code_of, translate, translated
from leads_core.store.leads import load_lead
from leads_core.store.leads_admin import LeadsTable, StatusUpdate

LEAD_ID = "7K3M9Q2XAB"


THROTTLED = "ProvisionedThroughputExceededException"


def _client_error(code: str, **response: Any) -> ClientError:
    parsed: Any = {"Error": {"Code": code, "Message": "no"}, **response}
    return ClientError(parsed, "UpdateItem")


# ------------------------------------------------------------------------------------------ translation


def test_a_false_condition_becomes_condition_failed_with_the_old_item() -> None:
    old = {"pk": {"S": "LEAD#X"}}
    error = translate(_client_error("ConditionalCheckFailedException", Item=old))
    assert isinstance(error, ConditionFailed)
    assert error.item == old
    bare = translate(_client_error("ConditionalCheckFailedException"))
    assert isinstance(bare, ConditionFailed)
    assert bare.item == {}


def test_a_cancelled_transaction_keeps_its_reasons_in_order() -> None:
    reasons = [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}]
    error = translate(_client_error("TransactionCanceledException", CancellationReasons=reasons))
    assert isinstance(error, TransactionCancelled)
    assert error.reasons == reasons


@pytest.mark.parametrize(
    ("exception", "kind", "code"),
    [
        (_client_error(THROTTLED), StorageThrottled, THROTTLED),
        (_client_error("ThrottlingException"), StorageThrottled, "ThrottlingException"),
        (_client_error("InternalServerError"), StorageUnavailable, "InternalServerError"),
        (_client_error("AccessDeniedException"), StorageUnavailable, "AccessDeniedException"),
        (
            EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
            StorageUnavailable,
            "EndpointConnectionError",
        ),
    ],
)
def test_every_other_aws_failure_is_storage_unavailable_with_its_code(
    exception: Exception, kind: type[StorageUnavailable], code: str
) -> None:
    with pytest.raises(kind) as raised, translated():
        raise exception
    assert raised.value.code == code
    assert code_of(raised.value) == code
    assert raised.value.__cause__ is exception
    assert str(raised.value) == "storage unavailable"  # nothing of the AWS message


def test_a_bug_is_not_translated() -> None:
    assert translate(RuntimeError("boom")) is None
    with pytest.raises(RuntimeError, match="boom"), translated():
        raise RuntimeError("boom")
    with pytest.raises(LeadNotFound), translated():  # a domain error passes as it is
        raise LeadNotFound(LEAD_ID)


def test_the_cli_maps_a_translated_error_by_its_aws_cause() -> None:
    denied = StorageUnavailable(code="AccessDeniedException")
    denied.__cause__ = _client_error("AccessDeniedException")
    assert translate_error(denied, State()).exit_code == EXIT_ACCESS_DENIED
    unreachable = StorageUnavailable(code="EndpointConnectionError")
    unreachable.__cause__ = EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    assert translate_error(unreachable, State()).exit_code == EXIT_AWS_UNREACHABLE


# ------------------------------------------------------------------------------------------------ pager


def test_the_pager_follows_last_evaluated_key_without_changing_the_request() -> None:
    pages: list[dict[str, Any]] = [
        {"Items": [{"n": 1}, {"n": 2}], "LastEvaluatedKey": {"k": 2}},
        {"Items": [], "LastEvaluatedKey": {"k": 3}},
        {"Items": [{"n": 4}]},
    ]
    asked: list[dict[str, Any]] = []

    def query(**request: Any) -> dict[str, Any]:
        asked.append(request)
        return pages[len(asked) - 1]

    request = {"TableName": "t"}
    assert list(pager.items(query, request)) == [{"n": 1}, {"n": 2}, {"n": 4}]
    assert asked == [
        {"TableName": "t"},
        {"TableName": "t", "ExclusiveStartKey": {"k": 2}},
        {"TableName": "t", "ExclusiveStartKey": {"k": 3}},
    ]
    assert request == {"TableName": "t"}


def test_the_pager_reads_lazily_and_translates_failures() -> None:
    calls = 0

    def query(**_: Any) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise _client_error(THROTTLED)
        return {"Items": [{"n": calls}], "LastEvaluatedKey": {"k": calls}}

    items = pager.items(query, {})
    assert next(items) == {"n": 1}
    assert calls == 1  # the second page is asked for only when the first is used up
    with pytest.raises(StorageThrottled):
        next(items)


# ------------------------------------------------------------------------------------------------ codec


def test_the_codec_round_trips_and_makes_plain_values() -> None:
    values = {"s": "a", "n": 3, "f": Decimal("1.5"), "b": True, "l": ["x"], "m": {"k": "v"}, "ss": {"b", "a"}}
    item = codec.to_item(values)
    assert item["s"] == codec.string("a")
    assert item["n"] == codec.number(3)
    assert item["b"] == codec.boolean(True)
    assert codec.from_item(item)["n"] == Decimal(3)
    assert codec.to_plain(item) == {**values, "f": 1.5, "ss": ["a", "b"]}
    assert codec.read_string(item, "s") == "a"
    assert codec.read_string(item, "missing", "d") == "d"
    assert codec.read_bool(item, "b") is True
    assert codec.read_string_set(item, "ss") == {"a", "b"}
    assert codec.read_string_set(item, "s") == set()


# ---------------------------------------------------------------------------------- clients handed in


@pytest.fixture
def dynamodb(stack: Any) -> Any:
    """A moto client of its own (not the cached ``aws.client``)."""
    import boto3

    return boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def throttled(stack: Any) -> Any:
    """A client whose every DynamoDB operation is throttled (``dynamodb:*``)."""
    import boto3

    client = boto3.client("dynamodb", region_name="us-east-1")

    def refuse(**_: Any) -> None:
        raise _client_error(THROTTLED)

    client.meta.events.register("before-call.dynamodb", refuse)
    return client


def _put_lead(dynamodb: Any, table: str, status: str = "new", **extra: str) -> None:
    item = {
        **layout.lead_key(LEAD_ID),
        "entity": codec.string(layout.ENTITY_LEAD),
        "id": codec.string(LEAD_ID),
        "status": codec.string(status),
        "created_at": codec.string("2026-12-02T09:00:00.000Z"),
        **{name: codec.string(value) for name, value in extra.items()},
    }
    dynamodb.put_item(TableName=table, Item=item)


def test_alert_state_and_lead_reads_use_the_client_they_are_given(stack: Any, dynamodb: Any) -> None:
    table = stack.table_name
    assert load_lead(LEAD_ID, table_name=table, dynamodb=dynamodb) is None
    _put_lead(dynamodb, table)
    assert load_lead(LEAD_ID, table_name=table, dynamodb=dynamodb)["status"] == "new"  # type: ignore[index]

    first = alert_state.claim(LEAD_ID, dynamodb=dynamodb, table_name=table, now=1000, token="a")
    assert first.claimed
    again = alert_state.claim(LEAD_ID, dynamodb=dynamodb, table_name=table, now=1001, token="b")
    assert again.status is alert_state.ClaimStatus.LEASED_ELSEWHERE
    alert_state.mark_sent(LEAD_ID, "msg-1", dynamodb=dynamodb, table_name=table)
    late = alert_state.claim(LEAD_ID, dynamodb=dynamodb, table_name=table, now=5000, token="c")
    assert late.status is alert_state.ClaimStatus.ALREADY_ALERTED


def test_a_throttled_client_raises_storage_unavailable_from_every_store_call(
    stack: Any, throttled: Any
) -> None:
    table = stack.table_name
    with pytest.raises(StorageThrottled):
        load_lead(LEAD_ID, table_name=table, dynamodb=throttled)
    with pytest.raises(StorageThrottled):
        alert_state.claim(LEAD_ID, dynamodb=throttled, table_name=table)
    with pytest.raises(StorageThrottled):
        alert_state.mark_sent(LEAD_ID, "m", dynamodb=throttled, table_name=table)
    alert_state.release(LEAD_ID, dynamodb=throttled, table_name=table)  # best effort: logged, not raised
    leads = LeadsTable(table, dynamodb=throttled)
    with pytest.raises(StorageThrottled):
        list(leads.query_status("new"))
    with pytest.raises(StorageThrottled):
        leads.delete_lead(LEAD_ID)


def test_the_sweeps_table_calls_use_the_client_they_are_given(stack: Any, dynamodb: Any) -> None:
    table = stack.table_name
    _put_lead(dynamodb, table, first_name="Ann")
    found = list(
        escalations.unanswered_leads(
            table, "2026-12-02T08:00:00.000Z", "2026-12-02T10:00:00.000Z", dynamodb=dynamodb
        )
    )
    assert [lead["id"] for lead in found] == [LEAD_ID]
    assert "first_name" not in found[0]  # codes only
    assert escalations.sent_levels(table, [(LEAD_ID, 1)], dynamodb=dynamodb) == set()

    def ledger(level: int) -> bool:
        return escalations.create_ledger_item(
            table,
            LEAD_ID,
            level,
            seen_at="2026-12-02T09:30:00.000Z",
            expires_at=1900000000,
            dynamodb=dynamodb,
        )

    assert ledger(1) is True
    assert ledger(1) is True  # an existing ledger item is kept
    item = dynamodb.get_item(TableName=table, Key=layout.escalation_key(LEAD_ID, 1))["Item"]
    assert item["entity"] == codec.string(layout.ENTITY_ESCALATION)
    assert item[layout.TTL_ATTRIBUTE] == codec.number(1900000000)
    dynamodb.update_item(
        TableName=table,
        Key=layout.escalation_key(LEAD_ID, 1),
        UpdateExpression="SET alerted_at = :now",
        ExpressionAttributeValues={":now": codec.number(1000)},
    )
    assert escalations.sent_levels(table, [(LEAD_ID, 1), (LEAD_ID, 2)], dynamodb=dynamodb) == {(LEAD_ID, 1)}
    dynamodb.update_item(
        TableName=table,
        Key=layout.lead_key(LEAD_ID),
        UpdateExpression="SET assigned_to = :who",
        ExpressionAttributeValues={":who": codec.string("morgan")},
    )
    assert ledger(2) is False  # assigned: no ledger item, ever
    assert "Item" not in dynamodb.get_item(TableName=table, Key=layout.escalation_key(LEAD_ID, 2))


def test_the_sweeps_table_calls_translate_throttling(stack: Any, throttled: Any) -> None:
    table = stack.table_name
    with pytest.raises(StorageThrottled):
        list(escalations.unanswered_leads(table, "a", "b", dynamodb=throttled))
    with pytest.raises(StorageThrottled):
        escalations.create_ledger_item(table, LEAD_ID, 1, seen_at="a", expires_at=1, dynamodb=throttled)
    assert escalations.sent_levels(table, [(LEAD_ID, 1)], dynamodb=throttled) == set()  # best effort


def test_the_leads_table_pages_changes_erases_and_audits_with_the_given_client(
    stack: Any, dynamodb: Any
) -> None:
    table = stack.table_name
    _put_lead(dynamodb, table, submission_id="sub-1")
    dynamodb.put_item(
        TableName=table,
        Item={**layout.idempotency_key("sub-1"), "lead_id": codec.string(LEAD_ID)},
    )
    leads = LeadsTable(table, page_size=1, dynamodb=dynamodb)
    assert [codec.read_string(item, "id") for item in leads.query_status("new")] == [LEAD_ID]

    previous = leads.update_status(StatusUpdate(LEAD_ID, "contacted", None, "2026-12-02T09:05:00.000Z", "me"))
    assert previous == "new"
    with pytest.raises(LeadNotFound):
        leads.update_status(StatusUpdate("0000000000", "contacted", None, "2026-12-02T09:05:00.000Z", "me"))

    admin = LeadAdmin(table, page_size=1, dynamodb=dynamodb)
    admin.record_audit("me", "erase", f"lead:{LEAD_ID}", 1, {"kind": "id"})
    assert [entry["action"] for entry in admin.iter_audit()] == ["erase"]

    assert leads.delete_lead(LEAD_ID) is True
    assert leads.delete_lead(LEAD_ID) is False
    assert "Item" not in dynamodb.get_item(TableName=table, Key=layout.idempotency_key("sub-1"))


def test_changes_write_a_history_item_each_and_the_first_answer_once(stack: Any, dynamodb: Any) -> None:
    table = stack.table_name
    _put_lead(dynamodb, table, inbox=layout.INBOX_VALUE)
    leads = LeadsTable(table, page_size=1, dynamodb=dynamodb)

    assigned = leads.assign(LEAD_ID, "pat", "2026-12-02T09:01:00.000Z")
    changed = leads.change_status(
        StatusUpdate(LEAD_ID, "contacted", "Called", "2026-12-02T09:02:00.000Z", "sam", answers=True)
    )

    assert (assigned.previous_status, assigned.first_answer) == ("new", True)
    assert (changed.previous_status, changed.first_answer) == ("new", False)
    lead = codec.to_plain(leads.get_lead(LEAD_ID) or {})
    assert (lead["first_answered_by"], lead["first_answered_at"]) == ("pat", "2026-12-02T09:01:00.000Z")
    assert (lead["assigned_to"], lead["status"], lead["status_note"]) == ("pat", "contacted", "Called")
    history = [codec.to_plain(item) for item in leads.history(LEAD_ID)]  # pages of one item
    assert [(h["action"], h["actor"], h["status"], h.get("note")) for h in history] == [
        ("assign", "pat", "new", None),
        ("status", "sam", "contacted", "Called"),
    ]
    with pytest.raises(LeadNotFound):
        leads.assign("0000000000", "pat", "2026-12-02T09:03:00.000Z")

    assert leads.delete_lead(LEAD_ID) is True
    assert list(leads.history(LEAD_ID)) == []


def test_the_staff_list_pages_the_inbox_with_a_cursor_of_its_own(stack: Any, dynamodb: Any) -> None:
    table = stack.table_name
    _put_lead(dynamodb, table, inbox=layout.INBOX_VALUE)  # created 09:00
    newer = "7K3M9Q2XAC"
    item = {**layout.lead_key(newer), "entity": codec.string(layout.ENTITY_LEAD), "id": codec.string(newer)}
    item |= {"status": codec.string("contacted"), "created_at": codec.string("2026-12-02T10:00:00.000Z")}
    dynamodb.put_item(TableName=table, Item={**item, "inbox": codec.string(layout.INBOX_VALUE)})
    spam = {**item, **layout.lead_key("7K3M9Q2XAD"), "id": codec.string("7K3M9Q2XAD")}
    dynamodb.put_item(TableName=table, Item={**spam, "status": codec.string("spam")})  # no inbox attribute
    leads = LeadsTable(table, dynamodb=dynamodb)

    page, cursor = leads.list_page(None, limit=1)
    assert [codec.read_string(item, "id") for item in page] == [newer]
    assert cursor is not None
    rest, _ = leads.list_page(None, limit=1, cursor=cursor)
    assert [codec.read_string(item, "id") for item in rest] == [LEAD_ID]
    with pytest.raises(InvalidCursor):
        leads.list_page("new", limit=1, cursor=cursor)  # an Inbox cursor cannot page ByStatus
    assert [codec.read_string(item, "id") for item in leads.query_leads()] == [newer, LEAD_ID]
    assert [codec.read_string(item, "id") for item in leads.query_leads("spam")] == ["7K3M9Q2XAD"]
    assert [codec.read_string(item, "id") for item in leads.query_leads(since="2026-12-02T09:30")] == [newer]


def test_a_filtered_staff_list_reads_ahead_and_pages_every_match_once_in_order(
    stack: Any, dynamodb: Any
) -> None:
    table = stack.table_name
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    expected: list[str] = []
    for n in range(30):
        lead_id = f"7K3M9Q2X{alphabet[n // 32]}{alphabet[n % 32]}"
        location = ("naperville", "wheaton", "oak-brook")[n % 3]
        item = {
            **layout.lead_key(lead_id),
            "entity": codec.string(layout.ENTITY_LEAD),
            "id": codec.string(lead_id),
        }
        item |= {"status": codec.string("new"), "location": codec.string(location)}
        item |= {"created_at": codec.string(f"2026-12-02T10:{n:02d}:00.000Z"), "inbox": codec.string("lead")}
        dynamodb.put_item(TableName=table, Item=item)
        if location == "wheaton":
            expected.insert(0, lead_id)  # newest first
    queries: list[int] = []
    dynamodb.meta.events.register("before-call.dynamodb.Query", lambda **_: queries.append(1))
    leads = LeadsTable(table, dynamodb=dynamodb)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page, cursor = leads.list_page(None, limit=4, cursor=cursor, location="wheaton")
        assert len(page) <= 4
        seen += [codec.read_string(item, "id") for item in page]
        pages += 1
        if cursor is None:
            break
    assert seen == expected  # each of the 10 once, newest first, across pages of 4
    assert pages == 3
    assert len(queries) <= 4  # one read fills a page: the filter drops two of three, the read ahead covers it
