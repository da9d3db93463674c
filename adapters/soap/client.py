"""One SOAP call over aiohttp, and what its answer means for the runner.

Classification (the runner backs off on ``SourceUnavailable`` and stops the adapter on ``FatalError``):

=====================================================  ==================================================
answer                                                 error
=====================================================  ==================================================
``Server`` / ``Receiver`` fault (any HTTP status)      ``SourceUnavailable``: the service failed
``Client`` / ``Sender`` / other faults                 ``FatalError``: our request or login is wrong
HTTP 5xx, 408, 429 without a fault, timeout, reset     ``SourceUnavailable``
HTTP 401/403/other 4xx without a fault                 ``FatalError``
2xx that is truncated or not a SOAP envelope           ``SourceUnavailable`` (a proxy's error page, a cut
                                                       connection)
XML with DTD entities / external references            ``FatalError`` (refused by defusedxml; won't heal)
response larger than ``max_response_bytes``            ``FatalError`` (lower ``window_days``)
=====================================================  ==================================================

Error messages carry the status, the fault code and the fault text with NIK-like digits and phone
numbers redacted, cut to 160 characters; never the request or response body.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
import structlog

from adapters.soap.config import SoapSourceConfig
from adapters.soap.xml import NotSoap, SoapFault, find_records, parse_envelope, record_of
from hub.errors import FatalError, SourceUnavailable
from schemas.pii import redact_text

log = structlog.get_logger(__name__)

_RETRY_STATUSES = frozenset({408, 429})


def render(template: str, start: date, end: date, date_format: str) -> str:
    """The request envelope for the window ``[start, end)``: ``{start}``, ``{end}`` and ``{last}``
    (``end`` minus a day, for services that take an inclusive range) replaced, XML-escaped."""
    values = {
        "{start}": start.strftime(date_format),
        "{end}": end.strftime(date_format),
        "{last}": (end - timedelta(days=1)).strftime(date_format),
    }
    for placeholder, value in values.items():
        template = template.replace(placeholder, escape(value))
    return template


def _headers(config: SoapSourceConfig) -> dict[str, str]:
    headers = dict(config.headers)
    if config.soap_version == "1.1":
        headers["Content-Type"] = "text/xml; charset=utf-8"
        headers["SOAPAction"] = f'"{config.action}"'
    else:
        action = f'; action="{config.action}"' if config.action else ""
        headers["Content-Type"] = f"application/soap+xml; charset=utf-8{action}"
    return headers


def _fault_error(fault: SoapFault, status: int) -> Exception:
    reason = redact_text(fault.reason)[:160]
    message = f"SOAP fault {fault.code or '(no code)'} (HTTP {status}): {reason}"
    return SourceUnavailable(message) if fault.retriable else FatalError(message)


class SoapClient:
    """Calls the configured operation; ``fetch(start, end)`` returns the records of one window."""

    def __init__(self, config: SoapSourceConfig, session: aiohttp.ClientSession) -> None:
        self._config = config
        self._session = session
        self._template = config.template()
        self._auth = (
            aiohttp.BasicAuth(config.username, config.password.get_secret_value() if config.password else "")
            if config.username
            else None
        )

    async def fetch(self, start: date, end: date) -> list[dict[str, Any]]:
        """The records updated in ``[start, end)``, parsed (see ``adapters.soap.xml``)."""
        c = self._config
        envelope = render(self._template, start, end, c.date_format).encode("utf-8")
        began = time.monotonic()
        status, body = await self._post(envelope)
        records = self._records(status, body)
        log.info(
            "soap_window_fetched",
            url=c.url,
            start=start.isoformat(),
            end=end.isoformat(),
            status=status,
            records=len(records),
            bytes=len(body),
            duration_ms=round((time.monotonic() - began) * 1000, 1),
        )
        return records

    async def _post(self, envelope: bytes) -> tuple[int, bytes]:
        c = self._config
        try:
            async with self._session.post(
                c.url,
                data=envelope,
                headers=_headers(c),
                auth=self._auth,
                timeout=aiohttp.ClientTimeout(total=c.timeout_s),
            ) as response:
                if (response.content_length or 0) > c.max_response_bytes:
                    raise FatalError(
                        f"response of {response.content_length} bytes exceeds max_response_bytes; "
                        "lower window_days"
                    )
                body = await response.content.read(c.max_response_bytes + 1)
                if len(body) > c.max_response_bytes:
                    raise FatalError("response exceeds max_response_bytes; lower window_days")
                return response.status, body
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise SourceUnavailable(f"SOAP call to {c.url} failed ({type(exc).__name__})") from None

    def _records(self, status: int, body: bytes) -> list[dict[str, Any]]:
        c = self._config
        try:
            body_el, _version = parse_envelope(body)
        except SoapFault as fault:
            log.warning("soap_fault", url=c.url, status=status, code=fault.code, retriable=fault.retriable)
            raise _fault_error(fault, status) from None
        except NotSoap as exc:
            if exc.forbidden:
                raise FatalError(f"SOAP response refused: {exc}") from None
            raise self._status_error(status, str(exc)) from None
        if status >= 300:
            raise self._status_error(status, "SOAP envelope without a fault")
        elements = find_records(body_el, c.record_steps)
        if elements is None:
            raise FatalError(
                f"response has no <{c.record_steps[0]}> element; check record_path and the operation"
            )
        return [record_of(e, c.list_fields) for e in elements]

    def _status_error(self, status: int, detail: str) -> Exception:
        message = f"HTTP {status} from {self._config.url}: {detail}"
        if status < 300 or status >= 500 or status in _RETRY_STATUSES:
            return SourceUnavailable(message)
        return FatalError(message)
