"""``python -m benchmarks [--quick]``: every figure of contract section 6, side by side in one run.

Progress goes to stderr; the human table and, as the very last line, one JSON object go to stdout. A figure
that could not be measured is ``null`` with its reason under ``errors`` and the exit status is 1. A figure
that does not apply (``staff_list_p99_ms`` when the local stack has no ``GET /staff/leads``) is ``null`` with
its reason under ``not_applicable``; that alone does not fail the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

GOALS: dict[str, tuple[str, float]] = {
    "cold_start_ratio": ("<=", 1.25),
    "warm_overhead_ratio": ("<=", 1.3),
    "own_code_ms": ("<=", 2.0),
    "sync_aws_calls_per_lead": ("==", 1),
    "sns_calls_per_alert": ("<=", 0.1),
    "local_p99_ms": ("<=", 250),
    "lead_to_alert_p99_ms": ("<=", 2000),
}
SPREAD_OF = {
    "cold_start_ratio": "cold_start",
    "warm_overhead_ratio": "warm_path",
    "own_code_ms": "warm_path",
    "sync_aws_calls_per_lead": "sync_aws_calls",
    "sns_calls_per_alert": "alert_batch",
    "local_p50_ms": "local_latency_ms",
    "local_p99_ms": "local_latency_ms",
    "lead_to_alert_p50_ms": "lead_to_alert_ms",
    "lead_to_alert_p99_ms": "lead_to_alert_ms",
    "staff_list_p50_ms": "staff_list_ms",
    "staff_list_p99_ms": "staff_list_ms",
}
FIGURES = tuple(SPREAD_OF)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def goal_met(name: str, value: float | None) -> bool | None:
    if value is None:
        return None
    op, target = GOALS[name]
    return value <= target if op == "<=" else value == target


def run_section(name: str, action: Callable[[], dict[str, Any]], errors: dict[str, str]) -> dict[str, Any]:
    progress(f"[{name}] ...")
    started = time.perf_counter()
    try:
        result = action()
    except Exception as exc:
        errors[name] = f"{type(exc).__name__}: {exc}"
        progress(f"[{name}] FAILED: {errors[name]}")
        progress("".join(traceback.format_exception(exc)[-3:]))
        return {}
    progress(f"[{name}] done in {time.perf_counter() - started:.1f}s")
    return result


# ``--only``: the parts of a run, each a section of the harness (default: all of them).
PARTS = ("cold", "importtime", "warm", "alerts", "local", "staff", "packages")


def collect(quick: bool, only: frozenset[str] = frozenset(PARTS)) -> dict[str, Any]:
    from leads_local import moto_patches

    from benchmarks import alert_batch, cold_start, local, packages, staff, warm

    rounds = 2 if quick else 9
    warm_requests = 20 if quick else 200
    local_requests = 10 if quick else 200
    batch_size = 10 if quick else 100
    staff_leads = 100 if quick else 10_000  # quick: still four full pages of 25
    staff_requests = 20 if quick else 200
    errors: dict[str, str] = {}
    report: dict[str, Any] = {}

    def part(name: str, section: str, action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return run_section(section, action, errors) if name in only else {}

    cold = part("cold", "cold_start", lambda: cold_start.measure(rounds, progress).figures())
    profile = part("importtime", "importtime", lambda: {"top": cold_start.import_profile()})
    warm_path = part("warm", "warm_path", lambda: warm.measure(warm_requests, progress))
    batch = part("alerts", "alert_batch", lambda: alert_batch.measure(batch_size))
    local_run = part("local", "local_stack", lambda: local.measure(local_requests, progress=progress))
    staff_run = part(
        "staff",
        "staff_list",
        lambda: staff.measure(staff_leads, staff_requests, staff_requests // 5, progress=progress),
    )
    sizes = part("packages", "package_size", packages.measure)

    report["cold_start_ratio"] = cold.get("ratio")
    report["warm_overhead_ratio"] = warm_path.get("warm_overhead_ratio")
    report["own_code_ms"] = warm_path.get("own_code_ms")
    report["sync_aws_calls_per_lead"] = warm_path.get("sync_aws_calls_per_lead")
    report["sns_calls_per_alert"] = batch.get("sns_calls_per_alert")
    for key in ("local_p50_ms", "local_p99_ms", "lead_to_alert_p50_ms", "lead_to_alert_p99_ms"):
        report[key] = local_run.get(key)
    report["staff_list_p50_ms"] = staff_run.get("staff_list_p50_ms")
    report["staff_list_p99_ms"] = staff_run.get("staff_list_p99_ms")
    not_applicable: dict[str, str] = {}
    if local_run.get("staff_api_absent"):
        not_applicable["staff_list_p99_ms"] = local_run["staff_api_absent"]
    report["goals"] = {
        name: {"goal": f"{op} {target:g}", "value": report[name], "met": goal_met(name, report[name])}
        for name, (op, target) in GOALS.items()
    }
    report["cold_start"] = cold
    report["warm_path"] = {
        key: value for key, value in warm_path.items() if key.endswith("_ms") and isinstance(value, dict)
    }
    if "reference_transaction" in warm_path:
        report["warm_path"]["reference_transaction"] = warm_path["reference_transaction"]
    report["sync_aws_calls"] = warm_path.get("sync_aws_calls")
    report["alert_batch"] = {k: v for k, v in batch.items() if k != "sns_calls_per_alert"}
    report["local_latency_ms"] = local_run.get("local_latency_ms")
    report["lead_to_alert_ms"] = local_run.get("lead_to_alert_ms")
    report["staff_list_ms"] = staff_run.get("staff_list_ms")
    report["staff_list_filtered_ms"] = staff_run.get("staff_list_filtered_ms")
    report["staff_list_run"] = staff_run.get("staff_list_run")
    report["local_run"] = {k: local_run[k] for k in ("local_statuses", "alerts_missing") if k in local_run}
    report["importtime_top"] = [
        {"module": row["module"], "cumulative_ms": row["cumulative_ms"]} for row in profile.get("top", [])[:8]
    ]
    report["package_size"] = sizes or None
    report["errors"] = errors
    report["not_applicable"] = not_applicable
    report["quick"] = quick
    report["skipped"] = [name for name in PARTS if name not in only]
    report["environment"] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cold_start_rounds": rounds,
        "warm_requests_per_side": warm_requests,
        "local_requests": local_requests,
        "alert_batch_records": batch_size,
        "staff_list_leads": staff_leads,
        "staff_list_requests": staff_requests,
        "moto_patches": moto_patches.enabled(),
        "cpu_count": os.cpu_count(),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
    }
    report["_importtime_full"] = profile.get("top", [])
    return report


def human_table(report: dict[str, Any]) -> str:
    lines = ["", "figure                     value      goal       met    spread"]
    lines.append("-" * 96)
    lines += _figure_rows(report)
    lines += _cold_and_warm_lines(report)
    lines += _call_lines(report)
    lines += _package_lines(report)
    if report["not_applicable"]:
        lines.append("")
        lines.extend(f"NOT APPLICABLE {name}: {reason}" for name, reason in report["not_applicable"].items())
    if report["errors"]:
        lines.append("")
        lines.extend(f"NOT MEASURED {name}: {reason}" for name, reason in report["errors"].items())
    return "\n".join(lines)


def _figure_rows(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for name in FIGURES:
        value = report.get(name)
        goal = report["goals"].get(name, {})
        spread = _spread(report, name)
        met = goal.get("met")
        lines.append(
            f"{name:<26} {_fmt(value):<10} {goal.get('goal', '-'):<10} "
            f"{'-' if met is None else ('yes' if met else 'NO'):<6} {spread}"
        )
    return lines


def _cold_and_warm_lines(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    cold = report.get("cold_start") or {}
    if cold:
        lines.append("")
        lines.append(
            "cold start medians (first-request clients {k}, {cfg}): handler import + clients {c} ms,"
            " boto3 + clients {b} ms; handler import alone {h} ms (import-only ratio {r})".format(
                k=", ".join(cold["first_request_clients"]),
                cfg=cold["configuration"],
                h=cold["handler_import_ms"]["median"],
                b=cold["boto3_clients_ms"]["median"],
                c=cold["handler_import_and_clients_ms"]["median"],
                r=cold["import_only_ratio"],
            )
        )
    warm_split = report.get("warm_path") or {}
    if "submit_handler_own_code_ms" in warm_split:
        lines.append(
            "warm path medians: submit handler {s} ms = {sa} ms in AWS calls + {so} ms own code; "
            "reference {r} ms = {ra} ms in AWS calls + {ro} ms own code".format(
                s=warm_split["submit_handler_ms"]["median"],
                sa=warm_split["submit_handler_in_aws_calls_ms"]["median"],
                so=warm_split["submit_handler_own_code_ms"]["median"],
                r=warm_split["reference_handler_ms"]["median"],
                ra=warm_split["reference_handler_in_aws_calls_ms"]["median"],
                ro=warm_split["reference_handler_own_code_ms"]["median"],
            )
        )
        lines.append(
            "  own code with botocore's request building (the split before 2026-12-02): submit {s} ms, "
            "reference {r} ms".format(
                s=warm_split["submit_handler_own_code_and_request_building_ms"]["median"],
                r=warm_split["reference_handler_own_code_and_request_building_ms"]["median"],
            )
        )
    return lines


def _call_lines(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    calls = report.get("sync_aws_calls") or {}
    if calls:
        lines.append(f"warm AWS calls per lead: {calls['warm_operations']}")
        lines.append(f"cold first call: {calls['cold_first_call']} calls {calls['cold_operations']}")
    batch = report.get("alert_batch") or {}
    if batch:
        lines.append(f"alert batch of {batch['batch_records']}: {batch['aws_operations']}")
    top = report.get("_importtime_full") or []
    if top:
        lines.append("")
        lines.append("python -X importtime submit_consultation.app (top by cumulative ms):")
        for row in top:
            lines.append(f"  {row['cumulative_ms']:>9.1f}  {'  ' * row['depth']}{row['module']}")
    return lines


def _package_lines(report: dict[str, Any]) -> list[str]:
    sizes = (report.get("package_size") or {}).get("sizes")
    lines = [""]
    if sizes:
        for function, size in sizes.items():
            lines.append(
                f"package {function}: {size['unzipped_mb']} MB unzipped, {size['zipped_mb']} MB zipped, "
                f"{size['files']} files"
            )
    else:
        lines.append(f"package sizes: {(report.get('package_size') or {}).get('reason', 'not measured')}")
    return lines


def _fmt(value: Any) -> str:
    return "null" if value is None else f"{value:g}" if isinstance(value, int | float) else str(value)


def _spread(report: dict[str, Any], name: str) -> str:
    section = report.get(SPREAD_OF[name])
    if name == "cold_start_ratio" and section:
        h, b = section["handler_import_and_clients_ms"], section["boto3_clients_ms"]
        return f"import + clients p10-p90 {h['p10']}-{h['p90']} ms vs boto3 {b['p10']}-{b['p90']} ms"
    if name == "own_code_ms" and section:
        own = section["submit_handler_own_code_ms"]
        return f"p10-p90 {own['p10']}-{own['p90']} ms, n={own['n']}"
    if name == "warm_overhead_ratio" and section:
        s, r = section["submit_handler_ms"], section["reference_handler_ms"]
        return f"{s['median']} ms (p10-p90 {s['p10']}-{s['p90']}) vs {r['median']} ms ({r['p10']}-{r['p90']})"
    if name == "sync_aws_calls_per_lead" and section:
        return f"per warm lead {section['warm_per_lead']}, cold first {section['cold_first_call']}"
    if name == "sns_calls_per_alert" and section:
        return f"{section['aws_operations']}"
    if section and "median" in section:
        return (
            f"p10-p90 {section['p10']}-{section['p90']} ms, "
            f"min-max {section['min']}-{section['max']}, n={section['n']}"
        )
    return "-"


def _parts(value: str) -> frozenset[str]:
    chosen = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = sorted(chosen - set(PARTS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown part(s) {unknown}; choose from {','.join(PARTS)}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="few rounds: checks the harness, not for quoting"
    )
    parser.add_argument(
        "--only",
        metavar="PARTS",
        type=_parts,
        default=frozenset(PARTS),
        help=f"comma-separated parts to run ({','.join(PARTS)}); the others' figures are null",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = collect(args.quick, args.only)
    report["duration_s"] = round(time.perf_counter() - started, 1)
    print(human_table(report))
    report.pop("_importtime_full")
    print(json.dumps(report, separators=(",", ":"), sort_keys=False), flush=True)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
