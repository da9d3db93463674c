"""The HTTP server of a node: aiohttp's, with its own error answers replaced by ours.

aiohttp answers what never reaches a handler itself: a request its parser refuses (a control byte in a
header, a request line or header over 8,190 bytes, a bad method) and an exception no middleware caught.
Its stock answer is a plain-text body that repeats the parser's message (and so the offending bytes), and
its stock log line is a stdlib traceback holding the same bytes. ``JsonErrorRunner`` (an ``AppRunner``)
makes every such answer our JSON problem body with a fixed message, and logs it through structlog, whose
redaction processor masks NIK-shaped numbers, with the error's class and never the request's bytes.
"""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod
from aiohttp.web_protocol import RequestHandler

from hub.responses import error_code, problem, safe_message

log = structlog.get_logger(__name__)

_MESSAGES = {
    400: "the request is not valid HTTP/1.1 (a malformed or over-long request line or header)",
    500: "the node failed to answer this request; the error is logged",
}


class JsonErrorHandler(RequestHandler):
    """aiohttp's per-connection protocol, answering its own errors with JSON problem bodies."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """The answer to a request aiohttp could not parse or whose handler raised: a JSON problem body
        with a fixed message (``message``, the parser's words, may quote the request's bytes). The
        connection is closed after it, as aiohttp does."""
        if request.writer.output_size > 0:  # a response has begun: nothing can be sent on top of it
            raise ConnectionError("response already started; cannot send an error answer")
        error = type(exc).__name__ if exc is not None else None
        if status >= 500:
            # The traceback goes through structlog's processors, NIK redaction included.
            log.error("http_unhandled_error", status=status, error=error,
                      path=safe_message(request.path), exc_info=exc)  # fmt: skip
        elif isinstance(exc, BadHttpMethod) and self._request_count == 1:
            log.debug("http_not_http", status=status, error=error)  # scanners, TLS to a plain port
        else:
            log.warning("http_bad_request", status=status, error=error)
        text = _MESSAGES.get(status) or _MESSAGES[500 if status >= 500 else 400]
        answer = problem(status, error_code(status), text)
        answer.force_close()
        return answer

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp's other error logs (an exception outside a handler, a handler returning nothing): into
        the structured, redacting log instead of a stdlib traceback."""
        what = str(args[0]) if args else "error"
        exc = kw.get("exc_info")
        log.error("http_server_error", what=safe_message(what), exc_info=exc if exc is not None else True)


class JsonErrorServer(web.Server):
    """``web.Server`` whose connections use ``JsonErrorHandler``."""

    def __call__(self) -> RequestHandler:
        return JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class JsonErrorRunner(web.AppRunner):
    """``web.AppRunner`` serving the app through ``JsonErrorServer``; use it in place of ``AppRunner``."""

    async def _make_server(self) -> web.Server:
        stock = await super()._make_server()
        kwargs: dict[str, Any] = dict(stock._kwargs)
        return JsonErrorServer(
            stock.request_handler,
            request_factory=stock.request_factory,
            handler_cancellation=stock.handler_cancellation,
            loop=stock._loop,
            **kwargs,
        )
