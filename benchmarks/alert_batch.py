"""SNS calls per alert: one 100-record stream batch of new leads through the real alert handler (moto).

The leads are written by the real submit handler; the batch is read back from the table's stream (moto's
DynamoDB Streams) and filtered with the template's own filter pattern, then handed to
``send_alerts.app.lambda_handler`` as Lambda would. An SQS queue subscribed to the topic counts what was
actually delivered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from benchmarks.aws_calls import install_counter
from benchmarks.inprocess import FakeLambdaContext, moto_backend
from benchmarks.payloads import run_token
from benchmarks.warm import stdout_to_devnull, submission_event


def _matches(pattern: Any, value: Any) -> bool:
    """The subset of Lambda event filtering the template uses: nested objects and lists of exact values."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(_matches(p, value.get(k)) for k, p in pattern.items())
    if isinstance(pattern, list):
        return value in pattern
    return bool(pattern == value)


def _lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    converted = dict(record)
    dynamodb = dict(converted["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    converted["dynamodb"] = dynamodb
    converted["eventSourceARN"] = stream_arn
    return converted


def stream_batch(stream_arn: str, size: int) -> list[dict[str, Any]]:
    import boto3
    from leads_local.template import stream_event_source

    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    patterns = stream_event_source().filter_patterns
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    records: list[dict[str, Any]] = []
    for shard in shards:
        iterator: str | None = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator and len(records) < size:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                event_record = _lambda_record(dict(record), stream_arn)
                if any(_matches(pattern, event_record) for pattern in patterns):
                    records.append(event_record)
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return records[:size]


def measure(batch_size: int = 100) -> dict[str, Any]:
    import boto3

    with moto_backend() as resources, stdout_to_devnull():
        from send_alerts import app as alerts_app
        from submit_consultation import app as submit_app

        context = FakeLambdaContext()
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="bench-alert-copies")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        boto3.client("sns", region_name="us-east-1").subscribe(
            TopicArn=resources.topic_arn, Protocol="sqs", Endpoint=queue_arn
        )
        run = run_token()
        for index in range(batch_size):
            response = submit_app.lambda_handler(submission_event(run, index), context)
            if response["statusCode"] != 201:
                raise RuntimeError(f"submit handler answered {response['statusCode']} to a valid lead")
        records = stream_batch(resources.stream_arn, batch_size)
        if len(records) != batch_size:
            raise RuntimeError(f"stream held {len(records)} new-lead records, expected {batch_size}")

        counter = install_counter()
        result = alerts_app.lambda_handler({"Records": records}, context)
        failures = len((result or {}).get("batchItemFailures", []))
        calls = counter.snapshot()

        delivered = 0
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300)
            batch = messages.get("Messages", [])
            if not batch:
                break
            delivered += len(batch)
    alerts = batch_size - failures
    sns_calls = sum(n for name, n in calls.items() if name.startswith("sns:"))
    return {
        "sns_calls_per_alert": round(sns_calls / alerts, 3) if alerts else None,
        "batch_records": batch_size,
        "alerts_published": alerts,
        "alerts_delivered_to_subscriber": delivered,
        "batch_item_failures": failures,
        "aws_operations": calls,
        "aws_calls_per_alert": round(sum(calls.values()) / alerts, 3) if alerts else None,
        "records_source": "moto DynamoDB Streams (TRIM_HORIZON), filtered with the template pattern",
    }
