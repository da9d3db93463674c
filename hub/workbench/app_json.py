"""The workbench's JSON endpoints (``POST /api/probe``, ``/api/render``, ``/api/parse``, ``/api/config``):
a JSON object body read within ``MAX_JSON_BYTES`` (``TooLarge`` -> 413), then a sample read from a live
source (answered as the raw bytes, with the workbench's headers), form -> TOML, TOML -> form, or the whole
node config. A bad value is a 400 naming its field.

Imports ``hub.workbench.engine``, ``hub.workbench.probe``, ``hub.workbench.app_common``, ``hub.responses``
and ``hub.errors``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from hub.errors import ConfigError
from hub.responses import json_response, problem
from hub.workbench import engine
from hub.workbench.app_common import _HEADERS, MAX_JSON_BYTES, Handler, TooLarge, _bad, json_object
from hub.workbench.probe import probe


async def _json_body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise TooLarge
    data = bytearray()
    while chunk := await request.content.read(64 * 1024):  # a read returns what has arrived so far
        data += chunk
        if len(data) > MAX_JSON_BYTES:
            raise TooLarge
    return json_object(data, key="body", what="the body")


def _json_endpoint(run: Callable[[dict[str, Any]], Awaitable[web.StreamResponse]]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            return await run(await _json_body(request))
        except TooLarge:
            return problem(413, "body_too_large", f"the body exceeds {MAX_JSON_BYTES // 1024} KB")
        except ConfigError as exc:
            return _bad(exc)

    return handler


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("this value is needed", key=key)
    return value


async def _probe_run(body: dict[str, Any]) -> web.StreamResponse:
    data, name = await probe(_str(body, "kind"), body)
    return web.Response(
        body=data, content_type="application/octet-stream", headers={"X-Sample-Name": name, **_HEADERS}
    )


async def _render_run(body: dict[str, Any]) -> web.StreamResponse:
    rows = body.get("fields")
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and isinstance(r.get("field"), str) for r in rows
    ):
        raise ConfigError("fields must be a list of field rows", key="fields")
    return json_response({"toml": engine.render(_str(body, "toml"), rows)})


async def _parse_run(body: dict[str, Any]) -> web.StreamResponse:
    schema = body.get("schema") if isinstance(body.get("schema"), str) else None
    return json_response(engine.parse(_str(body, "toml"), schema))


async def _config_run(body: dict[str, Any]) -> web.StreamResponse:
    return json_response(engine.node_config(_str(body, "toml")))


_probe = _json_endpoint(_probe_run)
_render = _json_endpoint(_render_run)
_parse = _json_endpoint(_parse_run)
_config = _json_endpoint(_config_run)
