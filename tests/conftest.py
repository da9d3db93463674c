"""Fixtures shared by all tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog

from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from tests.helpers import node_settings


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """Each test starts with structlog's defaults (the demo and the CLI configure it process-wide)."""
    yield
    structlog.reset_defaults()


@pytest.fixture
async def memory_node(tmp_path: Path) -> AsyncIterator[Node]:
    """A started node on the in-memory transport, with its HTTP port open."""
    settings = node_settings(tmp_path)
    transport = MemoryTransport(topology_for(settings))
    node = Node(settings, transport=transport)
    await node.start()
    try:
        yield node
    finally:
        await node.stop()
