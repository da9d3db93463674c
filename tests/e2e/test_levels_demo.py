"""Three levels on the real broker, each its own vhost joined by the rendered shovels (the demo's layout)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.demo.levels import render_report, run_levels
from hub.demo.levels_broker import fresh_vhosts, shovel_switch
from hub.demo.levels_plan import LevelNode, single_broker_layout
from hub.settings import Settings
from hub.transport.management import ManagementClient

MANAGEMENT = "http://guest:guest@127.0.0.1:15672"
BROKER = "amqp://guest:guest@127.0.0.1:5672"

pytestmark = [pytest.mark.broker, pytest.mark.e2e]


@pytest.fixture
async def layout() -> AsyncIterator[list[LevelNode]]:
    nodes = single_broker_layout(BROKER, MANAGEMENT, f"simpul-lv-{uuid.uuid4().hex[:6]}")
    await fresh_vhosts(nodes)
    try:
        yield nodes
    finally:
        async with ManagementClient(MANAGEMENT) as api:
            for n in nodes:
                await api.delete_vhost(n.vhost)


async def test_three_levels_with_the_link_cut(layout: list[LevelNode], tmp_path: Path) -> None:
    """Everything forwarded reaches pusat once with the hops of its path; held records stay at their
    level; while the province's link is cut, records wait in the province's broker."""
    cut, restore = shovel_switch(next(n for n in layout if n.level == "provinsi"))
    report = await run_levels(
        layout, tmp_path, per_office=30, timeout=60, cut=cut, restore=restore, say=lambda _: None
    )
    assert report.ok, render_report(report, layout)
    assert report.planned_pusat == report.applied == 2 * (30 + 1) + 1
    assert report.held == {"jabar": (2, 2), "kab-bogor": (2, 2), "kota-bandung": (2, 2)}
    assert report.waited_in_parent_broker > 0
    assert report.duplicates_applied == 0


async def test_a_link_never_restored_fails_the_check(layout: list[LevelNode], tmp_path: Path) -> None:
    """The check is not a formality: with the province's link left down, pusat misses the second half."""
    cut, _restore = shovel_switch(next(n for n in layout if n.level == "provinsi"))

    async def stay_down(_settings: dict[str, Settings]) -> None:
        return None

    report = await run_levels(
        layout, tmp_path, per_office=10, timeout=3, cut=cut, restore=stay_down, say=lambda _: None
    )
    assert not report.ok
    assert report.missing and report.applied < report.planned_pusat
    assert "FAIL" in render_report(report, layout)
