"""``POST /consultations`` and ``OPTIONS /consultations`` (API Gateway REST proxy -> this function).

HTTP only: the request is read by ``request``, the use case is ``leads_core.intake.accept`` (parse, spam
rules, captcha, crisis rules, one ``TransactWriteItems``, the outcome's metric and log line), and its
``Outcome`` becomes the answer in ``responses``. Every error, expected or not, is turned into HTTP in one
place: ``handle_error``.

Logs carry the request id, the lead id, codes and field names, never a submitted value.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext
from leads_core import deadline, intake
from leads_core.errors import (
    DuplicateConflict,
    RateLimited,
    StorageUnavailable,
    ValidationFailed,
)
from leads_core.observability import MetricUnit, logger, metrics, tracer
from leads_core.settings import Settings, load_settings
from leads_core.submission.schema import KNOWN_FIELDS

from submit_consultation import request, responses
from submit_consultation.request import RequestRejected
from submit_consultation.responses import Response

PATH = "/consultations"
# The route's path as a REST resolver matches it: exactly, any number of trailing slashes allowed.
_ROUTE = re.compile(f"^{re.escape(PATH)}/*$")


def submit_settings() -> Settings:
    """This container's settings (cached); ``ConfigurationError`` names the bad variable."""
    return load_settings().require_submit()


# Fail the function start (Lambda INIT) on a bad setting, with a message naming the variable.
submit_settings()

# botocore logs whole request parameters (the lead item) at DEBUG; keep the AWS libraries quiet even when the
# Lambda application log level is DEBUG.
for _library in ("boto3", "botocore", "urllib3"):
    logging.getLogger(_library).setLevel(logging.WARNING)


def resolve(event: dict[str, Any]) -> Response:
    """The answer to one request: the origin check (every path), then the route, else 404; any exception
    becomes its answer in ``handle_error``.

    One path and two methods: Powertools' event handler package would import every resolver it has (AppSync
    with asyncio, Bedrock, VPC Lattice, every event class), a cost each cold start would pay for nothing.
    """
    context: dict[str, Any] = {}
    try:
        _reject_disallowed_origin(event)
        method = request.http_method(event)
        if _ROUTE.match(event["path"]):
            if method == "POST":
                return submit(event, context)
            if method == "OPTIONS":
                return preflight(event)
        return not_found()
    except Exception as exc:
        return handle_error(exc, event, as_json=bool(context.get("as_json", True)))


def _reject_disallowed_origin(event: dict[str, Any]) -> None:
    """403 for a request whose ``Origin`` is not an exact allowed origin (``null`` included)."""
    origin = request.request_origin(event)
    if origin is not None and origin not in submit_settings().allowed_origins:
        raise RequestRejected(403, "origin")


def preflight(event: dict[str, Any]) -> Response:
    return responses.preflight(request.allowed_origin(event, submit_settings().allowed_origins))


def submit(event: dict[str, Any], context: dict[str, Any]) -> Response:
    """``POST /consultations``; ``context["as_json"]`` tells ``handle_error`` how to answer."""
    settings = submit_settings()
    channel = request.channel_of(event)
    as_json = request.wants_json(event, channel)
    context["as_json"] = as_json
    if channel is None:
        raise RequestRejected(415, "type")
    fields = request.submitted_fields(event, channel)
    outcome = intake.accept(fields, channel, request.source_ip(event), settings=settings)
    return responses.accepted(
        outcome.result,
        as_json=as_json,
        clinic_name=settings.clinic_name,
        thank_you_url=settings.thank_you_url,
    )


def _rejected(event: dict[str, Any], reason: str, status: int, **details: Any) -> None:
    """Metric ``LeadRejected`` (dimension ``reason``) and one log line of codes, for submissions only."""
    logger.info("submission rejected", extra={"reason": reason, "status": status, **details})
    if request.http_method(event) != "POST":
        return
    with single_metric(
        name="LeadRejected", unit=MetricUnit.Count, value=1, default_dimensions=metrics.default_dimensions
    ) as metric:
        metric.add_dimension(name="reason", value=reason)


def _field_names_for_log(errors: dict[str, str]) -> list[str]:
    """Known field names only: an unknown field's name came from the client."""
    return sorted(name if name in KNOWN_FIELDS else "_other" for name in errors)


def handle_error(exc: Exception, event: dict[str, Any], *, as_json: bool) -> Response:
    """The one place where errors become HTTP responses."""
    form_url = submit_settings().form_url
    if isinstance(exc, RequestRejected):
        _rejected(event, exc.reason, exc.status)
        return responses.error(exc.status, as_json=as_json, form_url=form_url)
    if isinstance(exc, ValidationFailed):
        _rejected(event, "validation", 422, fields=_field_names_for_log(exc.errors))
        return responses.error(
            422, as_json=as_json, form_url=form_url, summary=exc.summary, errors=exc.errors
        )
    if isinstance(exc, DuplicateConflict):
        _rejected(event, "conflict", 409)
        return responses.error(409, as_json=as_json, form_url=form_url)
    if isinstance(exc, RateLimited):
        _rejected(event, "rate", 429)
        return responses.error(429, as_json=as_json, form_url=form_url, retry_after=exc.retry_after)
    if isinstance(exc, StorageUnavailable):
        logger.warning("storage unavailable", extra={"status": 503})
        metrics.add_metric(name="StorageUnavailable", unit=MetricUnit.Count, value=1)
        return responses.error(503, as_json=as_json, form_url=form_url, retry_after=exc.retry_after)
    # A bug: log where it happened (frames only: an exception's message may quote input), answer 500.
    logger.error(
        "unexpected error",
        extra={"error_type": type(exc).__name__, "frames": traceback.format_tb(exc.__traceback__)[-5:]},
    )
    metrics.add_metric(name="UnexpectedError", unit=MetricUnit.Count, value=1)
    return responses.error(500, as_json=as_json, form_url=form_url)


def not_found() -> Response:
    return responses.error(404, as_json=True, form_url=submit_settings().form_url)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False, clear_state=True
)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Every AWS attempt and the captcha call fit in the invocation's time: a slow dependency ends in a 503
    # with Retry-After and CORS headers, never in API Gateway's bare 502 after a Lambda timeout.
    with deadline.budget(context):
        return _handle(event)


def _handle(event: dict[str, Any]) -> dict[str, Any]:
    settings = submit_settings()
    if (
        not isinstance(event, dict)
        or not request.http_method(event)
        or not isinstance(event.get("path"), str)
    ):
        response = responses.error(400, as_json=True, form_url=settings.form_url)
        return responses.apply_policy(response.as_proxy(), allowed_origin=None)
    return responses.apply_policy(
        resolve(event).as_proxy(),
        allowed_origin=request.allowed_origin(event, settings.allowed_origins),
    )
