"""Every data file the packages ship is declared as package data, so a non-editable install (``pip install
.``, as docs/operations.md installs a node) carries it: the workbench pages were once left out."""

from __future__ import annotations

import fnmatch
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_tracked_data_file_of_a_package_is_package_data() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    tracked = subprocess.run(
        ["git", "ls-files", "hub", "schemas", "adapters"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    missing = []
    for path in tracked:
        if path.endswith(".py"):
            continue
        package, _, inside = path.partition("/")
        if not any(fnmatch.fnmatch(inside, pattern) for pattern in declared.get(package, [])):
            missing.append(path)
    assert missing == []
