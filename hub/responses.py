"""JSON responses and problem bodies, a foundation: the one wire shape of HTTP answers and errors, used by
every HTTP face (ingest, admin, feeds, adapters such as the webhook). Error bodies name fields and rules,
never submitted values. Imports only ``hub.errors`` (and aiohttp)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
import structlog
from aiohttp import web

from hub.errors import RequestError
from schemas.pii import redact_text

MAX_BODY_KEY = web.AppKey("max_body_bytes", int)
log = structlog.get_logger(__name__)


class SentOnceResponse(web.Response):
    """A ``web.Response`` that lets go of its body once it is sent.

    aiohttp's connection loop keeps a keep-alive connection's last response until that connection's next
    request is answered: while that request waits for a place and is handled, and for a client that is
    done, until it hangs up. An ingest answer names every record (~75 bytes each, ~38 KB for a batch of
    500), and each one kept also pins the heap pages around it: on election day the ingest node's peak
    RSS was 226 MB with the answers kept, 156 MB with them let go (``bench.election``)."""

    async def write_eof(self, data: bytes = b"") -> None:
        await super().write_eof(data)
        self.body = None  # on the wire: nothing reads it again


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A compact JSON response (its body let go once sent: ``SentOnceResponse``)."""
    return SentOnceResponse(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


def problem(status: int, error: str, message: str, **extra: Any) -> web.Response:
    """An error response: ``{"error": code, "message": text, ...}``."""
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(int(extra.pop("retry_after")))
    return json_response({"error": error, "message": message, **extra}, status=status, headers=headers)


def error_code(status: int) -> str:
    """The ``error`` code of a status without a more specific one: its phrase in snake case."""
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


async def read_body(request: web.Request) -> bytes:
    """The request's whole body, as ``request.read()`` gives it (over ``client_max_size``: aiohttp's 413,
    which ``error_middleware`` answers), but not kept on the request.

    ``request.read()`` caches its bytes on the request, and aiohttp's connection loop holds a keep-alive
    connection's last request until the next one arrives: for a client that has sent its last batch,
    until it hangs up. On election day (552 clients, ~300 KB batches) the finished clients' old bodies
    made the ingest node's RSS climb to the end of the run: peak 356-380 MB, 226 MB with the body read
    this way, 156 MB with the answers let go as well (``SentOnceResponse``; ``bench.election``). Every
    HTTP face reads bodies with it: ingest, admin, JSON bodies, the webhook adapter."""
    limit = request.client_max_size
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if limit and size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_json_body(request: web.Request, *, default: Any = None) -> Any:
    """The request's body parsed as JSON. No body (or an empty one) gives ``default``, or a 400
    ``RequestError`` when ``default`` is None (a body is required). A body that is not UTF-8 JSON is a 400
    ``RequestError`` whose message says where it broke, never what it held."""
    raw = await read_body(request) if request.can_read_body else b""
    if not raw.strip():
        if default is None:
            raise RequestError("the body is empty; send a JSON object")
        return default
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"the body is not valid JSON ({exc.msg} at byte {exc.pos})") from None


async def read_json_object(request: web.Request, *, required: bool) -> dict[str, Any]:
    """``read_json_body`` that must give a JSON object (``{}`` for no body unless ``required``)."""
    body = await read_json_body(request, default=None if required else {})
    if not isinstance(body, dict):
        raise RequestError("the body must be a JSON object")
    return body


MESSAGE_CAP = 300


def safe_message(text: str) -> str:
    """An error message as it may leave the process: NIK- and phone-like numbers redacted (a message may
    repeat a path segment or name the caller chose), cut to ``MESSAGE_CAP`` characters."""
    text = redact_text(text)
    return text if len(text) <= MESSAGE_CAP else text[: MESSAGE_CAP - 3] + "..."


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn aiohttp's own HTTP errors (404, 405, 413 ...) and ``RequestError`` into JSON problem bodies.
    The exception's own headers (``Allow`` of a 405, ``Retry-After``) are kept."""
    try:
        response = await handler(request)
        if not isinstance(response, web.StreamResponse):  # a handler's bug, not the caller's
            log.error("http_handler_returned_no_response", got=type(response).__name__)
            return problem(500, "internal_server_error", "the node failed to answer this request")
        return response
    except web.HTTPRequestEntityTooLarge:
        limit = request.app.get(MAX_BODY_KEY)
        return problem(413, "body_too_large", f"the body exceeds the limit of {limit} bytes")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        answer = problem(exc.status, error_code(exc.status), safe_message(exc.reason))
        for name in ("Allow", "Retry-After", "WWW-Authenticate"):
            if name in exc.headers:
                answer.headers[name] = exc.headers[name]
        return answer
    except RequestError as exc:
        return problem(exc.status, error_code(exc.status), safe_message(str(exc)))
