"""LOCAL_FAULTS parsing and injection on a boto3 session (moto behind it)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from leads_local.faults import FaultInjector, FaultSpecError, parse_faults


def test_parse_valid_spec() -> None:
    rules = parse_faults(" dynamodb:PutItem=0.3, sns:*=0.5 ,dynamodb:TransactWriteItems=1")
    assert [str(r) for r in rules] == ["dynamodb:PutItem=0.3", "sns:*=0.5", "dynamodb:TransactWriteItems=1"]
    assert parse_faults("") == ()


@pytest.mark.parametrize(
    "spec",
    [
        "dynamodb",
        "dynamodb:PutItem",
        "dynamodb:PutItem=1.5",
        "dynamodb:PutItem=abc",
        "dynamodb:PutItm=0.5",
        "nosuchservice:*=0.5",
        "dynamodb:PutItem=0.1,dynamodb:PutItem=0.2",
    ],
)
def test_invalid_spec_names_the_variable(spec: str) -> None:
    with pytest.raises(FaultSpecError, match=r"^LOCAL_FAULTS: "):
        parse_faults(spec)


def _session(spec: str, seed: int | None = 1) -> Any:
    session = boto3.Session(region_name="us-east-1")
    FaultInjector(parse_faults(spec), seed=seed).install(session)
    return session


def test_dynamodb_item_call_raises_the_real_throttling_error(stack: Any) -> None:
    session = boto3.Session(region_name="us-east-1")
    injector = FaultInjector(parse_faults("dynamodb:PutItem=1"))
    injector.install(session)
    client = session.client("dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 3}))
    item = {"pk": {"S": "X"}, "sk": {"S": "Y"}}
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException) as caught:
        client.put_item(TableName=stack.table_name, Item=item)
    assert caught.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert injector.injected == {
        "dynamodb:PutItem": 1
    }  # answered before the endpoint: botocore did not retry
    # Other operations are untouched, and nothing was written.
    assert "Item" not in client.get_item(TableName=stack.table_name, Key=item)


def test_transactions_throttle_with_throttling_exception(stack: Any) -> None:
    client = _session("dynamodb:*=1").client("dynamodb")
    item = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    with pytest.raises(ClientError) as caught:
        client.transact_write_items(TransactItems=[{"Put": {"TableName": stack.table_name, "Item": item}}])
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"


def test_sns_raises_throttled_exception(stack: Any) -> None:
    client = _session("sns:*=1").client("sns")
    with pytest.raises(client.exceptions.ThrottledException):
        client.publish(TopicArn=stack.topic_arn, Message="x")


def test_rate_is_applied_per_call_and_seeded(stack: Any) -> None:
    def outcomes(seed: int) -> list[bool]:
        client = _session("sns:Publish=0.5", seed=seed).client("sns")
        results = []
        for _ in range(40):
            try:
                client.publish(TopicArn=stack.topic_arn, Message="x")
                results.append(True)
            except client.exceptions.ThrottledException:
                results.append(False)
        return results

    first = outcomes(7)
    assert first == outcomes(7)  # reproducible with LOCAL_FAULTS_SEED
    assert 5 < first.count(False) < 35  # 40 calls at rate 0.5 (bounds far outside any plausible draw)


def test_rate_zero_never_fails(stack: Any) -> None:
    client = _session("sns:*=0").client("sns")
    for _ in range(5):
        client.publish(TopicArn=stack.topic_arn, Message="x")
