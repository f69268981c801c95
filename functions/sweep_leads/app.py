"""Thin scheduled handler: escalate unanswered leads past their SLA (contract section 8).

EventBridge invokes it every minute (``SweepLeadsFunction``, ``rate(1 minute)``; the local stack every
``LOCAL_SWEEP_SECONDS``). ``leads_core.sweep.sweep`` does the work (docs/speed-to-lead.md): a ``ByStatus``
query of unanswered leads, one escalation per due level per lead through the exactly-once alert path.

Settings: ``TABLE_NAME``, ``TOPIC_ARN``, ``LOCATIONS``, ``BUSINESS_HOURS``, ``FIRST_CONTACT_SLA_MINUTES``,
``URGENT_SLA_MINUTES``, ``CLINIC_NAME``, ``TOPIC_DISPLAY_NAME``, ``CONSOLE_URL``. A bad one (an unparseable
``BUSINESS_HOURS`` included) fails the invocation with a message naming it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from leads_core.observability import logger, metrics, tracer
from leads_core.settings import load_settings


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings().require_alerts()  # a bad setting fails here, naming the variable
    settings.sla_policy()
    from leads_core.sweep import sweep  # noqa: PLC0415 - keeps the module import light

    report = sweep(settings, time_left=context.get_remaining_time_in_millis)
    return report.as_dict()
