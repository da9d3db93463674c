"""Topology as code against a real, separate RabbitMQ node: the example configs' rendered definitions are
loaded with ``rabbitmqctl import_definitions`` and with ``simpul topology apply``, then read back, and the
permissions are shown to bite.

The node (``simpul-topo@localhost``, AMQP 5692, management 15694, shovel plugin on) is started by
``ops/scripts/rabbit-node.sh`` for this module and wiped at the end. The three example levels share it as
three vhosts (``simpul-kab-bogor``, ``simpul-jabar``, ``/``) joined by the rendered shovels: the configs are
the examples with the ports swapped, nothing else.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import aiormq.exceptions
import pytest

from hub.levels.apply import verify_definitions
from hub.settings import load_settings
from hub.transport.amqp import AmqpTransport
from hub.transport.factory import topology_for
from hub.transport.management import ManagementClient
from tests.rabbit_node import SHOVEL_PLUGINS, BrokerNode

pytestmark = [pytest.mark.broker]

ROOT = Path(__file__).resolve().parents[3]
AMQP_PORT, MGMT_PORT, DIST_PORT = 5692, 15694, 25692
NODE = BrokerNode("topo", AMQP_PORT, MGMT_PORT, DIST_PORT, SHOVEL_PLUGINS)
NODE_DIR = NODE.folder
MGMT = f"http://guest:guest@127.0.0.1:{MGMT_PORT}"
LEVELS = ("pusat", "provinsi", "kabkota")  # parents first: each shovel finds its parent's user in place


def _amqp(user: str, password: str, vhost: str) -> str:
    return f"amqp://{user}:{password}@127.0.0.1:{AMQP_PORT}/{vhost.replace('/', '%2F')}"


def rabbit(*args: str) -> str:
    return NODE.run(*args)


def simpul(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli.root", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


@dataclass
class Loaded:
    configs: dict[str, Path]
    definitions: dict[str, dict[str, Any]]
    imported: dict[str, str]  # level -> what rabbitmqctl printed


def _node_readable(path: Path) -> None:
    # The node's CLI runs as the rabbitmq user when we are root (rabbit-node.sh does that).
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("rabbitmq")
        except KeyError:
            return
        shutil.chown(path, "rabbitmq", "rabbitmq")


async def _wait_verified(definitions: dict[str, Any], timeout: float = 30.0) -> list[Any]:
    """import_definitions returns before the import is done: poll until every entity reads back ok."""
    async with ManagementClient(MGMT) as api:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            checks = await verify_definitions(api, definitions, shovel_wait_s=0)
            if all(c.status == "ok" for c in checks) or asyncio.get_running_loop().time() > deadline:
                return checks
            await asyncio.sleep(0.5)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """The node, started; each example config rendered by the CLI and imported with rabbitmqctl."""
    work = tmp_path_factory.mktemp("topology")
    rabbit("wipe")
    try:
        rabbit("start")
        defs_dir = NODE_DIR / "definitions"
        defs_dir.mkdir()
        _node_readable(defs_dir)
        configs: dict[str, Path] = {}
        definitions: dict[str, dict[str, Any]] = {}
        imported: dict[str, str] = {}
        for level in LEVELS:
            text = (ROOT / "ops" / "config" / f"{level}.example.toml").read_text(encoding="utf-8")
            text = text.replace("127.0.0.1:5672/", f"127.0.0.1:{AMQP_PORT}/")
            text = text.replace("127.0.0.1:15672", f"127.0.0.1:{MGMT_PORT}")
            text = text.replace('state_dir = "var/', f'state_dir = "{work}/')
            configs[level] = work / f"{level}.toml"
            configs[level].write_text(text, encoding="utf-8")
            out = defs_dir / f"{level}.json"
            rendered = simpul("topology", "render", "--config", str(configs[level]), "--out", str(out))
            assert rendered.returncode == 0, rendered.stderr
            definitions[level] = json.loads(out.read_text(encoding="utf-8"))
            _node_readable(out)
            imported[level] = rabbit("ctl", "import_definitions", str(out))
        for level in LEVELS:
            checks = asyncio.run(_wait_verified(definitions[level]))
            assert [c for c in checks if c.status != "ok"] == [], level
        yield Loaded(configs, definitions, imported)
    finally:
        rabbit("wipe")


async def test_imported_definitions_read_back(loaded: Loaded) -> None:
    """Queues of the right type with the hub's policy in effect, the feed a stream, policies, users,
    permissions, topic permissions and running shovels, as the management API reports them."""
    assert all("Successfully started definition import" in out for out in loaded.imported.values())
    async with ManagementClient(MGMT) as api:
        kab = {q["name"]: q for q in await api.list_queues("simpul-kab-bogor", stats=False)}
        assert {n: q["type"] for n, q in kab.items()} == {
            n: "quorum"
            for n in (
                "simpul.central",
                "simpul.quarantine",
                "simpul.dead",
                "simpul.forward",
                "simpul.uplink",
                "simpul.held",
            )
        }
        assert kab["simpul.forward"]["policy"] == "simpul-work-queues"
        assert kab["simpul.uplink"].get("policy") in (None, "")  # a shovel must never dead-letter
        pusat = {q["name"]: q for q in await api.list_queues("/", stats=False)}
        assert pusat["simpul.feed"]["type"] == "stream"
        assert pusat["simpul.feed"]["arguments"]["x-max-age"] == "365D"
        policy = await api.get_policy("simpul-jabar", "simpul-work-queues")
        assert policy is not None
        assert policy["definition"] == {
            "dead-letter-exchange": "simpul.dlx",
            "dead-letter-strategy": "at-least-once",
            "overflow": "reject-publish",
            "delivery-limit": 10,
        }
        users = {u["name"]: u for u in await api.request("GET", "/users")}
        assert {
            "kec-cibinong",
            "kec-gunungputri",
            "kab-bogor",
            "kota-bandung",
            "jabar",
            "feed-reader",
        } <= set(users)
        assert users["kec-cibinong"]["tags"] in ([], "")
        perms = await api.request("GET", "/permissions/simpul-kab-bogor/kec-cibinong")
        assert (perms["configure"], perms["write"], perms["read"]) == ("", r"^simpul\.ingest$", "")
        [topic] = await api.request("GET", "/topic-permissions/simpul-jabar/kab-bogor")
        assert topic["exchange"] == "simpul.ingest"
        assert topic["write"] == r"^[a-z0-9_]+\.v[0-9]+\.32\.01(\.[0-9]+)*$"
        shovels = await _running_shovels(api)
        assert shovels == {"simpul-kab-bogor": "running", "simpul-jabar": "running"}


async def _running_shovels(api: ManagementClient, timeout: float = 20.0) -> dict[str, str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        states = {s["vhost"]: s["state"] for s in await api.request("GET", "/shovels")}
        if set(states.values()) == {"running"} or asyncio.get_running_loop().time() > deadline:
            return states
        await asyncio.sleep(0.5)


async def _publish(url: str, exchange: str, key: str, *, user_id: str | None = None) -> None:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        target = await channel.get_exchange(exchange, ensure=False)
        message = aio_pika.Message(b'{"test": true}', user_id=user_id, message_id=key, delivery_mode=2)
        await target.publish(message, routing_key=key, timeout=10)
    finally:
        await connection.close()


async def test_office_user_publishes_only_under_its_region(loaded: Loaded) -> None:
    """kec-cibinong (32.01.01): its own keys are confirmed; another kecamatan's key, another exchange, a queue
    declaration and a read are all refused by the broker (ACCESS_REFUSED closes the channel)."""
    url = _amqp("kec-cibinong", "dev-kec-cibinong-not-secret", "simpul-kab-bogor")
    await _publish(url, "simpul.ingest", "ormas_registration.v1.32.01.01", user_id="kec-cibinong")
    await _publish(url, "simpul.ingest", "ormas_registration.v1.32.01.01.2001", user_id="kec-cibinong")
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused, match=r"32\.01\.02"):
        await _publish(url, "simpul.ingest", "ormas_registration.v1.32.01.02", user_id="kec-cibinong")
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused, match=r"simpul\.upward"):
        await _publish(url, "simpul.upward", "ormas_registration.v1.32.01.01")
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await channel.declare_queue("kec-own-queue", durable=True)
        channel = await connection.channel()
        queue = await channel.get_queue("simpul.central", ensure=False)
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await queue.get(fail=False)
    finally:
        await connection.close()
    # the child's shovel user at the province: 32.01 only, not Kota Bandung's 32.73
    shovel_user = _amqp("kab-bogor", "dev-kab-bogor-not-secret", "simpul-jabar")
    await _publish(shovel_user, "simpul.ingest", "early_warning.v1.32.01.05", user_id="kab-bogor")
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused, match=r"32\.73"):
        await _publish(shovel_user, "simpul.ingest", "early_warning.v1.32.73.01", user_id="kab-bogor")


async def test_shovels_carry_uplink_to_parent_as_the_child_user(loaded: Loaded) -> None:
    """A record in kab-bogor's upward exchange crosses the shovel into the province's ingest with its routing
    key and message id, persistent, stamped with the user the shovel logs in as there."""
    key = "ormas_registration.v1.32.01.03"
    await _publish(_amqp("guest", "guest", "simpul-kab-bogor"), "simpul.upward", key, user_id="guest")
    connection = await aio_pika.connect(_amqp("guest", "guest", "simpul-jabar"))
    try:
        channel = await connection.channel()
        queue = await channel.get_queue("simpul.forward", ensure=False)
        got = None
        deadline = asyncio.get_running_loop().time() + 10
        while got is None and asyncio.get_running_loop().time() < deadline:
            message = await queue.get(fail=False)
            if message is None:
                await asyncio.sleep(0.25)
            elif message.routing_key == key:
                got = message
            else:
                await message.ack()  # another test's record: not ours
        assert got is not None, "nothing crossed the shovel in 10 s"
        assert (got.routing_key, got.message_id, got.user_id) == (key, key, "kab-bogor")
        assert got.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        await got.ack()
    finally:
        await connection.close()


async def test_feed_reader_reads_the_stream_and_nothing_else(loaded: Loaded) -> None:
    """pusat: what a ministry system publishes lands in the feed stream, which feed-reader consumes from the
    start; feed-reader may not publish."""
    key = "periodic_report.v1.32.73"
    await _publish(
        _amqp("sipks-pusat", "dev-sipks-pusat-not-secret", "/"), "simpul.ingest", key, user_id="sipks-pusat"
    )
    reader = _amqp("feed-reader", "dev-feed-reader-not-secret", "/")
    connection = await aio_pika.connect(reader)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=10)
        stream = await channel.get_queue("simpul.feed", ensure=False)
        keys: asyncio.Queue[str] = asyncio.Queue()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await keys.put(message.routing_key or "")
            await message.ack()

        await stream.consume(on_message, arguments={"x-stream-offset": "first"})
        seen = []
        while key not in seen:
            seen.append(await asyncio.wait_for(keys.get(), timeout=10))
    finally:
        await connection.close()
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        await _publish(reader, "simpul.ingest", key)


def test_apply_cli_creates_a_level_and_is_idempotent(loaded: Loaded, tmp_path: Path) -> None:
    """``simpul topology apply`` re-applies an imported level (no change, all ok) and builds a new one (Kota
    Bandung: the kab/kota example with its name, region, vhost and shovel user changed) whose shovel runs."""
    again = simpul("topology", "apply", "--config", str(loaded.configs["provinsi"]), "--management-url", MGMT)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.rstrip().endswith("0 warnings, 0 failed")
    text = loaded.configs["kabkota"].read_text(encoding="utf-8")
    for old, new in (
        ('node = "kab-bogor"', 'node = "kota-bandung"'),
        ('region = "32.01"', 'region = "32.73"'),
        ("/simpul-kab-bogor", "/simpul-kota-bandung"),
        ("kab-bogor:dev-kab-bogor-not-secret@", "kota-bandung:dev-kota-bandung-not-secret@"),
        ('office = "32.01.01"', 'office = "32.73.01"'),
        ('office = "32.01.02"', 'office = "32.73.02"'),
        ('office = "32.01"', 'office = "32.73"'),
        ('name = "kec-cibinong"', 'name = "kec-sukasari"'),
        ('name = "kec-gunungputri"', 'name = "kec-coblong"'),
    ):
        assert old in text
        text = text.replace(old, new)
    config = tmp_path / "kota-bandung.toml"
    config.write_text(text, encoding="utf-8")
    fresh = simpul("topology", "apply", "--config", str(config), "--management-url", MGMT)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    lines = fresh.stdout.splitlines()
    assert lines[0].split() == ["kind", "name", "status", "detail"]
    assert any(line.startswith("shovel") and " ok " in line and "running" in line for line in lines)
    assert any(line.startswith("topic-permission") and "kec-sukasari" in line for line in lines)
    assert lines[-1].endswith("0 warnings, 0 failed")
    assert "dev-kota-bandung-not-secret" not in fresh.stdout  # no password in the table


def test_apply_with_unreachable_parent_warns_and_keeps_the_shovel(loaded: Loaded, tmp_path: Path) -> None:
    """A parent that does not answer is a warning (exit 0): the shovel exists and keeps retrying, records
    wait in the uplink queue. A refused import is an error (exit 1) whose message carries no password."""
    text = loaded.configs["kabkota"].read_text(encoding="utf-8")
    text = text.replace("/simpul-kab-bogor", "/simpul-kab-orphan").replace(
        f":{AMQP_PORT}/simpul-jabar", ":9/x"
    )
    config = tmp_path / "orphan.toml"
    config.write_text(text, encoding="utf-8")
    done = simpul(
        "topology", "apply", "--config", str(config), "--management-url", MGMT, "--shovel-wait", "2"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [shovel] = [line for line in done.stdout.splitlines() if line.startswith("shovel")]
    assert " warn " in shovel and "records wait in the uplink queue" in shovel
    assert done.stdout.rstrip().endswith("1 warnings, 0 failed")
    wrong = f"http://guest:not-the-password@127.0.0.1:{MGMT_PORT}"
    refused = simpul("topology", "apply", "--config", str(config), "--management-url", wrong)
    assert refused.returncode == 1
    assert "HTTP 401" in refused.stderr and "not-the-password" not in refused.stderr


async def test_a_hub_starts_on_the_applied_topology(loaded: Loaded) -> None:
    """The hub's own start (declare with its arguments, PUT and verify its policies) succeeds on each imported
    vhost with the permissions the hub user was given: topology as code and the running hub agree."""
    for level in LEVELS:
        settings = load_settings(loaded.configs[level])
        transport = AmqpTransport(
            settings.broker.url, topology_for(settings), management_url=settings.broker.management_url
        )
        await transport.start()
        await transport.close()
    async with ManagementClient(MGMT) as api:
        checks = [c for level in LEVELS for c in await verify_definitions(api, loaded.definitions[level])]
    assert [c for c in checks if c.status != "ok"] == []
