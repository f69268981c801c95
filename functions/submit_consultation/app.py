"""``POST /consultations`` and ``OPTIONS /consultations`` (API Gateway REST proxy -> this function).

HTTP only: the request is read by ``request``, the use case is ``leads_core.intake.accept`` (parse, spam
rules, captcha, crisis rules, one ``TransactWriteItems``, the outcome's metric and log line), and its
``Outcome`` becomes the answer in ``responses``. Every error, expected or not, is turned into HTTP in one
place: ``handle_error``.

Logs carry the request id, the lead id, codes and field names, never a submitted value.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
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

PATH = "/consultations"


def submit_settings() -> Settings:
    """This container's settings (cached); ``ConfigurationError`` names the bad variable."""
    return load_settings().require_submit()


# Fail the function start (Lambda INIT) on a bad setting, with a message naming the variable.
submit_settings()

# botocore logs whole request parameters (the lead item) at DEBUG; keep the AWS libraries quiet even when the
# Lambda application log level is DEBUG.
for _library in ("boto3", "botocore", "urllib3"):
    logging.getLogger(_library).setLevel(logging.WARNING)

app = APIGatewayRestResolver()


def _reject_disallowed_origin(
    app: APIGatewayRestResolver, next_middleware: Callable[..., Response]
) -> Response:
    """403 for a request whose ``Origin`` is not an exact allowed origin (``null`` included)."""
    event = app.current_event.raw_event
    origin = request.request_origin(event)
    if origin is not None and origin not in submit_settings().allowed_origins:
        raise RequestRejected(403, "origin")
    return next_middleware(app)


app.use(middlewares=[_reject_disallowed_origin])


@app.route(PATH, method="OPTIONS")
def preflight() -> Response:
    event = app.current_event.raw_event
    return responses.preflight(request.allowed_origin(event, submit_settings().allowed_origins))


@app.post(PATH)
def submit() -> Response:
    settings = submit_settings()
    event = app.current_event.raw_event
    channel = request.channel_of(event)
    as_json = request.wants_json(event, channel)
    app.append_context(as_json=as_json)
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


def _rejected(reason: str, status: int, **details: Any) -> None:
    """Metric ``LeadRejected`` (dimension ``reason``) and one log line of codes, for submissions only."""
    logger.info("submission rejected", extra={"reason": reason, "status": status, **details})
    if request.http_method(app.current_event.raw_event) != "POST":
        return
    with single_metric(
        name="LeadRejected", unit=MetricUnit.Count, value=1, default_dimensions=metrics.default_dimensions
    ) as metric:
        metric.add_dimension(name="reason", value=reason)


def _field_names_for_log(errors: dict[str, str]) -> list[str]:
    """Known field names only: an unknown field's name came from the client."""
    return sorted(name if name in KNOWN_FIELDS else "_other" for name in errors)


@app.exception_handler(Exception)
def handle_error(exc: Exception) -> Response:
    """The one place where errors become HTTP responses."""
    as_json = bool(app.context.get("as_json", True))
    form_url = submit_settings().form_url
    if isinstance(exc, RequestRejected):
        _rejected(exc.reason, exc.status)
        return responses.error(exc.status, as_json=as_json, form_url=form_url)
    if isinstance(exc, ValidationFailed):
        _rejected("validation", 422, fields=_field_names_for_log(exc.errors))
        return responses.error(
            422, as_json=as_json, form_url=form_url, summary=exc.summary, errors=exc.errors
        )
    if isinstance(exc, DuplicateConflict):
        _rejected("conflict", 409)
        return responses.error(409, as_json=as_json, form_url=form_url)
    if isinstance(exc, RateLimited):
        _rejected("rate", 429)
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


@app.not_found
def not_found(_exc: Exception) -> Response:
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
        return _handle(event, context)


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = submit_settings()
    if (
        not isinstance(event, dict)
        or not request.http_method(event)
        or not isinstance(event.get("path"), str)
    ):
        response = responses.error(400, as_json=True, form_url=settings.form_url)
        return responses.apply_policy(_as_proxy_response(response), allowed_origin=None)
    return responses.apply_policy(
        app.resolve(event, context),
        allowed_origin=request.allowed_origin(event, settings.allowed_origins),
    )


def _as_proxy_response(response: Response) -> dict[str, Any]:
    headers = {k: (v if isinstance(v, list) else [v]) for k, v in response.headers.items()}
    return {
        "statusCode": response.status_code,
        "multiValueHeaders": headers,
        "body": response.body,
        "isBase64Encoded": False,
    }
