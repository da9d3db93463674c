"""The demo flow end to end on the real RabbitMQ: offices -> HTTP ingest -> broker -> SQLite warehouse."""

from __future__ import annotations

import uuid

import pytest

from hub.demo.main import run_demo
from hub.transport.management import ManagementClient

pytestmark = [pytest.mark.broker, pytest.mark.e2e]


async def test_demo_applies_every_good_record_once_and_quarantines_every_bad_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A small demo run exits 0, and its summary reports the record-by-record check as passed."""
    vhost = f"simpul-e2e-{uuid.uuid4().hex[:8]}"
    try:
        code = await run_demo(
            offices=6,
            records=60,
            bad_every=7,
            timeout=60,
            vhost=vhost,
            broker_url="amqp://guest:guest@127.0.0.1:5672/",
            management_url="http://guest:guest@127.0.0.1:15672",
        )
        out = capsys.readouterr().out
        assert code == 0, out
        assert "PASS: every good record applied exactly once" in out
        assert "missing/wrong/unexpected  0/0/0" in out
    finally:
        async with ManagementClient("http://guest:guest@127.0.0.1:15672") as mgmt:
            await mgmt.delete_vhost(vhost)
