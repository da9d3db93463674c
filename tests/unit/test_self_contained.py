"""The suite reads nothing outside the repository (issue 16): a clone that does not sit beside the
project's ``shared/`` folder runs it as it is. Samples live in ``tests/fixtures/samples``."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import SAMPLES

TESTS = Path(__file__).resolve().parents[1]
# Ways a test has reached out of the repository: the sibling shared/ folder, the machine's /work tree,
# the folder above the repository.
OUTSIDE = re.compile(
    r"""["']/work/|ROOT\.parent\b|parents\[3\]\s*/\s*["']shared|["']shared["']\s*/\s*["']samples"""
)


def test_no_test_reads_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []


def test_the_samples_are_carried_in_the_repository() -> None:
    names = {p.name for p in SAMPLES.iterdir()}
    assert {"ormas_register.csv", "rest_conflict_api.json", "webhook_early_warning.json"} <= names
    assert SAMPLES.resolve().is_relative_to(TESTS)


def test_the_test_command_prints_the_slowest_tests() -> None:
    """ops/scripts/test.sh runs pytest with --durations, so a slow suite is visible in every run."""
    script = (TESTS.parent / "ops" / "scripts" / "test.sh").read_text(encoding="utf-8")
    pytest_line = next(line for line in script.splitlines() if "-m pytest" in line)
    assert re.search(r"--durations=\d+", pytest_line), pytest_line
