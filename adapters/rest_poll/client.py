"""HTTP GETs against a regional JSON API: rate limit, timeouts, retries with back-off, error classes.

``JsonClient.get`` returns a parsed ``Page`` or raises:

* ``FatalError`` for 401/403 (the key is wrong or revoked: retrying will not heal it) and for other 4xx
  except 408/429 (the configured path or parameters are wrong);
* ``SourceUnavailable`` once ``retries`` retries of a 5xx, 408, 429, timeout, connection error, truncated
  or invalid JSON, or a body the caller's ``check`` refuses, are used up.

Retries wait ``Backoff`` (exponential, full jitter); a ``Retry-After`` header is a floor under the delay.
Response bodies are never logged: they hold personal data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import structlog
from multidict import CIMultiDictProxy, MultiDictProxy
from yarl import URL

from adapters.rest_poll.config import ApiKeyAuth, BearerAuth, RestPollConfig
from hub.adapters.runner import Backoff
from hub.errors import FatalError, SourceUnavailable

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Page:
    """One parsed response: its URL, JSON body and headers."""

    url: URL
    body: Any
    headers: CIMultiDictProxy[str]
    links: MultiDictProxy[MultiDictProxy[str | URL]]


class RateLimiter:
    """Spaces requests at least ``1 / per_s`` apart (retries included); ``None`` means no limit."""

    def __init__(self, per_s: float | None) -> None:
        self._interval = 1.0 / per_s if per_s else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        if self._next > now:
            await asyncio.sleep(self._next - now)
            now = self._next
        self._next = now + self._interval


def auth_headers(config: RestPollConfig) -> dict[str, str]:
    """Headers that authenticate every request (secrets resolved now; ``FatalError`` if one is unset)."""
    auth = config.auth
    if isinstance(auth, ApiKeyAuth):
        return {auth.header: auth.resolve()}
    if isinstance(auth, BearerAuth):
        return {"Authorization": f"Bearer {auth.resolve()}"}
    return {}


class _Retry(Exception):
    """One failed attempt worth retrying; ``floor_s`` is the server's Retry-After, if any."""

    def __init__(self, reason: str, floor_s: float = 0.0) -> None:
        super().__init__(reason)
        self.floor_s = floor_s


class JsonClient:
    """One source's HTTP session. ``start`` before ``get``; ``close`` at the end."""

    def __init__(self, config: RestPollConfig, adapter: str) -> None:
        self._config = config
        self._adapter = adapter
        self._limiter = RateLimiter(config.rate_limit_per_s)
        self._backoff = Backoff(config.backoff_base_s, config.backoff_cap_s)
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0

    async def start(self) -> None:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(
                total=self._config.timeout_s, connect=self._config.connect_timeout_s
            )
            headers = {"Accept": "application/json", **auth_headers(self._config)}
            self._session = aiohttp.ClientSession(timeout=timeout, headers=headers)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(
        self, url: URL, params: Mapping[str, str] | None = None, check: Callable[[Any], None] | None = None
    ) -> Page:
        """GET ``url`` (with ``params``) and parse JSON, retrying as the module docstring says.

        ``check(body)`` may raise ``SourceUnavailable`` for a well-formed but failed answer (legacy
        ``status: false``); it is retried like a 5xx.
        """
        attempts = self._config.retries + 1
        for attempt in range(attempts):
            try:
                page = await self._attempt(url, params)
                if check is not None:
                    check(page.body)
                return page
            except SourceUnavailable as exc:
                failure = _Retry(str(exc))
            except _Retry as exc:
                failure = exc
            if attempt + 1 == attempts:
                break
            delay = self._backoff.delay(attempt, floor=min(failure.floor_s, self._backoff.cap_s))
            log.warning(
                "poll_request_retry",
                adapter=self._adapter,
                path=url.path,
                reason=str(failure),
                attempt=attempt + 1,
                delay_s=round(delay, 3),
            )
            await asyncio.sleep(delay)
        raise SourceUnavailable(f"GET {url.path} failed {attempts} times; last: {failure}")

    async def _attempt(self, url: URL, params: Mapping[str, str] | None) -> Page:
        if self._session is None:
            raise RuntimeError("JsonClient.start() was not called")
        await self._limiter.wait()
        self.requests += 1
        try:
            async with self._session.get(url, params=params, allow_redirects=True) as resp:
                _raise_for_status(resp.status, url, resp.headers.get("Retry-After"))
                body = await self._read_limited(resp)
                try:
                    parsed = orjson.loads(body)
                except orjson.JSONDecodeError as exc:
                    # A PHP process killed mid-echo, or a proxy cutting the body: worth another try.
                    raise _Retry(f"invalid or truncated JSON ({len(body)} bytes, {exc.msg})") from None
                return Page(resp.url, parsed, resp.headers, resp.links)
        except TimeoutError:
            raise _Retry(f"timed out after {self._config.timeout_s} s") from None
        except aiohttp.ClientError as exc:
            raise _Retry(f"{type(exc).__name__}") from None

    async def _read_limited(self, resp: aiohttp.ClientResponse) -> bytes:
        limit = self._config.max_response_bytes
        if resp.content_length is not None and resp.content_length > limit:
            raise FatalError(f"response of {resp.content_length} bytes exceeds max_response_bytes")
        chunks, size = [], 0
        async for chunk in resp.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                raise FatalError(f"response exceeds max_response_bytes ({limit})")
            chunks.append(chunk)
        return b"".join(chunks)


def _raise_for_status(status: int, url: URL, retry_after: str | None) -> None:
    if status < 400:
        return
    if status in (401, 403):
        raise FatalError(f"HTTP {status} from {url.path}: the credentials are refused")
    if status in (408, 429) or status >= 500:
        raise _Retry(f"HTTP {status}", floor_s=_seconds(retry_after))
    raise FatalError(f"HTTP {status} from {url.path}: check base_url, path and params")


def _seconds(retry_after: str | None) -> float:
    try:
        return max(0.0, float(retry_after)) if retry_after else 0.0
    except ValueError:
        return 0.0  # an HTTP date: ignore it, the back-off applies
