"""JSON responses and problem bodies, a foundation: the one wire shape of HTTP answers and errors, used by
every HTTP face (ingest, admin, feeds, adapters such as the webhook). Error bodies name fields and rules,
never submitted values. Imports only ``hub.errors`` (and aiohttp)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from aiohttp import web

from hub.errors import RequestError

MAX_BODY_KEY = web.AppKey("max_body_bytes", int)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A compact JSON response."""
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


def problem(status: int, error: str, message: str, **extra: Any) -> web.Response:
    """An error response: ``{"error": code, "message": text, ...}``."""
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(int(extra.pop("retry_after")))
    return json_response({"error": error, "message": message, **extra}, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn aiohttp's own HTTP errors (404, 405, 413 ...) into JSON problem bodies."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPRequestEntityTooLarge:
        limit = request.app.get(MAX_BODY_KEY)
        return problem(413, "body_too_large", f"the body exceeds the limit of {limit} bytes")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = HTTPStatus(exc.status).phrase.lower().replace(" ", "_")
        return problem(exc.status, code, exc.reason)
    except RequestError as exc:
        return problem(exc.status, HTTPStatus(exc.status).phrase.lower().replace(" ", "_"), str(exc))
