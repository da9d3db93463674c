"""What every handler of the workbench's application (``hub.workbench.app``) shares: the caps on what an
engineer uploads (``MAX_SAMPLE_BYTES`` for a sample, ``MAX_JSON_BYTES`` for a JSON body or a form part),
``TooLarge`` (raised past a cap, answered 413 by the endpoint), the security headers of everything the
workbench serves itself, ``json_object`` (a JSON object from a body or a form part, or the error naming
it), and ``_bad``: a 4xx in the hub's problem shape naming the field to fix.

Imports ``hub.errors`` and ``hub.responses`` only (and aiohttp).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from hub.errors import ConfigError
from hub.responses import problem

MAX_SAMPLE_BYTES = 10 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TooLarge(Exception):
    """An upload or body over its cap."""


def json_object(raw: bytes | bytearray | str, *, key: str, what: str) -> dict[str, Any]:
    """``raw`` parsed as a JSON object; otherwise ``ConfigError`` "<what> must be a JSON object" on ``key``
    (never quoting what was sent)."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ConfigError(f"{what} must be a JSON object", key=key) from None
    if not isinstance(value, dict):
        raise ConfigError(f"{what} must be a JSON object", key=key)
    return value


def _bad(exc: ConfigError, status: int = 400) -> web.Response:
    """A problem naming the field the engineer must fix (the page shows it next to that field)."""
    message = str(exc)
    if exc.key is not None and message.startswith(f"{exc.key}: "):
        message = message[len(exc.key) + 2 :]
    return problem(status, "invalid_input", message, field=exc.key)
