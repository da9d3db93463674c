"""hub/faultpoints.py: the N-th pass of a named point SIGKILLs the process; unset, nothing happens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
SCRIPT = (
    "import sys\n"
    "from hub import faultpoints\n"
    "for i in range(1, 6):\n"
    "    faultpoints.reach('sink_before_commit')\n"
    "    faultpoints.reach('publish_before_send')\n"
    "    print(i, flush=True)\n"
)


def _run(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SIMPUL_FAULT_POINT"}
    if value is not None:
        env["SIMPUL_FAULT_POINT"] = value
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_nth_pass_kills_the_process_with_sigkill() -> None:
    done = _run("sink_before_commit:3")
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.split() == ["1", "2"]  # nothing after the third pass ran
    assert "fault point sink_before_commit reached 3 times: SIGKILL" in done.stderr


def test_unset_or_other_points_change_nothing() -> None:
    for value in (None, "", "sink_committed_before_ack:1"):
        done = _run(value)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["1", "2", "3", "4", "5"]


def test_a_typo_fails_loudly_at_import() -> None:
    for value in ("sink_befor_commit:1", "sink_before_commit", "sink_before_commit:0"):
        done = _run(value)
        assert done.returncode == 1 and "ValueError: SIMPUL_FAULT_POINT" in done.stderr, value
