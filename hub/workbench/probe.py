"""Reading a sample from a live source the engineer typed in: a REST URL (with one auth header), a SOAP
endpoint (with its request envelope), or a database (DSN + SELECT, read-only, at most ``ROW_LIMIT`` rows).

A probe reaches only the address given (no redirects followed), within ``TIMEOUT_S`` seconds, and reads at
most ``MAX_BYTES``; it returns the raw bytes and a file name, exactly as if the engineer had uploaded a
captured answer, so the rest of the workbench treats both alike. Failures are ``ConfigError`` naming the
field (``url``, ``dsn``, ``query``) and the kind of failure, never a header value or a password.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp
import orjson

from hub.errors import ConfigError

TIMEOUT_S = 15.0
MAX_BYTES = 10 * 1024 * 1024
ROW_LIMIT = 50


async def probe(kind: str, params: dict[str, Any]) -> tuple[bytes, str]:
    """``(sample bytes, file name)`` from the live source described by ``params``."""
    if kind == "sql_poll":
        return await _database(str(params.get("dsn") or ""), str(params.get("query") or ""))
    url = str(params.get("url") or "")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise ConfigError("give an http:// or https:// address", key="url")
    headers: dict[str, str] = {}
    name, value = str(params.get("header_name") or ""), str(params.get("header_value") or "")
    if name and value:
        headers[name] = value
    if kind == "soap":
        envelope = str(params.get("envelope") or "")
        if "Envelope" not in envelope:
            raise ConfigError("give the request envelope (a SOAP Envelope document)", key="envelope")
        headers["Content-Type"] = "text/xml; charset=utf-8"
        headers["SOAPAction"] = str(params.get("action") or "")
        return await _http("POST", url, headers, envelope.encode()), "response.xml"
    return await _http("GET", url, headers, None), "page.json"


async def _http(method: str, url: str, headers: dict[str, str], body: bytes | None) -> bytes:
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, url, headers=headers, data=body, allow_redirects=False) as response,
        ):
            data = await response.content.read(MAX_BYTES + 1)
            status = response.status
    except TimeoutError:
        raise ConfigError(f"no answer within {TIMEOUT_S:.0f} s", key="url") from None
    except aiohttp.ClientError as exc:
        raise ConfigError(f"the address cannot be reached ({type(exc).__name__})", key="url") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"the answer is larger than {MAX_BYTES // 1024 // 1024} MB", key="url")
    if status >= 400 and not (method == "POST" and status == 500 and b"Fault" in data):
        raise ConfigError(f"the source answered HTTP {status}", key="url")
    return data


async def _database(dsn: str, query: str) -> tuple[bytes, str]:
    """At most ``ROW_LIMIT`` rows of ``query`` in a read-only session, as a JSON array (``rows.json``)."""
    from adapters.sql_poll.clients import connect
    from adapters.sql_poll.config import SqlPollConfig

    parts = urlsplit(dsn)
    engine = {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql", "mariadb": "mysql"}
    if parts.scheme not in engine or not parts.path.strip("/"):
        raise ConfigError("give a DSN like postgresql://user@host:5432/database or mysql://...", key="dsn")
    if not query.lstrip().lower().startswith("select"):
        raise ConfigError("give one SELECT query", key="query")
    try:
        config = SqlPollConfig(
            engine=engine[parts.scheme],
            host=parts.hostname or "127.0.0.1",
            port=parts.port,
            user=unquote(parts.username or "TODO"),
            password=unquote(parts.password or ""),
            database=parts.path.strip("/"),
            query=query,
            key_column="id",
            updated_at_column="updated_at",
            connect_timeout_s=TIMEOUT_S,
            query_timeout_s=TIMEOUT_S,
        )
    except ValueError as exc:  # pydantic's ValidationError: the names of the bad parts only
        raise ConfigError(f"the DSN or query is not usable ({type(exc).__name__})", key="dsn") from None
    sql = f"SELECT * FROM ({query.strip().rstrip(';')}) AS workbench_sample LIMIT {ROW_LIMIT}"
    try:
        client = await asyncio.wait_for(connect(config), TIMEOUT_S + 2)
        try:
            rows = await client.fetch(sql, [])
        finally:
            await client.close()
    except TimeoutError:
        raise ConfigError(f"no answer within {TIMEOUT_S:.0f} s", key="dsn") from None
    except Exception as exc:  # the client's FatalError/SourceUnavailable: say which, not the server's text
        raise ConfigError(f"the database refused or failed ({type(exc).__name__})", key="query") from None
    return orjson.dumps(rows, default=str), "rows.json"
