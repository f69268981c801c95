"""Read ``template.yaml`` and create its table, topic, queues and secret in an AWS emulation (moto).

Tests and the local stack both build their resources from here, so the mocks cannot drift from what
``sam deploy`` creates: key schema, GSIs, stream view type, TTL attribute, queue settings, and the alert
function's event-source settings (batch size, retries, bisect, filter, on-failure queue) all come from the
template itself.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (``!Ref X`` -> ``{"Ref": "X"}``)."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


@lru_cache(maxsize=4)
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass with tag constructors


def resource(logical_id: str, template: dict[str, Any] | None = None) -> dict[str, Any]:
    tpl = template or load_template()
    return tpl["Resources"][logical_id]


def resources_of_type(
    resource_type: str, template: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    tpl = template or load_template()
    return {k: v for k, v in tpl["Resources"].items() if v.get("Type") == resource_type}


def _plain(value: Any) -> bool:
    return not isinstance(value, dict) or not any(str(k).startswith(("Fn::", "Ref")) for k in value)


def table_create_kwargs(table_name: str, logical_id: str = "LeadsTable") -> dict[str, Any]:
    """``CreateTable`` arguments from the template's table definition (without KMS, which moto ignores)."""
    props = resource(logical_id)["Properties"]
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    stream = props.get("StreamSpecification")
    if stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    return kwargs


def table_ttl_attribute(logical_id: str = "LeadsTable") -> str | None:
    spec = resource(logical_id)["Properties"].get("TimeToLiveSpecification")
    return spec["AttributeName"] if spec and spec.get("Enabled") else None


def queue_attributes(logical_id: str) -> dict[str, str]:
    """SQS attributes of a queue in the template (plain values only; KMS settings are skipped locally)."""
    props = resource(logical_id).get("Properties", {})
    names = {
        "MessageRetentionPeriod": "MessageRetentionPeriod",
        "VisibilityTimeout": "VisibilityTimeout",
        "ReceiveMessageWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
        "DelaySeconds": "DelaySeconds",
    }
    return {sqs: str(props[cfn]) for cfn, sqs in names.items() if cfn in props and _plain(props[cfn])}


@dataclass(frozen=True)
class StreamEventSource:
    """The alert function's DynamoDB event-source settings, as the template declares them."""

    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool
    bisect_on_error: bool
    maximum_retry_attempts: int
    maximum_record_age_seconds: int
    starting_position: str
    on_failure_queue_logical_id: str | None
    filter_patterns: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def stream_event_source(function_logical_id: str = "SendAlertsFunction") -> StreamEventSource:
    events = resource(function_logical_id)["Properties"]["Events"]
    props = next(e["Properties"] for e in events.values() if e["Type"] == "DynamoDB")
    destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    on_failure = destination["Fn::GetAtt"][0] if isinstance(destination, dict) else None
    filters = props.get("FilterCriteria", {}).get("Filters", [])
    return StreamEventSource(
        batch_size=int(props.get("BatchSize", 100)),
        batching_window_seconds=int(props.get("MaximumBatchingWindowInSeconds", 0)),
        report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
        maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
        maximum_record_age_seconds=int(props.get("MaximumRecordAgeInSeconds", -1)),
        starting_position=str(props.get("StartingPosition", "LATEST")),
        on_failure_queue_logical_id=on_failure,
        filter_patterns=tuple(json.loads(f["Pattern"]) for f in filters),
    )


@dataclass(frozen=True)
class ScheduledFunction:
    """A function of the template that an EventBridge schedule invokes."""

    logical_id: str
    handler_module: str  # e.g. "replay_alerts.app" (the function's Handler without ".lambda_handler")
    schedule: str  # e.g. "rate(1 minute)"


def scheduled_functions(template: dict[str, Any] | None = None) -> list[ScheduledFunction]:
    """Every function with a ``Schedule``/``ScheduleV2`` event, in template order."""
    found: list[ScheduledFunction] = []
    for logical_id, definition in resources_of_type("AWS::Serverless::Function", template).items():
        props = definition.get("Properties", {})
        for event in (props.get("Events") or {}).values():
            if event.get("Type") not in {"Schedule", "ScheduleV2"}:
                continue
            expression = event.get("Properties", {}).get("Schedule") or event.get("Properties", {}).get(
                "ScheduleExpression", ""
            )
            module = str(props["Handler"]).rsplit(".", 1)[0]
            found.append(ScheduledFunction(logical_id, module, str(expression)))
            break
    return found


def function_environment(function_logical_id: str) -> dict[str, Any]:
    """Global plus function environment variables (values may be intrinsics such as ``{"Ref": ...}``)."""
    tpl = load_template()
    env = dict(tpl.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    env.update(resource(function_logical_id)["Properties"].get("Environment", {}).get("Variables", {}))
    return env


@dataclass(frozen=True)
class SubscriptionSlot:
    """One ``AWS::SNS::Subscription`` of the staff topic: the list parameter and position of its endpoint."""

    logical_id: str
    parameter: str  # e.g. "StaffEmails"
    index: int
    protocol: str
    attributes: dict[str, str] = field(default_factory=dict)  # FilterPolicy (JSON text), FilterPolicyScope


def staff_subscription_slots(template: dict[str, Any] | None = None) -> list[SubscriptionSlot]:
    """The staff topic's subscriptions as the template declares them (``Endpoint: !Select [i, !Ref List]``),
    with their protocol and subscription attributes (filter policy and its scope), in template order."""
    slots: list[SubscriptionSlot] = []
    for logical_id, definition in resources_of_type("AWS::SNS::Subscription", template).items():
        props = definition.get("Properties", {})
        if props.get("TopicArn") != {"Ref": "StaffAlertsTopic"}:
            continue
        select = (
            props.get("Endpoint", {}).get("Fn::Select") if isinstance(props.get("Endpoint"), dict) else None
        )
        if not select or not isinstance(select[1], dict) or "Ref" not in select[1]:
            continue
        attributes: dict[str, str] = {}
        for name in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery"):
            if name in props and _plain(props[name]):
                value = props[name]
                attributes[name] = json.dumps(value) if isinstance(value, dict | list) else str(value)
        slots.append(
            SubscriptionSlot(
                logical_id, str(select[1]["Ref"]), int(select[0]), str(props["Protocol"]), attributes
            )
        )
    return slots


def create_subscriptions(sns: Any, topic_arn: str, lists: Mapping[str, list[str]]) -> dict[str, str]:
    """Subscribe the endpoints of ``lists`` (list parameter -> endpoints) to the topic as the template's slots
    would: same protocol, same filter policy, a slot only where its list has an entry. Logical id -> ARN."""
    created: dict[str, str] = {}
    for slot in staff_subscription_slots():
        endpoints = lists.get(slot.parameter, [])
        if slot.index >= len(endpoints) or not endpoints[slot.index]:
            continue
        response = sns.subscribe(
            TopicArn=topic_arn,
            Protocol=slot.protocol,
            Endpoint=endpoints[slot.index],
            Attributes=slot.attributes,
            ReturnSubscriptionArn=True,
        )
        created[slot.logical_id] = str(response["SubscriptionArn"])
    return created


@dataclass
class LocalResources:
    """Names and ARNs of what ``create_resources`` made."""

    table_name: str
    table_arn: str
    stream_arn: str
    topic_arn: str
    alert_failures_queue_url: str
    alert_failures_queue_arn: str
    hash_key_secret_id: str
    region: str
    subscriptions: dict[str, str] = field(default_factory=dict)  # the staff topic's, logical id -> ARN

    def function_environment(self) -> dict[str, str]:
        """Environment variables the template wires to these resources (Globals and the functions' own)."""
        return {
            "TABLE_NAME": self.table_name,
            "TOPIC_ARN": self.topic_arn,
            "HASH_KEY_SECRET_ID": self.hash_key_secret_id,
            "ALERT_FAILURES_QUEUE_URL": self.alert_failures_queue_url,
            "ALERT_STREAM_ARN": self.stream_arn,
        }


def create_resources(
    session: Any, prefix: str = "clinic-leads-local", endpoints: Mapping[str, list[str]] | None = None
) -> LocalResources:
    """Create the template's table, topic, queue and secret through ``session`` (a boto3 Session), and, when
    ``endpoints`` (list parameter -> endpoints, e.g. ``{"StaffEmails": [...]}``) is given, the topic's
    subscriptions as the template's ``AWS::SNS::Subscription`` slots define them."""
    from botocore.config import Config  # noqa: PLC0415

    config = Config(account_id_endpoint_mode="disabled")
    dynamodb = session.client("dynamodb", config=config)
    sns = session.client("sns")
    sqs = session.client("sqs")
    secrets_client = session.client("secretsmanager")

    table_name = f"{prefix}-LeadsTable"
    table = dynamodb.create_table(**table_create_kwargs(table_name))["TableDescription"]
    ttl_attribute = table_ttl_attribute()
    if ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute},
        )

    topic_props = resource("StaffAlertsTopic").get("Properties", {})
    topic_attributes = {"DisplayName": topic_props["DisplayName"]} if "DisplayName" in topic_props else {}
    topic_arn = sns.create_topic(Name=f"{prefix}-StaffAlertsTopic", Attributes=topic_attributes)["TopicArn"]

    queue_url = sqs.create_queue(
        QueueName=f"{prefix}-AlertFailuresQueue", Attributes=queue_attributes("AlertFailuresQueue")
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]

    secret_arn = secrets_client.create_secret(
        Name=f"{prefix}-HashKeySecret", SecretString=secrets.token_urlsafe(36)
    )["ARN"]

    subscriptions = create_subscriptions(sns, topic_arn, endpoints) if endpoints else {}

    return LocalResources(
        subscriptions=subscriptions,
        table_name=table_name,
        table_arn=table["TableArn"],
        stream_arn=table["LatestStreamArn"],
        topic_arn=topic_arn,
        alert_failures_queue_url=queue_url,
        alert_failures_queue_arn=queue_arn,
        hash_key_secret_id=secret_arn,
        region=session.region_name,
    )


LOCAL_PREFIX = "clinic-leads-local"
LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT_ID = "123456789012"


def local_outputs(
    port: int = 3000,
    aws_port: int = 4566,
    prefix: str = LOCAL_PREFIX,
    region: str = LOCAL_REGION,
    account_id: str = LOCAL_ACCOUNT_ID,
) -> dict[str, str]:
    """The stack outputs (same keys as ``template.yaml``'s Outputs) of the local stack ``make run`` starts.

    Names are deterministic, so ``leads --local`` can find them without asking the stack. Two differ from a
    deployment: ``LeadsTableStreamArn`` is absent (its label is a creation timestamp: ask ``DescribeTable``),
    and ``HashKeySecretArn`` is the secret's *name*, which every Secrets Manager call accepts as ``SecretId``.
    The staff pool's ids are random in the emulation: ``leads --local`` finds them by the pool's name
    (``leads_local.cognito.find_staff_pool``).
    """
    return {
        "ApiUrl": f"http://127.0.0.1:{port}/consultations",
        "StaffConsoleUrl": f"http://127.0.0.1:{port}/staff/",
        "LeadsTableName": f"{prefix}-LeadsTable",
        "StaffAlertsTopicArn": f"arn:aws:sns:{region}:{account_id}:{prefix}-StaffAlertsTopic",
        "AlertFailuresQueueUrl": f"http://127.0.0.1:{aws_port}/{account_id}/{prefix}-AlertFailuresQueue",
        "HashKeySecretArn": f"{prefix}-HashKeySecret",
    }
