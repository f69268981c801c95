"""The commit hooks run the same gates as ``make lint`` and ``make typecheck``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _make_recipe(target: str) -> list[str]:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    block = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert block, f"no {target} target"
    return [line.strip().replace("$(BIN)", ".venv/bin") for line in block.group(1).splitlines()]


def test_pre_commit_config_is_valid() -> None:
    result = subprocess.run(
        [str(REPO / ".venv/bin/pre-commit"), "validate-config", ".pre-commit-config.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hooks_run_what_make_lint_and_make_typecheck_run() -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    entries = [hook["entry"] for repo in config["repos"] for hook in repo["hooks"]]
    for command in [*_make_recipe("lint"), *_make_recipe("typecheck")]:
        tool, *arguments = command.split()
        assert any(
            entry.startswith(tool) and all(arg in entry.split() for arg in arguments if arg != ".")
            for entry in entries
        ), f"no hook runs {command!r}"
