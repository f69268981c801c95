"""The staff function when DynamoDB throttles or conflicts: a 503 with Retry-After (nothing half-written), and
a status change that meets another one's transaction is tried again, so both history entries survive."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from leads_core import aws
from leads_core.manage import LeadAdmin

from tests.cli.conftest import Submitter
from tests.staff.conftest import StaffCaller


class Throttle:
    """Every DynamoDB operation of the ``leads_core.aws`` client fails with a throttling error."""

    def __init__(self) -> None:
        self.on = False
        self.injected = 0

    def __call__(self, model: Any, **_: Any) -> Any:
        if not self.on:
            return None
        self.injected += 1
        parsed = {
            "Error": {"Code": "ThrottlingException", "Message": "injected by the test"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, HTTPHeaders(), None), parsed


@pytest.fixture
def throttle(staff_env: Any) -> Any:
    injector = Throttle()
    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb.*", injector)
    yield injector
    client.meta.events.unregister("before-call.dynamodb.*", injector)


@pytest.mark.parametrize(
    ("route", "options"),
    [
        ("list", {"query": {}}),
        ("show", {}),
        ("status", {"body": {"status": "contacted", "note": "Called"}}),
        ("assign", {}),
        ("erase", {"groups": "admin"}),
        ("export", {"groups": "admin", "query": {}}),
        ("session", {}),
    ],
)
def test_throttled_storage_answers_503_with_retry_after_and_changes_nothing(
    staff: StaffCaller,
    submit: Submitter,
    throttle: Throttle,
    staff_env: Any,
    route: str,
    options: dict[str, Any],
) -> None:
    lead_id = submit()
    admin = LeadAdmin(staff_env.table_name)
    before = admin.lead_with_history(lead_id)

    throttle.on = True
    reply = staff(route, lead_id=lead_id, **options)
    throttle.on = False

    assert reply.status == 503
    assert reply.headers["Retry-After"] == "2"
    assert throttle.injected >= 1
    assert admin.lead_with_history(lead_id) == before
    assert list(admin.iter_audit()) == []


class ConflictOnce:
    """The first ``TransactWriteItems`` is cancelled as DynamoDB cancels one of two transactions on the same
    item; later ones reach moto."""

    def __init__(self) -> None:
        self.cancelled = 0

    def __call__(self, model: Any, **_: Any) -> Any:
        if model.name != "TransactWriteItems" or self.cancelled:
            return None
        self.cancelled += 1
        parsed = {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, HTTPHeaders(), None), parsed


def test_a_conflicting_status_change_is_tried_again_and_keeps_its_history_entry(
    staff: StaffCaller, submit: Submitter
) -> None:
    lead_id = submit()
    conflict = ConflictOnce()
    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", conflict)
    try:
        reply = staff("status", lead_id=lead_id, body={"status": "contacted", "note": "Second try"})
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", conflict)

    assert conflict.cancelled == 1
    assert reply.status == 200
    assert [(h["status"], h["note"]) for h in reply.json()["history"]] == [("contacted", "Second try")]
