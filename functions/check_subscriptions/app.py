"""Thin handler: the scheduled subscription check, and the stack's SMS delivery-status settings.

Scheduled (EventBridge, ``rate(15 minutes)``): compares the staff topic's subscriptions with the configured
endpoints (``STAFF_EMAILS``, ``STAFF_PHONES``, ``URGENT_PHONES``, ``ESCALATION_EMAILS``,
``ESCALATION_PHONES``, joined from the template's list parameters) through ``leads_core.subscriptions`` and
publishes, on every run, the metric ``UnhealthySubscriptions`` (plus
one metric per unhealthy state) that the ``UnhealthySubscriptionsAlarm`` watches. Logs and the return value
hold counts only, never an endpoint.

CloudFormation custom resource (``Custom::SmsDeliveryStatus``): SMS delivery-status logging is an account
setting (``SetSMSAttributes``), not a topic property, so the stack sets it through this function on create
and update (the IAM role SNS writes the logs with, the success sampling rate, the default SMS type) and
clears the role on delete when it is still this stack's. The answer goes to CloudFormation's pre-signed
response URL; a failed update answers FAILED with the error code only.
"""

from __future__ import annotations

import json
import os
from typing import Any

from leads_core import aws
from leads_core import subscriptions as subs
from leads_core.errors import ConfigurationError
from leads_core.observability import MetricUnit, logger, metrics

STATE_METRICS = {
    subs.MISSING: "SubscriptionsMissing",
    subs.PENDING: "SubscriptionsPending",
    subs.UNAUTHENTICATED: "SubscriptionsUnauthenticated",
}
# The SetSMSAttributes names the custom resource accepts from its properties.
SMS_ATTRIBUTES = ("DeliveryStatusIAMRole", "DeliveryStatusSuccessSamplingRate", "DefaultSMSType")


def run_check(environ: dict[str, str] | None = None) -> subs.SubscriptionReport:
    env = dict(os.environ if environ is None else environ)
    topic_arn = env.get("TOPIC_ARN", "")
    if not topic_arn.startswith("arn:"):
        raise ConfigurationError("TOPIC_ARN: must be the ARN of the staff alert topic")
    return subs.check(aws.client("sns"), topic_arn, subs.configured_endpoints(env))


def _record(report: subs.SubscriptionReport) -> dict[str, Any]:
    counts = report.counts()
    metrics.add_metric(name="UnhealthySubscriptions", unit=MetricUnit.Count, value=len(report.unhealthy))
    for state, metric in STATE_METRICS.items():
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=counts[state])
    summary = {"checked": len(report.statuses), "unhealthy": len(report.unhealthy), "counts": counts}
    if report.unhealthy:
        # Which list and state, never the endpoint itself.
        where = sorted({f"{s.source}:{s.state}" for s in report.unhealthy})
        logger.warning("staff alert subscriptions need attention", extra={**summary, "where": where})
    else:
        logger.info("staff alert subscriptions healthy", extra=summary)
    return summary


# ------------------------------------------------------------------------------------------ custom resource


def _send_response(event: dict[str, Any], status: str, reason: str, physical_id: str) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": physical_id,
            "StackId": event.get("StackId", ""),
            "RequestId": event.get("RequestId", ""),
            "LogicalResourceId": event.get("LogicalResourceId", ""),
            "Data": {},
        }
    ).encode()
    import urllib.request  # noqa: PLC0415 - only CloudFormation's calls need it

    url = str(event["ResponseURL"])
    # CloudFormation's pre-signed S3 URL is https; plain http only to this machine (tests).
    if not url.startswith(("https://", "http://127.0.0.1:", "http://localhost:")):
        raise ValueError("ResponseURL must be https")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310: scheme checked
        response.read()


def sms_settings(event: dict[str, Any]) -> tuple[str, str]:
    """Apply (or on delete, release) the account's SMS delivery-status settings; (status, reason)."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    request_type = event.get("RequestType")
    properties = event.get("ResourceProperties", {})
    wanted = {
        name: str(properties[name]) for name in SMS_ATTRIBUTES if properties.get(name) not in (None, "")
    }
    sns = aws.client("sns")
    try:
        if request_type in {"Create", "Update"}:
            sns.set_sms_attributes(attributes=wanted)
        elif request_type == "Delete":
            current = sns.get_sms_attributes(attributes=["DeliveryStatusIAMRole"]).get("attributes", {})
            if current.get("DeliveryStatusIAMRole") == wanted.get("DeliveryStatusIAMRole"):
                sns.set_sms_attributes(attributes={"DeliveryStatusIAMRole": ""})
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
        logger.warning("SMS settings not applied", extra={"request_type": request_type, "error": code})
        if request_type == "Delete":  # never block a stack deletion on an account setting
            return "SUCCESS", f"left as it was ({code})"
        return "FAILED", f"SetSMSAttributes failed: {code}"
    logger.info("SMS settings applied", extra={"request_type": request_type, "attributes": sorted(wanted)})
    return "SUCCESS", "ok"


def _custom_resource(event: dict[str, Any]) -> dict[str, Any]:
    physical_id = str(
        event.get("PhysicalResourceId") or f"sms-delivery-status-{os.environ.get('AWS_REGION', '')}"
    )
    try:
        status, reason = sms_settings(event)
    except Exception as exc:  # a crash must still answer, or CloudFormation waits for an hour
        logger.exception("SMS settings failed")
        status, reason = "FAILED", f"unexpected {type(exc).__name__}"
    _send_response(event, status, reason, physical_id)
    return {"Status": status, "Reason": reason}


@metrics.log_metrics
def _scheduled_check(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _record(run_check())


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and "RequestType" in event and "ResponseURL" in event:
        return _custom_resource(event)  # no metrics: CloudFormation's calls are not checks
    return _scheduled_check(event, context)
