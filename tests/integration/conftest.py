"""Fixtures for tests against the real RabbitMQ on 127.0.0.1:5672 (management API on 15672).

Every test gets its own vhost (``simpul-test-<random>``), created through the management API with full
permissions for ``guest`` and deleted afterwards, so tests never see each other's queues, policies or
connections and never touch the shared broker's other vhosts. Run ``ops/scripts/ensure-rabbitmq.sh``
first on a fresh machine.

Also here: :class:`TcpProxy` (``tests.proxy.FaultyLink``), an asyncio TCP proxy that can blackhole
traffic, for faults the shared broker must not suffer (alarms, dead links).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from hub.transport.management import ManagementClient, ManagementError
from tests.cluster_node import cluster, fresh_vhost  # noqa: F401  (the 3-node cluster's fixtures)
from tests.proxy import FaultyLink

MANAGEMENT_URL = os.environ.get("SIMPUL_TEST_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")
AMQP_BASE = os.environ.get("SIMPUL_TEST_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
BROKER_USER = os.environ.get("SIMPUL_TEST_BROKER_USER", "guest")


@pytest.fixture
def management_url() -> str:
    """The management API URL (with credentials) the tests and transports use."""
    return MANAGEMENT_URL


@pytest.fixture
async def management() -> AsyncIterator[ManagementClient]:
    """A management API client; fails the test with a hint if the API does not answer."""
    async with ManagementClient(MANAGEMENT_URL) as api:
        try:
            await api.overview()
        except ManagementError as exc:
            pytest.fail(f"RabbitMQ management API not reachable ({exc}); run ops/scripts/ensure-rabbitmq.sh")
        yield api


@pytest.fixture
async def broker_vhost(management: ManagementClient) -> AsyncIterator[str]:
    """A fresh vhost for this test only, guest allowed everything in it; deleted after the test."""
    vhost = f"simpul-test-{uuid.uuid4().hex[:12]}"
    await management.create_vhost(vhost, description="simpul integration test (safe to delete)")
    try:
        await management.set_permissions(vhost, BROKER_USER)
        yield vhost
    finally:
        with contextlib.suppress(ManagementError):
            await management.delete_vhost(vhost)


@pytest.fixture
def amqp_url(broker_vhost: str) -> str:
    """The AMQP URL of this test's vhost."""
    return f"{AMQP_BASE}/{quote(broker_vhost, safe='')}"


TcpProxy = FaultyLink  # the one test proxy (tests/proxy.py); the integration tests use its blackhole


@pytest.fixture
async def tcp_proxy() -> AsyncIterator[TcpProxy]:
    """A :class:`TcpProxy` in front of the local broker's AMQP port."""
    proxy = TcpProxy()
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
