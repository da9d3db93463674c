"""The links of the RabbitMQ transport: connecting over a cluster's addresses, and what aiormq knows of a
link that aio-pika does not say.

- **A cluster** (:class:`ClusterConnection`, :func:`connect`): given several addresses (``url`` and
  ``urls``, nodes of one RabbitMQ cluster), each connection starts on a shuffled order of them (so hubs
  spread over the nodes), and every reconnect attempt after a loss goes to the *next* address, waiting
  ``reconnect_interval`` between attempts and doubling it (up to 10 s) after each full round of failures
  (not after a round in which every address refused the TCP connection: nothing listened, the broker was
  down or restarting, and it is tried again at the base pause).
  Publishes in flight when the node went away fail with ``BrokerUnavailable`` (their confirms are lost) and
  are republished by the caller; consumers re-subscribe on the new connection, and the topology is
  re-declared there.
- **The link's state** (:func:`is_connected`, :func:`is_blocked`, :func:`last_frame_at`,
  :func:`drop_connection`): read from (or acted on through) aiormq 7's private connection state; each says
  what happens if an aiormq upgrade renames what it reads, and a test fails first. :func:`link_is_silent`
  is the silent-link rule that :mod:`hub.transport.amqp_publish` applies to the publishing connection.
- **No message body in a log** (:func:`install_frame_redaction`): aiormq's frame logging is redacted at
  the source.
- **A vhost the broker refuses** (:func:`refused_the_vhost`) is told apart from a broker that cannot be
  reached: it is a setting to fix, not an outage to wait out.

One of the modules of the hub allowed to import aio-pika, aiormq and pamqp (only ``hub.transport.amqp*``
may); of the hub it imports only ``hub.errors`` and ``amqp_delivery``'s link errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from typing import Any

import aio_pika
import aiormq
import aiormq.abc
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection
from aiormq.exceptions import (
    AuthenticationError,
    ConnectionNotAllowed,
    InvalidFrameError,
    ProbableAuthenticationError,
)
from pamqp.body import ContentBody
from yarl import URL

from hub.errors import BrokerUnavailable, ConfigError
from hub.transport.amqp_delivery import LINK_ERRORS

log = structlog.get_logger("hub.transport.amqp")  # the transport's logger name, as before the split


def is_blocked(connection: AbstractConnection | None) -> bool:
    """True while the broker has sent ``connection.blocked`` and not yet ``connection.unblocked``.

    aiormq 7 tracks this only in a name-mangled ``asyncio.Event`` (set = unblocked) and exposes it solely
    through ``await Connection.ready()``, which waits instead of answering. Reading the event is the one
    way to answer "blocked right now?" without waiting; if a future aiormq renames it, this returns False
    and the publish timeout remains the backstop (``test_blocked_connection_*`` would then fail).
    """
    if connection is None or connection.transport is None:
        return False
    event = getattr(connection.transport.connection, "_Connection__connection_unblocked", None)
    return isinstance(event, asyncio.Event) and not event.is_set()


class _RedactFrames(logging.Filter):
    """Replace message bodies (and frames carrying them) in aiormq's log arguments with a type note.

    aiormq logs whole frames at DEBUG ("Received frame ...", "Prepare to send ...") and, at WARNING, a
    frame sent after close; a content-body frame is the message body (personal data). Simpul never logs
    bodies, so the arguments are redacted at the source whatever the logging configuration.
    """

    _types = (bytes, bytearray, memoryview, ContentBody, aiormq.abc.ChannelFrame, aiormq.abc.DeliveredMessage)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, self._types) for a in args):
            record.args = tuple(
                f"<{type(a).__name__} redacted>" if isinstance(a, self._types) else a for a in args
            )
        return True


def refused_the_vhost(exc: BaseException) -> bool:
    """Whether a connect failed because the broker answered ``Connection.Open`` with ``Connection.Close``:
    NOT_ALLOWED (530), the vhost is unknown, the user has no access to it, or its connection limit is
    reached. All are settings on one side or the other, not a link that is down.

    aiormq 7 reports that answer as ``InvalidFrameError`` ("Expected one of ['Connection.OpenOk'], got
    <Connection.Close ...>": ``Connection.Close`` is not among the answers it expects to ``Open``, so the
    reply code and text are lost before its own 530 mapping is reached); ``ConnectionNotAllowed`` is what
    it would raise if that were fixed. ``test_an_unknown_vhost_is_a_setting_not_an_outage`` pins this
    against the real broker."""
    if isinstance(exc, ConnectionNotAllowed):
        return True
    return isinstance(exc, InvalidFrameError) and "Connection.Close" in str(exc)


def install_frame_redaction() -> None:
    """Add the redacting filter to aiormq's frame-logging loggers (once; calling again adds nothing)."""
    for name in ("aiormq.connection", "aiormq.connection.marshall", "aiormq.channel"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactFrames) for f in logger.filters):
            logger.addFilter(_RedactFrames())


def last_frame_at(connection: AbstractConnection | None) -> float | None:
    """Loop time of the last frame aiormq read on ``connection`` (any frame: a confirm, a heartbeat), or
    None if unknown.

    aiormq 7 keeps it only in a name-mangled attribute, for its own stuck-connection check; if a future
    aiormq renames it this returns None and the silent-link rule stays off (aiormq's heartbeat remains;
    ``test_aiormq_still_exposes_what_the_silent_link_rule_reads`` would then fail).
    """
    if connection is None or connection.transport is None:
        return None
    value = getattr(connection.transport.connection, "_Connection__last_frame_time", None)
    return value if isinstance(value, float) else None


# A live RabbitMQ connection carries a frame at least every ~heartbeat s: the broker checks every
# heartbeat/2 s whether it sent anything since the last check and sends a heartbeat if not, so two checks
# (~heartbeat s) is its longest silence. 1.5x leaves room for timer and event-loop jitter (measured: a link
# delaying every chunk 1.5 s showed 2.0 s gaps at heartbeat 2).
_SILENCE_HEARTBEATS = 1.5


def link_is_silent(*, now: float, last_frame_at: float, overdue_at: float, heartbeat: float) -> bool:
    """The silent-link rule (see :mod:`hub.transport.amqp_publish`): a confirm went overdue at
    ``overdue_at`` with no frame read since then, and none for ``_SILENCE_HEARTBEATS`` heartbeats."""
    return last_frame_at <= overdue_at and now - last_frame_at >= heartbeat * _SILENCE_HEARTBEATS


def drop_connection(connection: AbstractConnection) -> bool:
    """Drop ``connection``'s link the way aiormq drops a stuck one: mark it stuck (so its writer aborts the
    socket instead of sending ``Connection.Close`` and waiting for a flush that a dead link never does)
    and stop its reader; the robust connection then reconnects. False if aiormq's internals are not as
    expected (nothing is done then)."""
    transport = connection.transport
    if transport is None:
        return False
    inner = transport.connection
    reader = getattr(inner, "_reader_task", None)  # an aiormq TaskWrapper around an asyncio.Task
    if not callable(getattr(reader, "cancel", None)) or last_frame_at(connection) is None:
        return False
    grace = getattr(inner, "_Connection__heartbeat_grace_timeout", None)
    if not isinstance(grace, int | float):
        return False
    inner._Connection__last_frame_time = asyncio.get_running_loop().time() - grace - 1.0  # type: ignore[attr-defined]
    reader.cancel()  # type: ignore[union-attr]
    return True


def is_connected(connection: AbstractConnection | None) -> bool:
    """True while ``connection`` is open and its aiormq connection is up (not closed, not reconnecting)."""
    if connection is None or connection.is_closed or not connection.connected.is_set():
        return False
    transport = connection.transport
    return transport is not None and not transport.connection.is_closed


# The longest wait between reconnect rounds once every cluster address has failed in a row.
MAX_RECONNECT_INTERVAL = 10.0


class ClusterConnection(aio_pika.RobustConnection):
    """aio-pika's robust connection (channels restored on reconnect) over several addresses of one cluster.

    ``connect_robust`` knows one URL. This connection starts on ``addresses[start]`` and moves to the next
    address before every reconnect attempt; after each full round of failed attempts the pause between
    attempts doubles, up to ``MAX_RECONNECT_INTERVAL``, and a successful connect resets it.

    A round in which every address refused the TCP connection (nothing listens there: the broker is down
    or restarting) keeps the pause as it is: such an attempt costs the broker nothing, and the connection
    is back within one pause (1 s by default) of the broker's port opening, where a pause doubled during
    a restart of a few seconds had it wait up to 10 s more (the fault suite's graceful broker restart:
    recovery 7-9 s). Any attempt that reached a broker (refused by it, reset, timed out) doubles it, so a
    struggling broker is not pressed.
    """

    def __init__(self, addresses: Sequence[URL], start: int, **kwargs: Any) -> None:
        self.addresses = list(addresses)
        self._at = start
        self._failures = 0
        self._round_refused = True  # every failure of the current round was a refused TCP connection
        super().__init__(self.addresses[start], **kwargs)
        self._base_interval: float = self.reconnect_interval

    # aio-pika's RobustConnection runs its private ``__connect_transport`` for every (re)connect attempt and
    # offers no other hook before one; the name-mangled override is the seam (test_amqp_cluster checks it).
    async def _RobustConnection__connect_transport(self) -> None:
        if self.connection_attempt or self._failures:
            self._at = (self._at + 1) % len(self.addresses)
            self.url = self.addresses[self._at]
        try:
            await super()._RobustConnection__connect_transport()  # type: ignore[misc]
        except BaseException as exc:
            self._failures += 1
            self._round_refused = self._round_refused and _nothing_listens(exc)
            if self._failures % len(self.addresses) == 0:
                if not self._round_refused:
                    self.reconnect_interval = min(self.reconnect_interval * 2, MAX_RECONNECT_INTERVAL)
                self._round_refused = True
            raise
        self._failures = 0
        self._round_refused = True
        self.reconnect_interval = self._base_interval

    @property
    def address(self) -> str:
        """``host:port`` of the address this connection uses (or tries) now."""
        return f"{self.url.host}:{self.url.port}"


def _nothing_listens(exc: BaseException) -> bool:
    """Whether a connect failed because the address refused the TCP connection (aiormq wraps the
    ``ConnectionRefusedError`` in its ``AMQPConnectionError``)."""
    return isinstance(exc, ConnectionRefusedError) or isinstance(exc.__cause__, ConnectionRefusedError)


async def connect(
    urls: Sequence[URL], *, name: str, heartbeat: int, reconnect_interval: float, timeout: float, vhost: str
) -> ClusterConnection:
    """Connect to the first of ``urls`` that answers, in a shuffled order (hubs spread over a cluster), as
    the connection ``name`` operators see. Raises :class:`~hub.errors.ConfigError` when the broker refuses
    the login, or every address refuses the vhost (:func:`refused_the_vhost`), and
    :class:`~hub.errors.BrokerUnavailable` when no address answers. A connection that did
    not open is closed whatever the reason (refused, unreachable, cancelled): left to the garbage
    collector, aio-pika's ``Connection.__del__`` schedules its ``close()`` from whichever thread the
    collector runs in, and in one without an event loop that coroutine is never awaited."""
    addresses = [
        u.update_query(
            heartbeat=str(heartbeat),
            name=name,
            reconnect_interval=f"{reconnect_interval:g}",
        )
        for u in urls
    ]
    order = random.sample(range(len(addresses)), len(addresses))
    failure = ""
    refusals = 0  # addresses that answered but refused the vhost
    for start in order:
        connection = ClusterConnection(addresses, start, loop=asyncio.get_running_loop())
        try:
            await connection.connect(timeout=timeout)
        except (AuthenticationError, ProbableAuthenticationError):
            await close_connection_quietly(connection)
            raise ConfigError(
                "broker refused the login (wrong user name or password)",
                key="broker_url",
            ) from None
        except LINK_ERRORS as exc:  # AMQPConnectionError is an AMQPError
            await close_connection_quietly(connection)
            failure = type(exc).__name__
            refusals += refused_the_vhost(exc)
            if len(addresses) > 1:
                log.warning("broker_address_unreachable", address=connection.address, error=failure)
            continue
        except BaseException:
            # Cancelled (the caller's own timeout) or anything else: close it all the same. A robust
            # connection keeps its reconnect task running after a cancelled connect, retrying (and, once
            # an address answers, holding a connection open) with nobody to close it.
            await close_connection_quietly(connection)
            raise
        log.info("broker_connected", connection=name, vhost=vhost, address=connection.address)
        return connection
    if refusals == len(addresses):  # one node refusing may be that node's trouble; all of them, a setting
        raise ConfigError(
            "broker refused the vhost (unknown vhost, no access to it for this user, or its connection "
            "limit reached)",
            key="broker_url",
        )
    raise BrokerUnavailable(f"cannot connect to the broker ({failure})")


def address_of(connection: AbstractConnection | None) -> str | None:
    """``host:port`` a cluster connection uses (or tries) now; None for no connection or another kind."""
    return connection.address if isinstance(connection, ClusterConnection) else None


async def close_connection_quietly(connection: AbstractConnection) -> None:
    """Close ``connection`` within 5 s, ignoring a link that is already gone; also one that never opened
    (a robust one's reconnect task is stopped)."""
    with contextlib.suppress(*LINK_ERRORS, RuntimeError):
        await asyncio.wait_for(connection.close(), timeout=5)


async def close_quietly(channel: AbstractChannel) -> None:
    """Close ``channel`` within 5 s, ignoring a link that is already gone (a robust channel is closed even
    when it looks closed, so that aio-pika does not restore it)."""
    if channel.is_closed and not isinstance(channel, aio_pika.RobustChannel):
        return
    with contextlib.suppress(*LINK_ERRORS, RuntimeError):
        await asyncio.wait_for(channel.close(), timeout=5)
