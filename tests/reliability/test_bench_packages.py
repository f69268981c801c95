"""The ``packages`` part of ``make bench``: each function's package size in a ``sam build`` directory."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from benchmarks import packages


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_each_function_directory_is_measured_unzipped_and_zipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = tmp_path / "build"
    hex_text = random.Random(1).randbytes(600_000).hex().encode()  # 1.2 MB that deflates to about half
    write(build / "SubmitConsultationFunction" / "submit_consultation" / "app.py", hex_text)
    write(build / "SubmitConsultationFunction" / "leads_core" / "__init__.py", b"")
    write(build / "SendAlertsFunction" / "send_alerts" / "app.py", b"y = 2\n" * 100_000)
    write(build / "template.yaml", b"Resources: {}\n")  # sam build's copy of the template: not a function
    write(build / "SomeLayer" / "layer.py", b"z = 3\n")  # not a function directory either
    monkeypatch.setattr(packages, "BUILD_DIR", build)

    measured = packages.measure()

    assert measured["reason"] is None
    assert measured["limit_unzipped_mb"] == packages.LAMBDA_UNZIPPED_LIMIT_MB
    assert set(measured["sizes"]) == {"SubmitConsultationFunction", "SendAlertsFunction"}
    submit = measured["sizes"]["SubmitConsultationFunction"]
    assert submit["files"] == 2
    assert submit["unzipped_mb"] == 1.2
    assert 0 < submit["zipped_mb"] < submit["unzipped_mb"]  # deflated
    assert measured["sizes"]["SendAlertsFunction"]["unzipped_mb"] == 0.6


def test_no_build_directory_is_a_reason_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packages, "BUILD_DIR", tmp_path / "missing")

    measured = packages.measure()

    assert measured["sizes"] is None
    assert "run `sam build` first" in measured["reason"]


def test_a_build_directory_without_functions_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "build" / "template.yaml", b"Resources: {}\n")
    monkeypatch.setattr(packages, "BUILD_DIR", tmp_path / "build")

    measured = packages.measure()

    assert measured == {"sizes": None, "reason": ".aws-sam/build holds no function directories"}
