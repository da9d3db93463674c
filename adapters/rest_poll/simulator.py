"""A simulated legacy PHP conflict app (``../shared/samples/rest_conflict_api.json``) with switchable faults.

``GET /api/laporan?updated_since=YYYY-MM-DD HH:MM:SS&page=N&limit=M`` with an ``X-API-KEY`` header answers
``{"status", "message", "next_page", "data"}``, sorted by (updated_at, id_laporan); ``updated_since`` is
inclusive like the app's ``WHERE updated_at >= ?`` (``since_inclusive=False`` makes it ``>``). No rows:
``status: false, message: "Data tidak ditemukan"``, as the app does. ``next_style="url"`` sends the next
page as a relative URL in ``next_page`` and a ``Link`` header instead of a number.

Faults (``Faults``), counted over all requests: every k-th answers 500, sleeps ``slow_s`` first, sends a
truncated body, or answers ``status: false`` with an error; every k-th page points ``next_page`` at itself
(the page is served twice); ``shuffle`` returns each page's records out of order.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web
from yarl import URL

from adapters.rest_poll import sample_data

_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass
class Faults:
    """Switchable misbehaviour; 0 switches a fault off. Change fields at any time."""

    error_every: int = 0
    slow_every: int = 0
    slow_s: float = 0.0
    truncate_every: int = 0
    status_false_every: int = 0
    duplicate_every: int = 0
    shuffle: bool = False

    @staticmethod
    def hit(every: int, count: int) -> bool:
        return every > 0 and count % every == 0


@dataclass
class ConflictApi:
    """The simulated app. ``records`` by id; ``log`` lists each request's (monotonic time, params)."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    api_key: str = "kunci-sitimdu-bogor"
    path: str = "/api/laporan"
    since_inclusive: bool = True
    next_style: str = "page"
    default_limit: int = 50
    faults: Faults = field(default_factory=Faults)
    seed: int = 11
    log: list[tuple[float, dict[str, str]]] = field(default_factory=list)
    answers: dict[int, int] = field(default_factory=dict)
    repeated_pages: int = 0  # pages whose next_page pointed at themselves (the duplicate-page fault)
    _pages: int = 0
    _runner: web.AppRunner | None = None
    port: int = 0

    @classmethod
    def seeded(cls, count: int, **kwargs: Any) -> ConflictApi:
        """An app holding ``count`` generated records (see ``sample_data.generate``)."""
        api = cls(**kwargs)
        for record in sample_data.generate(count, seed=api.seed):
            api.records[record["id_laporan"]] = record
        return api

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def touch(self, record_id: str, updated_at: datetime, **changes: str) -> None:
        """Change a record (a new revision): set ``updated_at`` and any other fields."""
        self.records[record_id] = {
            **self.records[record_id],
            **changes,
            "updated_at": updated_at.strftime(_FORMAT),
        }

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(self.path, self._handle)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0 = any free port); returns the base URL."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        params = dict(request.query)
        self.log.append((asyncio.get_running_loop().time(), params))
        n, f = len(self.log), self.faults
        if request.headers.get("X-API-KEY") != self.api_key:
            return self._answer(401, {"status": False, "message": "API key tidak valid", "data": None})
        if Faults.hit(f.slow_every, n):
            await asyncio.sleep(f.slow_s)
        if Faults.hit(f.error_every, n):
            return self._answer(500, b"<b>Fatal error</b>: Allowed memory size exhausted", raw=True)
        if Faults.hit(f.status_false_every, n):
            return self._answer(200, {"status": False, "message": "Koneksi database gagal", "data": None})
        body = self._page(params)
        if Faults.hit(f.truncate_every, n):
            encoded = orjson.dumps(body)
            return self._answer(200, encoded[: len(encoded) // 2], raw=True)
        return self._answer(200, body, link=body.pop("_link", None))

    def _page(self, params: dict[str, str]) -> dict[str, Any]:
        page = max(1, int(params.get("page", "1") or 1))
        limit = max(1, min(1000, int(params.get("limit", str(self.default_limit)) or self.default_limit)))
        rows = sorted(self.records.values(), key=lambda r: (r["updated_at"], int(r["id_laporan"])))
        since = params.get("updated_since")
        if since:
            since = datetime.strptime(since, _FORMAT).strftime(_FORMAT)  # this format sorts as text
            rows = [
                r
                for r in rows
                if r["updated_at"] > since or (self.since_inclusive and r["updated_at"] == since)
            ]
        chunk = rows[(page - 1) * limit : page * limit]
        if not chunk:
            return {"status": False, "message": "Data tidak ditemukan", "next_page": None, "data": []}
        self._pages += 1
        following: int | None = page + 1 if page * limit < len(rows) else None
        if following is not None and Faults.hit(self.faults.duplicate_every, self._pages):
            following = page  # the app's off-by-one: the same page once more
            self.repeated_pages += 1
        if self.faults.shuffle:
            chunk = list(chunk)
            random.Random(self.seed + self._pages).shuffle(chunk)
        body: dict[str, Any] = {"status": True, "message": "Data ditemukan", "data": chunk}
        body["next_page"] = following
        if following is not None and self.next_style == "url":
            target = URL(self.path).with_query({**params, "page": str(following)})
            body["next_page"] = str(target).rsplit("/", 1)[
                -1
            ]  # relative to the request: "laporan?page=3&..."
            body["_link"] = f'<{target}>; rel="next"'
        return body

    def _answer(self, status: int, body: Any, *, raw: bool = False, link: str | None = None) -> web.Response:
        self.answers[status] = self.answers.get(status, 0) + 1
        data = body if raw else orjson.dumps(body)
        headers = {"Link": link} if link else None
        return web.Response(status=status, body=data, content_type="application/json", headers=headers)
