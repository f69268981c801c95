"""The staff role's table permissions fit what the staff function really calls: every DynamoDB request of
every route (recorded on the client) is an allowed action, on a partition key the ``dynamodb:LeadingKeys``
patterns allow, or a query of an index the role names. A new call on a new item kind fails here first."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from leads_core import aws

from tests.cli.conftest import Submitter
from tests.staff.conftest import StaffCaller
from tests.template.sam import effective
from tests.template.test_template import as_list, function_policy

TABLE_ARN = {"Fn::GetAtt": ["LeadsTable", "Arn"]}


def _partition_keys(operation: str, params: dict[str, Any]) -> list[str]:
    if operation in {"GetItem", "UpdateItem", "DeleteItem"}:
        return [params["Key"]["pk"]["S"]]
    if operation == "PutItem":
        return [params["Item"]["pk"]["S"]]
    if operation == "Query":
        return [params["ExpressionAttributeValues"][":pk"]["S"]]
    if operation == "BatchWriteItem":
        return [
            request["DeleteRequest"]["Key"]["pk"]["S"]
            for requests in params["RequestItems"].values()
            for request in requests
        ]
    raise AssertionError(f"unexpected operation {operation}")


def test_every_table_call_of_every_route_is_allowed_by_the_staff_role(
    staff: StaffCaller, submit: Submitter
) -> None:
    statements = function_policy(effective(), "StaffApiFunction")
    (table_statement,) = [s for s in statements if TABLE_ARN in as_list(s["Resource"])]
    item_actions = {a.removeprefix("dynamodb:") for a in as_list(table_statement["Action"])}
    patterns = table_statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    (index_statement,) = [s for s in statements if s["Action"] == "dynamodb:Query"]
    indexes = {r["Fn::Sub"].rsplit("/", 1)[-1] for r in index_statement["Resource"]}
    lead_id = submit(submission_id="policy-lead-0001")
    other = submit(submission_id="policy-lead-0002")

    calls: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, params))

    client = aws.client("dynamodb")
    client.meta.events.register("provide-client-params.dynamodb.*", record)
    try:
        replies = [
            staff("list", query={}),
            staff("list", query={"status": "new", "limit": "1"}),
            staff("show", lead_id=lead_id),
            staff("status", lead_id=lead_id, body={"status": "contacted", "note": "n"}),
            staff("assign", lead_id=lead_id),
            staff("export", groups="admin", query={}),
            staff("erase", lead_id=other, groups="admin"),
            staff("session"),
        ]
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.*", record)

    assert [r.status for r in replies] == [200, 200, 200, 200, 200, 200, 204, 204]
    operations = {name for name, _ in calls}
    assert "Scan" not in operations
    assert {"Query", "GetItem", "PutItem", "TransactWriteItems", "DeleteItem"} <= operations
    for name, params in calls:
        if name == "Query" and "IndexName" in params:
            assert params["IndexName"] in indexes, params["IndexName"]
            continue
        if name == "TransactWriteItems":
            for item in params["TransactItems"]:
                (action, request) = next(iter(item.items()))
                assert {"Update": "UpdateItem", "Put": "PutItem"}[action] in item_actions
                key = request.get("Key") or request["Item"]
                assert any(fnmatchcase(key["pk"]["S"], p) for p in patterns), key
            continue
        assert name in item_actions, name
        for partition in _partition_keys(name, params):
            assert any(fnmatchcase(partition, p) for p in patterns), (name, partition)
