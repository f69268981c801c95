"""The gates: commit hooks run what ``make lint`` and ``make typecheck`` run; ruff checks complexity and size,
mypy checks the tests too."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
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


def _too_long_function(noqa: str = "") -> str:
    """A function over every size limit: 6 arguments, 13 branches, 14 returns, 77 statements."""
    body = [f"    if a == {n}:\n        return {n}\n" for n in range(13)]
    body += [f"    g.append({n})\n" for n in range(50)]
    return f"def f(a, b, c, d, e, *, g):{noqa}\n" + "".join(body) + "    return b + c + d + e\n"


def _ruff_codes(source: str, filename: str) -> set[str]:
    result = subprocess.run(
        [
            str(REPO / ".venv/bin/ruff"),
            "check",
            "--no-cache",
            "--output-format=json",
            f"--stdin-filename={filename}",
            "-",
        ],
        cwd=REPO,
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in {0, 1}, result.stderr
    return {finding["code"] for finding in json.loads(result.stdout)}


def test_ruff_checks_complexity_and_size_with_per_line_reasons() -> None:
    size_rules = {"PLR0911", "PLR0912", "PLR0913", "PLR0915"}
    assert _ruff_codes(_too_long_function(), "functions/leads_core/example.py") == {"C901", *size_rules}
    assert _ruff_codes(_too_long_function(), "infrastructure/leads_local/example.py") == {"C901", *size_rules}
    # Tests are exempt from the size rules only; complexity counts there too.
    assert _ruff_codes(_too_long_function(), "tests/unit/test_example.py") == {"C901"}
    justified = _too_long_function("  # noqa: C901, PLR0911, PLR0912, PLR0913, PLR0915 - a table of cases")
    assert _ruff_codes(justified, "functions/leads_core/example.py") == set()


def test_mypy_checks_the_tests_too() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert "tests" in config["packages"]
    assert set(_make_recipe("typecheck")) == {".venv/bin/mypy"}  # the configured set, tests included
