"""The local stack over real HTTP: POST /consultations latency and lead-to-alert latency.

One client posts valid, distinct leads one after another (each on a fresh connection, as a browser form
would), recording the latency of each and the wall-clock moment its 201 arrived. The alerts are then read
from ``GET /_local/alerts``; lead-to-alert is ``published_at`` minus the 201's arrival, so the stream
poller's latency (and the template's batching window, none today) is included.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.local_stack import LocalStackProcess, http_request, parse_published_at
from benchmarks.payloads import run_token, submission_key, valid_lead
from benchmarks.stats import summary

WARM_UP = 10
STAFF_LIST_PATH = "/staff/leads"


def staff_api_absent(port: int) -> str | None:
    """Why ``staff_list_p99_ms`` cannot be measured yet; ``None`` once the local stack serves the staff API.

    A route the API does not define answers 404 (local stack) or API Gateway's 403 "Missing Authentication
    Token"; the staff API, once there, answers an unauthenticated request 401 (contract section 7).
    """
    result = http_request(port, "GET", STAFF_LIST_PATH)
    missing_route = result.status == 404 or (
        result.status == 403 and b"Missing Authentication Token" in result.body
    )
    if not missing_route:
        return None
    return (
        f"GET {STAFF_LIST_PATH} does not exist yet (the local stack answered {result.status}): the staff API"
        " of contract section 7 has not been built"
    )


def measure(requests: int, pace_seconds: float = 0.0, progress: Any = print) -> dict[str, Any]:
    run = run_token()
    latencies: list[float] = []
    accepted_at: dict[str, float] = {}
    statuses: dict[int, int] = {}
    with LocalStackProcess(extra_env={"RATE_LIMIT_PER_HOUR": "10000"}) as stack:
        for index in range(requests + WARM_UP):
            result = stack.post_json(
                valid_lead(run, index), idempotency_key=submission_key(run, index), origin=stack.origin
            )
            statuses[result.status] = statuses.get(result.status, 0) + 1
            if result.status != 201:
                continue
            if index >= WARM_UP:
                latencies.append(result.elapsed * 1000)
                accepted_at[str(result.json()["id"])] = result.received_at
            if index and index % 100 == 0:
                progress(f"  local stack {index}/{requests + WARM_UP} requests")
            if pace_seconds:
                time.sleep(pace_seconds)
        alerts = stack.wait_for_alerts(set(accepted_at), timeout=60, settle=0)
        staff_absent = staff_api_absent(stack.port)
    published = {}
    for alert in alerts:
        lead_id = str(alert.get("lead_id"))
        if lead_id in accepted_at and lead_id not in published:
            published[lead_id] = parse_published_at(alert["published_at"])
    lead_to_alert = [(published[lead] - accepted_at[lead]) * 1000 for lead in published]
    if not latencies:
        raise RuntimeError(f"no request was accepted: statuses {statuses}")
    if not lead_to_alert:
        raise RuntimeError("no alert appeared on /_local/alerts")
    latency = summary(latencies, 2)
    to_alert = summary(lead_to_alert, 1)
    return {
        "local_p50_ms": latency["median"],
        "local_p99_ms": latency["p99"],
        "local_latency_ms": latency,
        "lead_to_alert_p50_ms": to_alert["median"],
        "lead_to_alert_p99_ms": to_alert["p99"],
        "lead_to_alert_ms": to_alert,
        "local_statuses": {str(code): count for code, count in sorted(statuses.items())},
        "alerts_missing": len(accepted_at) - len(published),
        "staff_api_absent": staff_absent,
    }
