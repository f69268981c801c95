"""The local stack's moto patch keeps TransactWriteItems atomic: a cancelled transaction changes nothing
(items, in-place updates, stream records), a successful one applies every operation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from leads_local import moto_patches


@pytest.fixture
def table(aws_mock: None) -> Iterator[str]:
    with moto_patches.installed() as active:
        assert active or not moto_patches.enabled()
        yield _create_table()


def _create_table() -> str:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="speedups",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    client.put_item(TableName="speedups", Item={"pk": {"S": "counter"}, "sk": {"S": "x"}, "hits": {"N": "1"}})
    client.put_item(TableName="speedups", Item={"pk": {"S": "taken"}, "sk": {"S": "x"}})
    return "speedups"


def test_uninstall_restores_stock_moto() -> None:
    from moto.dynamodb import models as dynamodb_models

    stock = dynamodb_models.DynamoDBBackend.transact_write_items
    with moto_patches.installed() as active:
        assert (dynamodb_models.DynamoDBBackend.transact_write_items is not stock) == active
    assert dynamodb_models.DynamoDBBackend.transact_write_items is stock


def _items(name: str) -> list[Any]:
    return sorted(boto3.client("dynamodb", region_name="us-east-1").scan(TableName=name)["Items"], key=str)


def _stream_records(name: str) -> int:
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = boto3.client("dynamodb", region_name="us-east-1").describe_table(TableName=name)["Table"][
        "LatestStreamArn"
    ]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return len(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


def _transaction(name: str, new_key: str, claim: str) -> list[Any]:
    return [
        {"Put": {"TableName": name, "Item": {"pk": {"S": new_key}, "sk": {"S": "x"}}}},
        {
            "Update": {
                "TableName": name,
                "Key": {"pk": {"S": "counter"}, "sk": {"S": "x"}},
                "UpdateExpression": "ADD hits :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {
            "Put": {
                "TableName": name,
                "Item": {"pk": {"S": claim}, "sk": {"S": "x"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]


def test_a_cancelled_transaction_changes_nothing(table: str) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    before, records_before = _items(table), _stream_records(table)
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(TransactItems=_transaction(table, "new", "taken"))
    assert _items(table) == before
    assert _stream_records(table) == records_before


def test_a_successful_transaction_applies_every_operation(table: str) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    records_before = _stream_records(table)
    client.transact_write_items(TransactItems=_transaction(table, "new", "free"))
    keys = {item["pk"]["S"] for item in _items(table)}
    assert {"new", "free", "counter", "taken"} == keys
    counter = client.get_item(TableName=table, Key={"pk": {"S": "counter"}, "sk": {"S": "x"}})["Item"]
    assert counter["hits"]["N"] == "2"
    assert _stream_records(table) == records_before + 3


def test_a_cancelled_transaction_puts_back_replaced_deleted_and_updated_items(table: str) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.put_item(TableName=table, Item={"pk": {"S": "counter"}, "sk": {"S": "y"}, "v": {"S": "old"}})
    before, records_before = _items(table), _stream_records(table)
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "counter"}, "sk": {"S": "y"}}}},
                {"Delete": {"TableName": table, "Key": {"pk": {"S": "counter"}, "sk": {"S": "x"}}}},
                {"Put": {"TableName": table, "Item": {"pk": {"S": "counter"}, "sk": {"S": "z"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "taken"}, "sk": {"S": "x"}},
                        "UpdateExpression": "SET claimed = :yes",
                        "ExpressionAttributeValues": {":yes": {"BOOL": True}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "nothing"}, "sk": {"S": "x"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert _items(table) == before
    assert _stream_records(table) == records_before
    query = client.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "counter"}},
    )
    assert [item["sk"]["S"] for item in query["Items"]] == ["x", "y"]


def _records_read_back(name: str) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = boto3.client("dynamodb", region_name="us-east-1").describe_table(TableName=name)["Table"][
        "LatestStreamArn"
    ]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    answer = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=10)
    # NextShardIterator is a new id on every read, patched or not; the records are the answer.
    return [dict(record) for record in answer["Records"]]


def test_stream_records_read_the_same_with_and_without_the_patch(aws_mock: None) -> None:
    name = _create_table()
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=name,
        Key={"pk": {"S": "counter"}, "sk": {"S": "x"}},
        UpdateExpression="SET tags = :tags, nested = :nested",
        ExpressionAttributeValues={
            ":tags": {"SS": ["a", "b"]},
            ":nested": {"M": {"list": {"L": [{"N": "1.5"}, {"NULL": True}, {"B": b"\x00\x01"}]}}},
        },
    )
    stock = _records_read_back(name)
    with moto_patches.installed() as active:
        patched = _records_read_back(name)
    assert active or not moto_patches.enabled()
    assert [record["eventName"] for record in stock] == ["INSERT", "INSERT", "MODIFY"]
    assert patched == stock


def test_a_cancelled_transaction_on_a_table_without_a_sort_key_changes_nothing(table: str) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="flat",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName="flat", Item={"pk": {"S": "kept"}, "v": {"N": "1"}})
    client.put_item(TableName="flat", Item={"pk": {"S": "gone"}})
    before = _items("flat")
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "flat", "Item": {"pk": {"S": "new"}}}},
                {"Delete": {"TableName": "flat", "Key": {"pk": {"S": "gone"}}}},
                {
                    "Update": {
                        "TableName": "flat",
                        "Key": {"pk": {"S": "kept"}},
                        "UpdateExpression": "ADD v :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": "taken"}, "sk": {"S": "x"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert _items("flat") == before
