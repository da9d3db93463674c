"""structlog setup: JSON lines off a terminal, console on one; a safety net that redacts NIKs.

Use ``log = structlog.get_logger(__name__)`` and event names like ``record_published``. Never pass a
payload to a log call; the redaction processor is a last line of defence, not a licence.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# 16 digits, optionally grouped by spaces, dots or dashes: the shape of a NIK.
_NIK = re.compile(r"(?<!\d)\d(?:[ .-]?\d){15}(?!\d)")


def redact_niks(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replace anything shaped like a NIK in string values (one level deep) by ``[NIK]``."""
    for key, value in event.items():
        if isinstance(value, str) and len(value) >= 16:
            event[key] = _NIK.sub("[NIK]", value)
    return event


class _Stderr:
    """Writes to whatever ``sys.stderr`` is at the time of writing (it is swapped by test runners and
    daemon wrappers after configuration; a cached logger must not keep a closed stream)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "info", fmt: str = "auto") -> None:
    """Configure structlog once per process. ``fmt`` is auto, json or console."""
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    renderer: Any = structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_niks,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        # No caching: test runners and operators may reconfigure logging after the first log call.
        cache_logger_on_first_use=False,
    )
