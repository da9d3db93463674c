"""The workbench's aiohttp application: the pages and the JSON API under them.

:func:`workbench_app` is a sub-application; both ``simpul workbench`` (:func:`standalone_app`, on
127.0.0.1) and a node (``hub.http.app``, guarded by an admin token with the ``act`` role) mount it at
``/workbench``. Its routes, relative to that prefix:

* ``GET /`` the page, ``GET /static/{asset}`` its script and style (a fixed list; no CDN, no build step);
* ``GET /api/schemas``, ``GET /api/schemas/{name}``, ``GET /api/regions?q=`` reference data;
* ``POST /api/read``, ``/api/propose``, ``/api/test``: the sample as ``multipart/form-data`` (part
  ``sample``, plus ``kind``, ``schema``, ``office``, ``options`` (JSON) or ``toml``), answering the JSON of
  ``hub.workbench.engine``;
* ``POST /api/probe`` (JSON): a sample read from a live source, answered as the raw bytes;
* ``POST /api/render``, ``/api/parse``, ``/api/config`` (JSON): form -> TOML, TOML -> form, whole node config.

Uploads are read into memory only (never written to disk, never logged) and capped at ``MAX_SAMPLE_BYTES``
(413 beyond). Bad input is a 4xx in the hub's problem shape (``{"error", "message", "field"}``), never a 500.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import structlog
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from hub.errors import ConfigError
from hub.responses import error_middleware, json_response, problem
from hub.workbench import engine, engine_fields
from hub.workbench.probe import probe

MAX_SAMPLE_BYTES = 10 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024
STATIC_DIR = Path(__file__).resolve().parent / "static"
_ASSETS = {
    "workbench.css": "text/css; charset=utf-8",
    "workbench.js": "text/javascript; charset=utf-8",
}
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_log = structlog.get_logger("hub.workbench")
Guard = Callable[[web.Request], object]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TooLarge(Exception):
    """An upload or body over its cap."""


def workbench_app(guard: Guard | None = None) -> web.Application:
    """The sub-application; ``guard(request)`` (raising ``HTTPUnauthorized``/``HTTPForbidden``) runs before
    every ``/api/`` call when given. The pages themselves hold no data and are served to anyone."""

    @web.middleware
    async def guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        if guard is not None and "/api/" in request.path:
            guard(request)
        return await handler(request)

    app = web.Application(middlewares=[guarded])
    app.router.add_routes(
        [
            web.get("/", _page),
            web.get("/static/{asset}", _asset),
            web.get("/api/schemas", _schemas),
            web.get("/api/schemas/{name}", _schema),
            web.get("/api/regions", _regions),
            web.post("/api/read", _read),
            web.post("/api/propose", _propose),
            web.post("/api/test", _test),
            web.post("/api/probe", _probe),
            web.post("/api/render", _render),
            web.post("/api/parse", _parse),
            web.post("/api/config", _config),
        ]
    )
    return app


def standalone_app() -> web.Application:
    """What ``simpul workbench`` serves: the workbench at ``/workbench/``, ``/`` redirecting there."""
    root = web.Application(middlewares=[error_middleware])

    async def home(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/workbench/")

    root.router.add_get("/", home)
    root.router.add_get("/workbench", home)
    root.add_subapp("/workbench", workbench_app())
    return root


# --- pages ----------------------------------------------------------------------------------------------


async def _page(_request: web.Request) -> web.Response:
    body = (STATIC_DIR / "index.html").read_bytes()
    return web.Response(body=body, content_type="text/html", charset="utf-8", headers=_HEADERS)


async def _asset(request: web.Request) -> web.Response:
    content_type = _ASSETS.get(request.match_info["asset"])
    if content_type is None:  # a fixed list: no path from the request reaches the file system
        raise web.HTTPNotFound()
    body = (STATIC_DIR / request.match_info["asset"]).read_bytes()
    return web.Response(body=body, headers={**_HEADERS, "Content-Type": content_type})


# --- reference data -------------------------------------------------------------------------------------


async def _schemas(_request: web.Request) -> web.Response:
    from schemas import catalog

    return json_response(
        [
            {
                "name": s.name,
                "version": s.version,
                "title": s.title,
                "title_id": s.title_id,
                "levels": sorted(s.region_levels),
            }
            for s in catalog.all_specs()
        ]
    )


async def _schema(request: web.Request) -> web.Response:
    try:
        spec = engine_fields._schema(request.match_info["name"])
    except ConfigError as exc:
        return _bad(exc, status=404)
    from schemas.catalog import documented_fields

    texts = {doc.path: doc.description_id for doc in documented_fields(spec)}
    fields = [
        {**f, "plain": plain_type(f), "description_id": texts.get(f["field"], "")}
        for f in engine_fields.schema_fields(spec)
    ]
    return json_response(
        {
            "name": spec.name,
            "version": spec.version,
            "title": spec.title,
            "title_id": spec.title_id,
            "description": spec.description,
            "description_id": spec.description_id,
            "levels": sorted(spec.region_levels),
            "identity": list(spec.identity),
            "fields": fields,
        }
    )


def plain_type(field: dict[str, Any]) -> str:
    """A field's type as one word the page translates: text, date, datetime, int, number, money, bool,
    region, regions, nik, passport, country, choice, list."""
    kind = str(field["type"])
    checks = (
        ("NikToken", "nik"), ("PasporToken", "passport"), ("list[KodeWilayah]", "regions"),
        ("KodeWilayah", "region"), ("CountryCode", "country"), ("datetime", "datetime"),
        ("Datetime", "datetime"), ("date", "date"), ("Rupiah", "money"), ("bool", "bool"),
        ("Decimal", "number"), ("Latitude", "number"), ("Longitude", "number"), ("list[", "list"),
    )  # fmt: skip
    if field.get("choices"):
        return "choice"
    for needle, word in checks:
        if needle in kind:
            return word
    return "int" if kind.lower().endswith("int") or "int |" in kind.lower() else "text"


async def _regions(request: web.Request) -> web.Response:
    query = request.query.get("q", "").strip()
    if not query or len(query) > 100:
        return problem(400, "invalid_input", "type 1 to 100 characters of a region name or code", field="q")
    return json_response(region_candidates(query))


@functools.cache
def _offices() -> list[Any]:
    from schemas.regions import default_index

    index = default_index()
    provinces = index.children(None)
    return [*provinces, *(r for p in provinces for r in index.children(p.code))]


def region_candidates(query: str, limit: int = 10) -> list[dict[str, str]]:
    """Offices (provinsi, kab/kota, or ``pusat``) whose code or name matches ``query``: a code exactly or as
    a prefix, a name by its words (``kab bogor``, ``bogor``, ``raja amp``), starts of names first."""
    from hub.mapping.paths import loose_key

    wanted = loose_key(query)
    if not wanted:
        return []
    words = [{"kab": "kabupaten", "prov": "provinsi"}.get(w, w) for w in wanted.split("_")]
    hits = []
    for region in _offices():
        name = loose_key(region.name)
        code = region.code.replace(".", "")
        if code.startswith(wanted.replace("_", "")) and wanted.replace("_", "").isdigit():
            rank = 0
        elif all(w in name for w in words):
            rank = 1 if name.startswith(words[0]) or f"_{words[0]}" in name else 2
        else:
            continue
        hits.append((rank, region.level, region.code, region))
    hits.sort(key=lambda h: h[:3])
    out = [{"code": r.code, "name": r.name, "kind": r.kind} for *_, r in hits[:limit]]
    if "pusat".startswith(wanted) and len(wanted) >= 2:
        out.insert(0, {"code": "pusat", "name": "Pusat (Kemendagri)", "kind": "pusat"})
    return out


# --- sample endpoints -----------------------------------------------------------------------------------


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
    raw = form.get("options") or "{}"
    try:
        options = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ConfigError("options must be a JSON object", key="options") from None
    if not isinstance(options, dict):
        raise ConfigError("options must be a JSON object", key="options")
    return options


# --- JSON endpoints -------------------------------------------------------------------------------------


async def _json_body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise TooLarge
    data = bytearray()
    while chunk := await request.content.read(64 * 1024):  # a read returns what has arrived so far
        data += chunk
        if len(data) > MAX_JSON_BYTES:
            raise TooLarge
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ConfigError("the body must be a JSON object", key="body") from None
    if not isinstance(body, dict):
        raise ConfigError("the body must be a JSON object", key="body")
    return body


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


def _bad(exc: ConfigError, status: int = 400) -> web.Response:
    """A problem naming the field the engineer must fix (the page shows it next to that field)."""
    message = str(exc)
    if exc.key is not None and message.startswith(f"{exc.key}: "):
        message = message[len(exc.key) + 2 :]
    return problem(status, "invalid_input", message, field=exc.key)
