"""Operations tests need promtool and Chromium; ``ops/scripts/install-ops-tools.sh`` installs them.

A test asks for a tool through ``require_tool``: if the tool is not on PATH, the install script is run
once (it is idempotent and installs only what is missing); only if the tool is still missing afterwards
does the test skip, quoting why the script could not install it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.test_status_page import ticking_node  # noqa: F401  (a fixture, shared with the unit tests)

ROOT = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = ROOT / "ops" / "scripts" / "install-ops-tools.sh"
STATUS_FILE = ROOT / "var" / "ops-tools.status"
_script_output: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``ops`` marker here, so tests/ops needs nothing from pyproject.toml."""
    config.addinivalue_line(
        "markers", "ops: needs promtool or chromium (installed by ops/scripts/install-ops-tools.sh)"
    )


def _run_install_script() -> str:
    """Run the install script once per session; its stderr tail (for a skip reason)."""
    if not _script_output:
        try:
            done = subprocess.run(
                ["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True, timeout=900, check=False
            )
            _script_output.append(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "")
        except (OSError, subprocess.TimeoutExpired) as exc:
            _script_output.append(f"the script could not run: {exc}")
    return _script_output[0]


def require_tool(name: str) -> str:
    """The path of ``name``; installs it with the script if missing; skips with the script's reason."""
    path = shutil.which(name)
    if path:
        return path
    tail = _run_install_script()
    path = shutil.which(name)
    if path:
        return path
    reason = ""
    if STATUS_FILE.exists():
        reason = next(
            (line for line in STATUS_FILE.read_text().splitlines() if line.startswith(f"{name}:")), ""
        )
    pytest.skip(
        f"{name} is not installed and ops/scripts/install-ops-tools.sh could not install it: "
        f"{reason or tail or 'no reason given'}"
    )


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of promtool (Debian package prometheus)."""
    return require_tool("promtool")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of the Chromium browser (Debian package chromium)."""
    return require_tool("chromium")
