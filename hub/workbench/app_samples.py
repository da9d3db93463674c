"""The workbench's sample endpoints (``POST /api/read``, ``/api/propose``, ``/api/test``): the sample and
the form's text parts read from a ``multipart/form-data`` body, in memory only and within the caps
(``TooLarge`` -> 413), handed to ``hub.workbench.engine``, its answer returned as JSON. A bad value is a 400
naming its field; a sample the reader chokes on is a 422, logged with its error type and the path only
(never its content).

Imports ``hub.workbench.engine``, ``hub.workbench.app_common``, ``hub.responses``, ``hub.errors`` and (when
called) ``schemas.regions``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from hub.errors import ConfigError
from hub.responses import json_response, problem
from hub.workbench import engine
from hub.workbench.app_common import MAX_JSON_BYTES, MAX_SAMPLE_BYTES, TooLarge, _bad, json_object

_log = structlog.get_logger("hub.workbench")


async def _read(request: web.Request) -> web.Response:
    async def run(form: dict[str, Any], sample: bytes, name: str) -> Any:
        return engine.read(_text(form, "kind"), _options(form), sample, name)

    return await _with_sample(request, run)


async def _propose(request: web.Request) -> web.Response:
    async def run(form: dict[str, Any], sample: bytes, name: str) -> Any:
        office = _text(form, "office")
        if office != "pusat" and _office_unknown(office):
            raise ConfigError("choose the office from the list (a kode wilayah or pusat)", key="office")
        return engine.propose(
            _text(form, "kind"), _text(form, "schema"), office, sample, name, _options(form)
        )

    return await _with_sample(request, run)


async def _test(request: web.Request) -> web.Response:
    async def run(form: dict[str, Any], sample: bytes, name: str) -> Any:
        return engine.test(_text(form, "toml"), sample, name)

    return await _with_sample(request, run)


def _office_unknown(code: str) -> bool:
    from schemas.regions import default_index

    return not default_index().exists(code) or (default_index().level_of(code) or 9) > 2


async def _with_sample(
    request: web.Request, run: Callable[[dict[str, Any], bytes, str], Awaitable[Any]]
) -> web.Response:
    try:
        form, sample, name = await _multipart(request)
    except TooLarge:
        return problem(413, "body_too_large", f"the sample exceeds {MAX_SAMPLE_BYTES // 1024 // 1024} MB")
    except ConfigError as exc:
        return _bad(exc)
    try:
        return json_response(await run(form, sample, name))
    except ConfigError as exc:
        return _bad(exc)
    except Exception as exc:  # a reader choking on a hostile or broken file: the engineer's input, a 4xx
        _log.warning("workbench_sample_unreadable", error=type(exc).__name__, path=request.path)
        return problem(
            422, "unreadable_sample", f"the sample cannot be read ({type(exc).__name__})", field="sample"
        )


async def _multipart(request: web.Request) -> tuple[dict[str, Any], bytes, str]:
    """The text parts and the ``sample`` file of a multipart body, in memory, each within the cap."""
    if not request.content_type.startswith("multipart/"):
        raise ConfigError("send the sample as multipart/form-data", key="sample")
    if request.content_length is not None and request.content_length > MAX_SAMPLE_BYTES + MAX_JSON_BYTES:
        raise TooLarge
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, HttpProcessingError):
        raise ConfigError("the multipart body is malformed", key="sample") from None
    form: dict[str, Any] = {}
    sample, name = b"", ""
    budget = MAX_SAMPLE_BYTES + MAX_JSON_BYTES
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or not part.name:
                raise ConfigError("the multipart body is malformed", key="sample")
            data = bytearray()
            while chunk := await part.read_chunk(64 * 1024):
                data += chunk
                budget -= len(chunk)
                limit = MAX_SAMPLE_BYTES if part.name == "sample" else MAX_JSON_BYTES
                if len(data) > limit or budget < 0:
                    raise TooLarge
            if part.name == "sample":
                sample, name = bytes(data), part.filename or "sample"
            else:
                form[part.name] = data.decode("utf-8", errors="replace")
    except (ValueError, AssertionError, HttpProcessingError):  # a part's headers or framing are broken
        raise ConfigError("the multipart body is malformed", key="sample") from None
    if not sample:
        raise ConfigError("attach the sample file", key="sample")
    return form, sample, name


def _text(form: dict[str, Any], key: str) -> str:
    value = form.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("this value is needed", key=key)
    return value.strip()


def _options(form: dict[str, Any]) -> dict[str, Any]:
    return json_object(form.get("options") or "{}", key="options", what="options")
