"""Cold start: the submit handler's import plus the clients its first request uses, against boto3 plus the
same clients.

The clients are not a fixed list: ``first_request_clients`` runs a first accepted submission in moto and
records which services ``leads_core.aws.client`` is asked for (default configuration: no captcha).

Each sample is a fresh interpreter (subprocess) that times only the import (interpreter start-up is the same
on both sides and excluded). Samples are interleaved in random order per round, in the same environment, so
background load on the machine hits both sides alike. One unmeasured warm-up round fills the bytecode caches.
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.inprocess import SUBMIT_ENV
from benchmarks.local_stack import FAKE_AWS_ENV, REPO_ROOT
from benchmarks.stats import summary

HANDLER_MODULE = "submit_consultation.app"
# The botocore Config leads_core.aws gives every client, so both sides create the same clients.
_CONFIG = (
    "from botocore.config import Config\n"
    "config = Config(connect_timeout=2, read_timeout=5, retries={'mode': 'standard', 'max_attempts': 3},"
    " account_id_endpoint_mode='disabled')\n"
)


def snippets(services: Sequence[str]) -> dict[str, str]:
    """The three timed snippets for the clients ``services`` (what the first request asks ``aws.client`` for).

    ``handler_import_and_clients`` / ``boto3_clients`` is ``cold_start_ratio``; ``handler_import`` alone is
    reported beside it (``import_only_ratio``).
    """
    return {
        "handler_import": f"import {HANDLER_MODULE}\n",
        "boto3_clients": "import boto3\n"
        + _CONFIG
        + "".join(f"boto3.client({service!r}, config=config)\n" for service in services),
        "handler_import_and_clients": f"import {HANDLER_MODULE}\nfrom leads_core import aws\n"
        + "".join(f"aws.client({service!r})\n" for service in services),
    }


@contextlib.contextmanager
def recording_clients() -> Iterator[list[str]]:
    """Record, in order, each service ``leads_core.aws.client`` is asked for while the block runs."""
    from leads_core import aws

    asked: list[str] = []
    original = aws.client

    def recording(service: str) -> Any:
        if service not in asked:
            asked.append(service)
        return original(service)

    aws.client = recording  # every module calls it as ``aws.client(...)``
    try:
        yield asked
    finally:
        aws.client = original


def first_request_clients(extra_env: Mapping[str, str] | None = None) -> list[str]:
    """The clients the submit handler's first accepted submission uses, found by running it (moto in-process).

    Without ``extra_env`` this is the function's default configuration (no captcha: ``CAPTCHA_PROVIDER``
    unset, so no SSM parameter is read); the figure is measured for that configuration.
    """
    from benchmarks.inprocess import FakeLambdaContext, moto_backend
    from benchmarks.payloads import run_token
    from benchmarks.warm import stdout_to_devnull, submission_event

    with moto_backend(extra_env), stdout_to_devnull(), recording_clients() as asked:
        from submit_consultation import app

        response = app.lambda_handler(submission_event(run_token(), 0), FakeLambdaContext())
    if response.get("statusCode") != 201:
        raise RuntimeError(f"the first submission was answered {response.get('statusCode')}, not 201")
    if not asked:
        raise RuntimeError("the first accepted submission asked leads_core.aws for no client")
    return asked


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
    # template.yaml gives CONSOLE_URL to the alert functions only; with it set, the submit function's
    # settings would load the alert text rules to check the link (about 4 ms no deployed cold start pays).
    env.pop("CONSOLE_URL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _time_snippet(name: str, body: str, env: dict[str, str]) -> float:
    completed = subprocess.run(
        [sys.executable, "-c", _TIMER.format(body=body)],
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
    clients: list[str]

    def ratio(self, numerator: str, denominator: str) -> float:
        return summary(self.samples[numerator])["median"] / summary(self.samples[denominator])["median"]

    def figures(self) -> dict[str, Any]:
        ms = {name: summary([s * 1000 for s in values], 2) for name, values in self.samples.items()}
        return {
            "rounds": len(self.samples["handler_import"]),
            "handler_import_ms": ms["handler_import"],
            "boto3_clients_ms": ms["boto3_clients"],
            "handler_import_and_clients_ms": ms["handler_import_and_clients"],
            "ratio": round(self.ratio("handler_import_and_clients", "boto3_clients"), 3),
            "import_only_ratio": round(self.ratio("handler_import", "boto3_clients"), 3),
            "first_request_clients": list(self.clients),
            "configuration": "default: CAPTCHA_PROVIDER unset (none)",
        }


def measure(rounds: int, progress: Any = print, clients: Sequence[str] | None = None) -> ColdStart:
    """``rounds`` fresh interpreters per snippet; ``clients`` defaults to ``first_request_clients()``."""
    services = list(clients) if clients is not None else first_request_clients()
    progress(f"  clients of the first request: {', '.join(services)}")
    env = lambda_like_environment()
    bodies = snippets(services)
    for name, body in bodies.items():  # warm-up: compile bytecode, fill the OS page cache
        _time_snippet(name, body, env)
    samples: dict[str, list[float]] = {name: [] for name in bodies}
    rng = random.Random(20261129)
    for round_number in range(rounds):
        order = list(bodies)
        rng.shuffle(order)
        for name in order:
            samples[name].append(_time_snippet(name, bodies[name], env))
        progress(f"  cold start round {round_number + 1}/{rounds}")
    return ColdStart(samples, services)


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
