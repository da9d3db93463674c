"""The CLI side of the admin API: ``simpul status``, ``simpul quarantine ...``, ``simpul adapters pause ...``.

Talks to a running node (``--url``, default ``http://127.0.0.1:8080``) with an admin token (``--token`` or
``SIMPUL_ADMIN_TOKEN``). Lists print as tables; a bulk redrive shows a progress bar.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import aiohttp
import orjson

from hub.errors import RequestError
from hub.quarantine.store import BULK_LIMIT


class AdminClient:
    """A thin async client of ``/v1/admin``."""

    def __init__(self, url: str, token: str | None) -> None:
        self._url = url.rstrip("/")
        self._token = token or os.environ.get("SIMPUL_ADMIN_TOKEN", "")
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    async def __aenter__(self) -> AdminClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._http.close()

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        """One request; a non-2xx answer raises ``RequestError`` with the server's message."""
        headers = {"Authorization": f"Bearer {self._token}"}
        data = orjson.dumps(body) if body is not None else None
        try:
            async with self._http.request(method, self._url + path, headers=headers, data=data) as resp:
                payload = orjson.loads(await resp.read() or b"null")
                if resp.status >= 300:
                    message = payload.get("message") if isinstance(payload, dict) else None
                    raise RequestError(f"HTTP {resp.status}: {message or 'request failed'}")
                return payload
        except aiohttp.ClientConnectionError as exc:
            raise RequestError(f"cannot reach the node at {self._url} ({exc})") from None


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as an aligned text table (values cut at 60 characters)."""
    cells = [[str(r.get(c, "") if r.get(c) is not None else "")[:60] for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def progress(done: int, total: int, label: str) -> None:
    """A one-line progress bar on stderr."""
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


async def status(client: AdminClient) -> str:
    """``simpul status``: node, readiness, failed sources first, adapters, quarantine."""
    s = await client.call("GET", "/v1/admin/status")
    ready = ", ".join(f"{k} {'ok' if v else 'DOWN'}" for k, v in s["ready"].items())
    reasons = ", ".join(f"{k} {v}" for k, v in s["quarantine_by_reason"].items()) or "none"
    failed = [a for a in s["adapters"] if a["state"] == "failed"]
    lines = [
        f"node {s['node']} (level {s['level']})",
        f"ready: {ready}",
        f"quarantine open: {s['quarantine_open']} ({reasons})",
        *(
            f"FAILED source {a['name']} ({a.get('failure_kind') or 'failed'}, "
            f"{a.get('failures', 0)} failure(s)): {a['last_error']}"
            for a in failed
        ),
        "",
    ]
    lines.append(
        table(s["adapters"], ["name", "state", "failures", "records_offered", "last_error"])
        if s["adapters"]
        else "no source adapters configured"
    )
    return "\n".join(lines)


async def quarantine_list(client: AdminClient, query: str) -> str:
    body = await client.call("GET", f"/v1/admin/quarantine?{query}")
    rows = [
        {**e, "issues": "; ".join(f"{i['loc']}:{i['rule']}" for i in e["issues"])} for e in body["entries"]
    ]
    cols = ["entry_id", "quarantined_at", "adapter", "schema_name", "province", "reason", "issues"]
    return f"{body['total']} matching\n" + table(rows, cols)


async def bulk_redrive(client: AdminClient, query: str) -> dict[str, int]:
    """Redrive every open entry matching ``query``, one by one, with a progress bar."""
    body = await client.call("GET", f"/v1/admin/quarantine?{query}&status=open&limit=1000")
    ids = [e["entry_id"] for e in body["entries"]][:BULK_LIMIT]
    counts: dict[str, int] = {}
    for n, entry_id in enumerate(ids, start=1):
        try:
            result = await client.call("POST", f"/v1/admin/quarantine/{entry_id}/redrive")
            counts[result["status"]] = counts.get(result["status"], 0) + 1
        except RequestError:
            counts["refused"] = counts.get("refused", 0) + 1
        progress(n, len(ids), "redriving")
    return counts
