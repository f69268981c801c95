"""Cold start: import time of the submit handler module against boto3 plus the clients it uses.

Each sample is a fresh interpreter (subprocess) that times only the import (interpreter start-up is the same
on both sides and excluded). Samples are interleaved in random order per round, in the same environment, so
background load on the machine hits both sides alike. One unmeasured warm-up round fills the bytecode caches.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from benchmarks.inprocess import SUBMIT_ENV
from benchmarks.local_stack import FAKE_AWS_ENV, REPO_ROOT
from benchmarks.stats import summary

HANDLER_MODULE = "submit_consultation.app"
# The baseline: what any Python Lambda talking to DynamoDB and Secrets Manager pays at minimum.
_CLIENTS = (
    "from botocore.config import Config\n"
    "config = Config(connect_timeout=2, read_timeout=5, retries={'mode': 'standard', 'max_attempts': 3})\n"
    "boto3.client('dynamodb', config=config)\n"
    "boto3.client('secretsmanager', config=config)\n"
)
SNIPPETS = {
    "handler_import": f"import {HANDLER_MODULE}\n",
    "boto3_clients": "import boto3\n" + _CLIENTS,
    "handler_import_and_clients": (
        f"import {HANDLER_MODULE}\n"
        "from leads_core import aws\naws.client('dynamodb')\naws.client('secretsmanager')\n"
    ),
}
_TIMER = "import time as _t\n_s = _t.perf_counter()\n{body}print(repr(_t.perf_counter() - _s))\n"


def lambda_like_environment() -> dict[str, str]:
    """The submit function's environment (fake credentials, bench resource names), same for every side."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(FAKE_AWS_ENV)
    env.update(SUBMIT_ENV)
    env.update(
        {
            "TABLE_NAME": "clinic-leads-bench-LeadsTable",
            "HASH_KEY_SECRET_ID": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-HashKeySecret",
            "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:bench-StaffAlertsTopic",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _time_snippet(name: str, env: dict[str, str]) -> float:
    completed = subprocess.run(
        [sys.executable, "-c", _TIMER.format(body=SNIPPETS[name])],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{name} failed: {completed.stderr.strip().splitlines()[-1:]}")
    return float(completed.stdout.strip().splitlines()[-1])


@dataclass
class ColdStart:
    samples: dict[str, list[float]]

    def ratio(self, numerator: str, denominator: str) -> float:
        return summary(self.samples[numerator])["median"] / summary(self.samples[denominator])["median"]

    def figures(self) -> dict[str, Any]:
        ms = {name: summary([s * 1000 for s in values], 2) for name, values in self.samples.items()}
        return {
            "rounds": len(self.samples["handler_import"]),
            "handler_import_ms": ms["handler_import"],
            "boto3_clients_ms": ms["boto3_clients"],
            "handler_import_and_clients_ms": ms["handler_import_and_clients"],
            "ratio": round(self.ratio("handler_import", "boto3_clients"), 3),
            "with_clients_ratio": round(self.ratio("handler_import_and_clients", "boto3_clients"), 3),
        }


def measure(rounds: int, progress: Any = print) -> ColdStart:
    env = lambda_like_environment()
    for name in SNIPPETS:  # warm-up: compile bytecode, fill the OS page cache
        _time_snippet(name, env)
    samples: dict[str, list[float]] = {name: [] for name in SNIPPETS}
    rng = random.Random(20261129)
    for round_number in range(rounds):
        order = list(SNIPPETS)
        rng.shuffle(order)
        for name in order:
            samples[name].append(_time_snippet(name, env))
        progress(f"  cold start round {round_number + 1}/{rounds}")
    return ColdStart(samples)


def import_profile(top: int = 15) -> list[dict[str, Any]]:
    """``python -X importtime`` of the handler: the modules with the largest cumulative import time."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {HANDLER_MODULE}"],
        cwd=REPO_ROOT,
        env=lambda_like_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"import failed: {completed.stderr.strip().splitlines()[-1:]}")
    rows: list[dict[str, Any]] = []
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        try:
            self_us, cumulative_us, name = (part for part in line.removeprefix("import time:").split("|"))
        except ValueError:
            continue
        depth = max(0, len(name) - len(name.lstrip(" ")) - 1) // 2
        rows.append(
            {
                "module": name.strip(),
                "depth": depth,
                "self_ms": round(int(self_us) / 1000, 2),
                "cumulative_ms": round(int(cumulative_us) / 1000, 2),
            }
        )
    rows.sort(key=lambda row: row["cumulative_ms"], reverse=True)
    return rows[:top]
