"""A small client for the RabbitMQ management HTTP API (``rabbitmq_management`` plugin), on aiohttp.

The hub uses it to PUT the policies that give work queues a dead-letter exchange and a delivery limit, and
to check that they took effect; tests and operators use it to create throw-away vhosts, look at queues and
force-close connections.

``url`` carries the credentials: ``http://user:password@host:15672`` (a path prefix such as
``http://host/rabbitmq`` is kept). Vhost and object names are percent-encoded in full, so the default vhost
``/`` becomes ``%2F`` as the API requires.

Errors: :class:`ManagementError` with ``status`` (``None`` when the API could not be reached). The error
text names the method and path only, never a request or response body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import aiohttp
import structlog
from yarl import URL

from hub.errors import SimpulError

__all__ = ["DEFAULT_MANAGEMENT_URL", "ManagementClient", "ManagementError"]

log = structlog.get_logger(__name__)

DEFAULT_MANAGEMENT_URL = "http://guest:guest@127.0.0.1:15672"


class ManagementError(SimpulError):
    """A management API call failed. ``status`` is the HTTP status, or ``None`` if unreachable."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def unreachable(self) -> bool:
        """True when no HTTP answer came back (connection refused, timeout...)."""
        return self.status is None


def _q(name: str) -> str:
    return quote(name, safe="")


class ManagementClient:
    """Async client for the management API; use as ``async with ManagementClient(url) as api:``.

    :param url: base URL with credentials, default ``http://guest:guest@127.0.0.1:15672``.
    :param timeout: total seconds for each request.
    """

    def __init__(self, url: str = DEFAULT_MANAGEMENT_URL, *, timeout: float = 10.0) -> None:
        parsed = URL(url)
        self._headers = {
            "Authorization": aiohttp.encode_basic_auth(parsed.user or "guest", parsed.password or "guest")
        }
        self._base = str(parsed.with_user(None).with_password(None).with_query(None)).rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    @property
    def base_url(self) -> str:
        """The API base URL without credentials (safe to log)."""
        return self._base

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session (idempotent)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    # -- generic -------------------------------------------------------------------------------------------

    async def request(self, method: str, path: str, *, json: Any = None, ok_missing: bool = False) -> Any:
        """Call ``{base}/api{path}`` (``path`` already encoded) and return the decoded JSON, or None.

        With ``ok_missing`` a 404 returns None instead of raising.
        """
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        url = URL(f"{self._base}/api{path}", encoded=True)
        what = f"{method} /api{path}"
        try:
            async with self._session.request(method, url, json=json) as response:
                if response.status == 404 and ok_missing:
                    return None
                if response.status >= 400:
                    # The reason phrase only: the body can echo submitted values.
                    raise ManagementError(
                        f"{what}: HTTP {response.status} {response.reason or ''}".rstrip(),
                        status=response.status,
                    )
                if response.status == 204 or response.content_length == 0:
                    return None
                text = await response.text()
                if not text:
                    return None
                return await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ManagementError(f"{what}: {type(exc).__name__}") from exc

    # -- overview and readiness ----------------------------------------------------------------------------

    async def overview(self) -> dict[str, Any]:
        """``GET /api/overview``: versions, listeners, totals."""
        result: dict[str, Any] = await self.request("GET", "/overview")
        return result

    async def wait_until_ready(self, timeout: float = 30.0, interval: float = 0.5) -> None:
        """Poll ``/api/overview`` until it answers; after ``timeout`` raise the last ``ManagementError``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                await self.overview()
                return
            except ManagementError:
                if asyncio.get_running_loop().time() >= deadline:
                    raise
            await asyncio.sleep(interval)

    # -- vhosts and permissions ----------------------------------------------------------------------------

    async def create_vhost(self, vhost: str, *, description: str = "") -> None:
        """``PUT /api/vhosts/{vhost}`` (idempotent)."""
        await self.request("PUT", f"/vhosts/{_q(vhost)}", json={"description": description})

    async def delete_vhost(self, vhost: str) -> bool:
        """``DELETE /api/vhosts/{vhost}``; False if it did not exist."""
        return await self._delete(f"/vhosts/{_q(vhost)}")

    async def set_permissions(
        self, vhost: str, user: str, *, configure: str = ".*", write: str = ".*", read: str = ".*"
    ) -> None:
        """``PUT /api/permissions/{vhost}/{user}`` with the three regular expressions."""
        body = {"configure": configure, "write": write, "read": read}
        await self.request("PUT", f"/permissions/{_q(vhost)}/{_q(user)}", json=body)

    async def set_topic_permissions(
        self, vhost: str, user: str, *, exchange: str, write: str = ".*", read: str = ".*"
    ) -> None:
        """``PUT /api/topic-permissions/{vhost}/{user}``: routing-key regexes on one topic exchange."""
        body = {"exchange": exchange, "write": write, "read": read}
        await self.request("PUT", f"/topic-permissions/{_q(vhost)}/{_q(user)}", json=body)

    # -- policies ------------------------------------------------------------------------------------------

    async def put_policy(
        self,
        vhost: str,
        name: str,
        *,
        pattern: str,
        definition: Mapping[str, Any],
        apply_to: str = "queues",
        priority: int = 0,
    ) -> None:
        """``PUT /api/policies/{vhost}/{name}``: create or replace a policy (idempotent)."""
        body = {
            "pattern": pattern,
            "definition": dict(definition),
            "apply-to": apply_to,
            "priority": priority,
        }
        await self.request("PUT", f"/policies/{_q(vhost)}/{_q(name)}", json=body)

    async def get_policy(self, vhost: str, name: str) -> dict[str, Any] | None:
        """``GET /api/policies/{vhost}/{name}``, or None."""
        result: dict[str, Any] | None = await self.request(
            "GET", f"/policies/{_q(vhost)}/{_q(name)}", ok_missing=True
        )
        return result

    async def delete_policy(self, vhost: str, name: str) -> bool:
        """``DELETE /api/policies/{vhost}/{name}``; False if it did not exist."""
        return await self._delete(f"/policies/{_q(vhost)}/{_q(name)}")

    # -- queues --------------------------------------------------------------------------------------------

    async def get_queue(self, vhost: str, name: str) -> dict[str, Any] | None:
        """``GET /api/queues/{vhost}/{name}``, or None if there is no such queue.

        Useful keys: ``type``, ``arguments``, ``policy``, ``effective_policy_definition``, ``messages``,
        ``messages_ready``, ``messages_unacknowledged``, ``consumers``.
        """
        result: dict[str, Any] | None = await self.request(
            "GET", f"/queues/{_q(vhost)}/{_q(name)}", ok_missing=True
        )
        return result

    async def list_queues(self, vhost: str, *, stats: bool = True) -> list[dict[str, Any]]:
        """``GET /api/queues/{vhost}``.

        With ``stats=False`` (``disable_stats=true&enable_queue_totals=true``) the answer comes from the
        queue records instead of the statistics database: no rates, but ``policy`` is current at once,
        whereas the statistics view of a new quorum queue can lag by 5-10 s.
        """
        query = "" if stats else "?disable_stats=true&enable_queue_totals=true"
        result: list[dict[str, Any]] = await self.request("GET", f"/queues/{_q(vhost)}{query}")
        return result

    async def delete_queue(self, vhost: str, name: str) -> bool:
        """``DELETE /api/queues/{vhost}/{name}`` (consumers are cancelled); False if it did not exist."""
        return await self._delete(f"/queues/{_q(vhost)}/{_q(name)}")

    # -- connections ---------------------------------------------------------------------------------------

    async def list_connections(self, vhost: str | None = None) -> list[dict[str, Any]]:
        """``GET /api/connections`` or ``/api/vhosts/{vhost}/connections``.

        The list comes from the statistics database and may lag a new connection by a few seconds.
        ``client_properties.connection_name`` (also ``user_provided_name``) is the name the client set.
        """
        path = "/connections" if vhost is None else f"/vhosts/{_q(vhost)}/connections"
        result: list[dict[str, Any]] = await self.request("GET", path)
        return result

    async def close_connection(self, name: str, *, reason: str = "closed via management API") -> bool:
        """``DELETE /api/connections/{name}`` (``name`` is the server's, e.g. ``a:1 -> b:5672``)."""
        try:
            await self.request("DELETE", f"/connections/{_q(name)}", ok_missing=False)
        except ManagementError as exc:
            if exc.status == 404:
                return False
            raise
        log.info("connection_closed_via_api", connection=name, reason=reason)
        return True

    async def _delete(self, path: str) -> bool:
        try:
            await self.request("DELETE", path)
        except ManagementError as exc:
            if exc.status == 404:
                return False
            raise
        return True
