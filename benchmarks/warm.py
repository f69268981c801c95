"""Warm path (in-process, moto): the submit handler against a bare reference handler, and AWS call counts.

Reference handler (documented in README.md): parse the JSON body, one ``put_item`` of the very item the real
handler stored for the same kind of submission (fresh key per request), return 201. Both run in the same
process, against the same moto backend, through the same ``leads_core.aws`` DynamoDB client, interleaved in
blocks so drift hits both alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from benchmarks.aws_calls import CallCounter, install_counter
from benchmarks.events import rest_proxy_event, source_ip
from benchmarks.inprocess import ALLOWED_ORIGIN, FakeLambdaContext, moto_backend
from benchmarks.payloads import run_token, submission_key, valid_lead
from benchmarks.stats import summary

BLOCK = 10


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Send fd 1 (where Powertools logs go) to /dev/null: logs are still formatted and written, not shown."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def submission_event(run: str, index: int) -> dict[str, Any]:
    headers = {"Idempotency-Key": submission_key(run, index), "Origin": ALLOWED_ORIGIN}
    return rest_proxy_event(valid_lead(run, index), headers=headers, source_ip=source_ip(index))


def _check_created(response: dict[str, Any]) -> str:
    if response.get("statusCode") != 201:
        raise RuntimeError(f"submit handler answered {response.get('statusCode')} to a valid lead")
    return str(json.loads(response["body"])["id"])


class ReferenceHandler:
    """Parse JSON, one put_item of the template item under a fresh key, return 201."""

    def __init__(self, table_name: str, template_item: dict[str, Any]) -> None:
        self.table_name = table_name
        self.template_item = template_item

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        from leads_core import aws, keys

        json.loads(event["body"])
        lead_id = keys.new_lead_id()
        item = {**self.template_item, **keys.lead_key(lead_id), "id": {"S": lead_id}}
        aws.client("dynamodb").put_item(TableName=self.table_name, Item=item)
        return {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"id": lead_id, "status": "received"}),
        }


def measure(requests: int, progress: Any = print) -> dict[str, Any]:
    """Warm overhead ratio and synchronous AWS calls per accepted lead (cold first call reported apart)."""
    with moto_backend() as resources, stdout_to_devnull():
        counter: CallCounter = install_counter()
        from leads_core import aws, keys
        from submit_consultation import app as submit_app

        context = FakeLambdaContext()
        run = run_token()
        index = 0

        def real(event: dict[str, Any]) -> dict[str, Any]:
            return dict(submit_app.lambda_handler(event, context))

        # Cold container: the first accepted submission (creates the clients, fetches the hash key).
        lead_id = _check_created(real(submission_event(run, index)))
        cold_calls = counter.snapshot()
        index += 1
        # Warm container: count per accepted submission.
        warm_counts: list[int] = []
        warm_ops: dict[str, int] = {}
        for _ in range(5):
            counter.reset()
            _check_created(real(submission_event(run, index)))
            index += 1
            warm_ops = counter.snapshot()
            warm_counts.append(sum(warm_ops.values()))

        stored = aws.client("dynamodb").get_item(TableName=resources.table_name, Key=keys.lead_key(lead_id))
        reference = ReferenceHandler(resources.table_name, stored["Item"])

        def reference_call(event: dict[str, Any]) -> dict[str, Any]:
            return reference(event, context)

        events = [submission_event(run, i) for i in range(index, index + requests + 2 * BLOCK)]
        real_times: list[float] = []
        reference_times: list[float] = []
        real_aws: list[float] = []
        reference_aws: list[float] = []
        sides = ((real, real_times, real_aws), (reference_call, reference_times, reference_aws))
        for block_start in range(0, len(events), BLOCK):
            block = events[block_start : block_start + BLOCK]
            for handler, times, aws_times in sides:
                for event in block:
                    counter.reset()
                    started = time.perf_counter()
                    response = handler(event)
                    elapsed = time.perf_counter() - started
                    _check_created(response)
                    times.append(elapsed)
                    aws_times.append(counter.seconds_in_calls)
            if block_start and block_start % (BLOCK * 10) == 0:
                progress(f"  warm path {block_start}/{len(events)} requests per side")
        # The first two blocks of each side are warm-up.
        real_ms = summary([t * 1000 for t in real_times[2 * BLOCK :]])
        reference_ms = summary([t * 1000 for t in reference_times[2 * BLOCK :]])
        real_own = summary([(t - a) * 1000 for t, a in zip(real_times, real_aws, strict=True)][2 * BLOCK :])
        reference_own = summary(
            [(t - a) * 1000 for t, a in zip(reference_times, reference_aws, strict=True)][2 * BLOCK :]
        )
        real_backend = summary([a * 1000 for a in real_aws[2 * BLOCK :]])
        reference_backend = summary([a * 1000 for a in reference_aws[2 * BLOCK :]])
    return {
        "warm_overhead_ratio": round(float(real_ms["median"]) / float(reference_ms["median"]), 3),
        "submit_handler_ms": real_ms,
        "reference_handler_ms": reference_ms,
        # Where the time goes: inside AWS calls (moto + botocore) versus the handler's own code.
        "submit_handler_in_aws_calls_ms": real_backend,
        "submit_handler_own_code_ms": real_own,
        "reference_handler_in_aws_calls_ms": reference_backend,
        "reference_handler_own_code_ms": reference_own,
        "sync_aws_calls_per_lead": int(summary(warm_counts)["median"]),
        "sync_aws_calls": {
            "warm_per_lead": warm_counts,
            "warm_operations": warm_ops,
            "cold_first_call": sum(cold_calls.values()),
            "cold_operations": cold_calls,
        },
    }
