"""The handlers in-process against moto (``mock_aws``), resources created from template.yaml.

Used by the warm-path benchmarks (same backend for the real and the reference handler) and by the
reliability tests that replay the nasty-input corpus.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from benchmarks.local_stack import FAKE_AWS_ENV

ALLOWED_ORIGIN = "https://www.example-clinic.com"
SUBMIT_ENV = {
    "ALLOWED_ORIGINS": f"{ALLOWED_ORIGIN},http://127.0.0.1:3000",
    "THANK_YOU_URL": "https://www.example-clinic.com/thank-you",
    "FORM_URL": "https://www.example-clinic.com/consultation",
    "LOCATIONS": "naperville,oak-brook",
    "CLINIC_NAME": "Naperville Wellness Clinic",
    "CONSOLE_URL": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/staff/",  # the alert functions'
    "RATE_LIMIT_PER_HOUR": "10000",
    "POWERTOOLS_SERVICE_NAME": "clinic-leads",
    "POWERTOOLS_METRICS_NAMESPACE": "ClinicLeads",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


@dataclass
class FakeLambdaContext:
    function_name: str = "clinic-leads-bench"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:clinic-leads-bench"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "00000000-1111-2222-3333-444444444444"
    log_group_name: str = "/aws/lambda/clinic-leads-bench"
    log_stream_name: str = "2026/11/29/[$LATEST]bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        # Generous on purpose: the harness measures calls and code, not the time budget, and on a loaded
        # machine creating the first clients alone can take seconds (the budget would then answer 503).
        return 120_000


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


@contextlib.contextmanager
def moto_backend(extra_env: Mapping[str, str] | None = None) -> Iterator[Any]:
    """moto in-process with the template's resources and the functions' environment; yields the resources."""
    import boto3
    from leads_core import aws, hashing
    from leads_core.settings import load_settings
    from leads_local import moto_patches
    from leads_local.template import create_resources
    from moto import mock_aws

    os.environ.pop("AWS_ENDPOINT_URL", None)
    with moto_patches.installed(), patched_environ(FAKE_AWS_ENV), mock_aws():
        aws.reset()
        hashing.forget_key()
        resources = create_resources(boto3.Session(region_name="us-east-1"), prefix="bench")
        env = {**SUBMIT_ENV, **resources.function_environment(), **(extra_env or {})}
        with patched_environ(env):
            load_settings.cache_clear()
            try:
                yield resources
            finally:
                load_settings.cache_clear()
                aws.reset()
                hashing.forget_key()


def lambda_response_body(response: Mapping[str, Any]) -> str:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        import base64

        return base64.b64decode(body).decode("utf-8", "replace")
    return str(body)
