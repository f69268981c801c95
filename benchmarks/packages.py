"""Deployment package size of each function after ``sam build`` (``.aws-sam/build``), unzipped and zipped."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

from benchmarks.local_stack import REPO_ROOT

BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"
LAMBDA_UNZIPPED_LIMIT_MB = 250


def _sizes(directory: Path) -> tuple[int, int, int]:
    total = 0
    files = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for root, _dirs, names in os.walk(directory):
            for name in names:
                path = Path(root) / name
                total += path.stat().st_size
                files += 1
                archive.write(path, path.relative_to(directory))
    return total, buffer.getbuffer().nbytes, files


def measure() -> dict[str, Any]:
    if not BUILD_DIR.is_dir():
        return {"sizes": None, "reason": ".aws-sam/build does not exist (run `sam build` first)"}
    functions: dict[str, Any] = {}
    for entry in sorted(BUILD_DIR.iterdir()):
        if not entry.is_dir() or not entry.name.endswith("Function"):
            continue
        unzipped, zipped, files = _sizes(entry)
        functions[entry.name] = {
            "unzipped_mb": round(unzipped / 1e6, 2),
            "zipped_mb": round(zipped / 1e6, 2),
            "files": files,
        }
    if not functions:
        return {"sizes": None, "reason": ".aws-sam/build holds no function directories"}
    return {"sizes": functions, "reason": None, "limit_unzipped_mb": LAMBDA_UNZIPPED_LIMIT_MB}
