"""Tracing off means no X-Ray SDK import; the submit function is deployed with tracing off on purpose."""

from __future__ import annotations

import os
import subprocess
import sys

from leads_local.template import function_environment

_PROBE = """
import sys
import leads_core.observability as o

@o.tracer.capture_lambda_handler
def handler(event, context):
    return o.tracer.provider.__class__.__name__

print(handler({}, None), "aws_xray_sdk.core" in sys.modules)
"""


def _probe(**env: str) -> str:
    skipped = ("POWERTOOLS_TRACE", "LAMBDA_TASK_ROOT")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_tracing_off_uses_the_untraced_provider_and_never_imports_the_xray_sdk() -> None:
    assert _probe(POWERTOOLS_TRACE_DISABLED="true", LAMBDA_TASK_ROOT="/var/task") == "UntracedProvider False"


def test_tracing_on_in_lambda_uses_the_xray_sdk() -> None:
    probe = _probe(POWERTOOLS_TRACE_DISABLED="false", LAMBDA_TASK_ROOT="/var/task")
    assert probe == "AsyncAWSXRayRecorder True"


def test_submit_function_is_deployed_without_the_xray_sdk_and_alerts_with_it() -> None:
    assert function_environment("SubmitConsultationFunction").get("POWERTOOLS_TRACE_DISABLED") == "true"
    assert "POWERTOOLS_TRACE_DISABLED" not in function_environment("SendAlertsFunction")
