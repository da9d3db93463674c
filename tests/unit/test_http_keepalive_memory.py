"""What an answered ingest request leaves on its keep-alive connection: neither its body nor its answer's.

aiohttp's connection loop holds a connection's last request and response until its next request is
answered (for a client that is done, until it hangs up), so whatever they keep lives that long.
"""

from __future__ import annotations

import asyncio
from unittest import mock

import orjson
import pytest
from aiohttp import StreamReader, web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from hub.responses import json_response, problem, read_body


def _request(chunks: list[bytes], client_max_size: int = 1024**2) -> web.Request:
    payload = StreamReader(mock.Mock(), 2**16, loop=asyncio.get_running_loop())
    for chunk in chunks:
        payload.feed_data(chunk)
    payload.feed_eof()
    return make_mocked_request("POST", "/v1/records/x", payload=payload, client_max_size=client_max_size)


async def test_read_body_joins_the_chunks_and_keeps_nothing_on_the_request() -> None:
    """The whole body, however it arrived; the request does not cache it (``request.read()`` would)."""
    request = _request([b'[{"id": "a"}', b", ", b'{"id": "b"}]'])
    assert await read_body(request) == b'[{"id": "a"}, {"id": "b"}]'
    assert await request.read() == b""  # nothing cached: the stream was read to its end, not kept


async def test_read_body_over_the_limit_is_aiohttps_413() -> None:
    """A body over ``client_max_size`` raises aiohttp's 413 (answered by ``error_middleware``); one
    exactly at the limit is read."""
    with pytest.raises(web.HTTPRequestEntityTooLarge):
        await read_body(_request([b"x" * 6, b"x" * 5], client_max_size=10))
    assert await read_body(_request([b"x" * 6, b"x" * 4], client_max_size=10)) == b"x" * 10


async def test_json_answers_let_go_of_their_body_once_sent() -> None:
    """The client gets the whole answer; the response object the connection keeps no longer holds it."""
    sent: list[web.Response] = []
    data = {"results": [{"index": i, "status": "published"} for i in range(200)]}

    async def answer(request: web.Request) -> web.Response:
        sent.append(json_response(data, status=202) if request.path == "/ok" else problem(422, "x", "y"))
        return sent[-1]

    app = web.Application()
    app.router.add_get("/ok", answer)
    app.router.add_get("/bad", answer)
    async with TestClient(TestServer(app)) as client:
        async with client.get("/ok") as resp:
            assert resp.status == 202 and orjson.loads(await resp.read()) == data
        async with client.get("/bad") as resp:
            assert resp.status == 422 and orjson.loads(await resp.read())["error"] == "x"
    assert [r.body for r in sent] == [None, None]
