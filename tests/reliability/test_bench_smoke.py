"""``python -m benchmarks --quick`` runs end to end against the real code and ends with the JSON figures.

Not a benchmark: no timing is asserted, only that every figure was measured and reported with its goal. The
``packages`` part (sizes of ``sam build``'s output) is left out: ``make test`` builds the packages beside the
tests, and its reading of a build directory is tested on its own (test_bench_packages.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import PARTS as BENCH_PARTS

pytestmark = [pytest.mark.slow, pytest.mark.stack, pytest.mark.timeout(900)]

REPO_ROOT = Path(__file__).resolve().parents[2]
PARTS = tuple(part for part in BENCH_PARTS if part != "packages")
FIGURES = (
    "cold_start_ratio",
    "warm_overhead_ratio",
    "own_code_ms",
    "sync_aws_calls_per_lead",
    "sns_calls_per_alert",
    "local_p50_ms",
    "local_p99_ms",
    "lead_to_alert_p50_ms",
    "lead_to_alert_p99_ms",
    "staff_list_p50_ms",
    "staff_list_p99_ms",
)


def test_quick_bench_prints_every_figure_as_its_last_line() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", ",".join(PARTS)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=850,
        check=False,
    )
    last_line = completed.stdout.strip().splitlines()[-1]
    report = json.loads(last_line)
    assert report["errors"] == {}, report["errors"]
    assert completed.returncode == 0, completed.stderr[-2000:]
    for figure in FIGURES:
        assert isinstance(report[figure], int | float), figure
    assert set(report["goals"]) == {
        "cold_start_ratio",
        "warm_overhead_ratio",
        "own_code_ms",
        "sync_aws_calls_per_lead",
        "sns_calls_per_alert",
        "local_p99_ms",
        "lead_to_alert_p99_ms",
    }
    assert all(isinstance(goal["met"], bool) for goal in report["goals"].values())
    assert report["importtime_top"], "no import profile"
    assert report["skipped"] == ["packages"]
    assert report["package_size"] is None
    assert report["sync_aws_calls"]["cold_first_call"] >= report["sync_aws_calls_per_lead"]
    # Counted from the first request, default configuration (no captcha, so no SSM).
    assert sorted(report["cold_start"]["first_request_clients"]) == ["dynamodb", "secretsmanager"]
    assert report["own_code_ms"] == report["warm_path"]["submit_handler_own_code_ms"]["median"]
    # The staff API exists: the figure is measured (checked above), nothing is "not applicable".
    assert report["not_applicable"] == {}
    assert report["staff_list_run"]["page_sizes"] == [25]
    assert [item["item"] for item in report["warm_path"]["reference_transaction"]] == [
        "idempotency",
        "lead",
        "rate",
    ]
