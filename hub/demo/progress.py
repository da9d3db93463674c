"""A progress line on stderr: redrawn in place on a terminal, a line every few seconds elsewhere."""

from __future__ import annotations

import sys
import time


class Progress:
    """Counts named events and shows them against a total."""

    def __init__(self, total: int, label: str) -> None:
        self.total = total
        self.label = label
        self.counts: dict[str, int] = {}
        self._tty = sys.stderr.isatty()
        self._last = 0.0
        self._started = time.monotonic()

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n
        self.show()

    def show(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < (0.2 if self._tty else 3.0):
            return
        self._last = now
        counted = sum(self.counts.values())
        # Counts may run past the plan (a record re-offered after a fault is confirmed again): the bar
        # and its figure stop at the total; the surplus is named, not added.
        done = min(counted, self.total)
        width = 30
        filled = int(width * done / max(self.total, 1))
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        extra = f", {counted - self.total} more: repeats" if counted > self.total else ""
        line = (
            f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} "
            f"{100 * done // max(self.total, 1):3d}% ({parts}{extra}) {now - self._started:5.1f}s"
        )
        if self._tty:
            sys.stderr.write("\r" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        self.show(force=True)
        if self._tty:
            sys.stderr.write("\n")
