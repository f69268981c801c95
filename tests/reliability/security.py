"""Security scans: bandit on our code (``functions/``, ``infrastructure/``) and pip-audit on the locked
dependencies. ``python -m tests.reliability.security bandit|audit`` (``make security`` / ``make audit``).

* bandit: every finding must be justified, either next to the code (``# nosec BXXX: reason``, which bandit
  skips) or in ``bandit_justified.json`` (file, test id, a fragment of the flagged line, the reason).
* pip-audit: ``requirements/dev.txt`` and ``functions/requirements.txt`` (what Lambda runs) against PyPI's
  vulnerability data (JSON API). Bounded by timeouts. When packages cannot be audited (the index does not know
  the pinned versions, or the service is unreachable) it says so clearly and exits 3 instead of claiming a
  clean result; exit 1 means known vulnerabilities.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
JUSTIFIED = Path(__file__).with_name("bandit_justified.json")
SCANNED = ("functions", "infrastructure")
LOCKS = ("requirements/dev.txt", "functions/requirements.txt")
EXIT_VULNERABLE = 1
EXIT_INCOMPLETE = 3


def bandit_findings() -> list[dict[str, Any]]:
    completed = subprocess.run(
        [str(BIN / "bandit"), "-r", *SCANNED, "-f", "json", "-q"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if completed.returncode not in (0, 1) or not completed.stdout.strip():
        raise RuntimeError(f"bandit failed ({completed.returncode}): {completed.stderr[-500:]}")
    report = json.loads(completed.stdout)
    if report.get("errors"):
        raise RuntimeError(f"bandit could not scan: {report['errors']}")
    return list(report["results"])


def unjustified(findings: list[dict[str, Any]]) -> list[str]:
    entries = json.loads(JUSTIFIED.read_text(encoding="utf-8"))["justified"]
    missing = []
    for finding in findings:
        path = str(Path(finding["filename"]).as_posix())
        if not any(
            entry["file"] == path
            and entry["test_id"] == finding["test_id"]
            and entry["code"] in finding["code"]
            for entry in entries
        ):
            missing.append(f"{path}:{finding['line_number']} {finding['test_id']} {finding['issue_text']}")
    return missing


def audit(lock: str, timeout: int = 15) -> tuple[int, str]:
    """Audit one lock file; (exit code, human summary)."""
    try:
        completed = subprocess.run(
            [
                str(BIN / "pip-audit"),
                "-r",
                lock,
                "--no-deps",
                "--disable-pip",
                "--format",
                "json",
                "--progress-spinner",
                "off",
                "--timeout",
                str(timeout),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return EXIT_INCOMPLETE, f"{lock}: AUDIT INCOMPLETE - pip-audit did not finish in 600 s"
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        return EXIT_INCOMPLETE, f"{lock}: AUDIT INCOMPLETE - vulnerability service unreachable ({tail[0]})"
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    if vulnerable:
        lines = [f"{d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}" for d in vulnerable]
        return EXIT_VULNERABLE, f"{lock}: KNOWN VULNERABILITIES\n  " + "\n  ".join(lines)
    if skipped:
        return EXIT_INCOMPLETE, (
            f"{lock}: AUDIT INCOMPLETE - {len(skipped)} of {len(dependencies)} pinned packages could not be "
            f"audited (e.g. {skipped[0]['name']}: {skipped[0]['skip_reason']}). The package index in use "
            "does not publish these versions' metadata; run `make audit` where pypi.org serves them."
        )
    return 0, f"{lock}: {len(dependencies)} packages, no known vulnerabilities"


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "bandit"
    if command == "bandit":
        missing = unjustified(bandit_findings())
        for line in missing:
            print(f"UNJUSTIFIED {line}")
        print("bandit: clean or justified" if not missing else f"bandit: {len(missing)} unjustified findings")
        return 1 if missing else 0
    if command == "audit":
        worst = 0
        for lock in LOCKS:
            code, summary = audit(lock)
            print(summary, flush=True)
            worst = max(worst, code)
        return worst
    print("usage: python -m tests.reliability.security bandit|audit", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
