"""The silent-link rule of the AMQP transport (issue 19), with aiormq's internals faked: when it drops the
publishing connection, and that it does so at most once per ``max(heartbeat, publish_timeout)``."""

from __future__ import annotations

import asyncio

import pytest

from hub.transport import amqp_publish
from hub.transport.amqp import AmqpTransport
from hub.transport.amqp_connection import link_is_silent
from hub.transport.topology import default_topology


def test_the_rule_needs_an_overdue_confirm_with_no_frame_since_and_1_5_heartbeats_of_silence() -> None:
    assert link_is_silent(now=17.5, last_frame_at=10.0, overdue_at=15.0, heartbeat=5)
    assert not link_is_silent(now=17.4, last_frame_at=10.0, overdue_at=15.0, heartbeat=5)  # 7.4 s silent
    assert not link_is_silent(now=30.0, last_frame_at=16.0, overdue_at=15.0, heartbeat=5)  # a frame since


async def test_a_silent_link_is_dropped_at_most_once_per_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    transport = AmqpTransport("amqp://guest:guest@127.0.0.1:1/v", default_topology("t"), heartbeat=5)
    transport._pub_conn = object()  # type: ignore[assignment]
    dropped: list[float] = []
    last_frame = [loop.time() - 100.0]  # silent for long
    monkeypatch.setattr(amqp_publish, "is_connected", lambda _c: True)
    monkeypatch.setattr(amqp_publish, "last_frame_at", lambda _c: last_frame[0])
    monkeypatch.setattr(amqp_publish, "drop_connection", lambda _c: dropped.append(loop.time()) or True)

    transport._abandon_if_silent()
    assert dropped == []  # nothing overdue: silence alone (an idle link) is aiormq's business
    transport._confirm_overdue()
    assert len(dropped) == 1
    for _ in range(5):  # the "reconnected" link is silent again at once: not dropped again yet
        transport._confirm_overdue()
        transport._abandon_if_silent()
    assert len(dropped) == 1
    transport._abandoned_at -= 10.0  # the interval (max(5, 10) s) has passed
    transport._confirm_overdue()
    assert len(dropped) == 2
    last_frame[0] = loop.time() + 1.0  # a frame after the timeout: a live link, slow broker
    transport._abandoned_at -= 10.0
    transport._confirm_overdue()
    assert len(dropped) == 2
