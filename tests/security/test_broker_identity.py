"""Per-office broker users on the real RabbitMQ: what the broker refuses, and what the consumer catches.

Each test makes office users (unique names, permissions only in the test's own vhost, deleted afterwards)
the way ``simpul topology render`` does for role ``source``: write to the ingest exchange only, no
configure, no read, topic permission on the office's own routing keys (``office_routing_regex``). A node
(signatures and users required) consumes; the users publish with aio-pika as a regional system would.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aio_pika
import aiormq
import orjson
import pytest

from hub.levels.render import office_routing_regex
from hub.model.router import routing_key
from hub.node import Node
from hub.transport.management import ManagementClient, ManagementError
from hub.trust.keys import RegistryModel, write_registry
from hub.trust.signing import Signer
from tests.helpers import connect_or_close, make_envelope, node_settings, until
from tests.integration.conftest import AMQP_BASE

pytestmark = pytest.mark.broker


@dataclass
class Office:
    user: str
    password: str
    office: str

    def url(self, vhost: str) -> str:
        host = AMQP_BASE.split("@", 1)[1]
        return f"amqp://{self.user}:{self.password}@{host}/{quote(vhost, safe='')}"


@dataclass
class World:
    node: Node
    vhost: str
    offices: dict[str, Office]
    api: ManagementClient


@pytest.fixture
async def world(
    tmp_path: Path, broker_vhost: str, amqp_url: str, management_url: str, management: ManagementClient
) -> AsyncIterator[World]:
    tag = uuid.uuid4().hex[:8]
    offices = {o: Office(f"simpul-test-{tag}-{o}", uuid.uuid4().hex, o) for o in ("32.01", "33.01")}
    registry = tmp_path / "keys.json"
    write_registry(registry, RegistryModel(users={u.user: u.office for u in offices.values()}))
    settings = node_settings(
        tmp_path,
        broker={"url": amqp_url, "management_url": management_url},
        trust={"require_signatures": True, "require_user": True, "registry_path": str(registry)},
    )
    node = Node(settings)
    await node.start()
    exchange = node.topology.ingest_exchange
    try:
        for o in offices.values():
            await management.request("PUT", f"/users/{o.user}", json={"password": o.password, "tags": ""})
            await management.set_permissions(
                broker_vhost, o.user, configure="^$", write=f"^{re.escape(exchange)}$", read="^$"
            )
            await management.set_topic_permissions(
                broker_vhost, o.user, exchange=exchange, write=office_routing_regex(o.office), read="^$"
            )
        yield World(node, broker_vhost, offices, management)
    finally:
        await node.stop()
        for o in offices.values():
            with contextlib.suppress(ManagementError):
                await management.request("DELETE", f"/users/{o.user}")


def body_of(data: dict[str, Any]) -> bytes:
    return b"[" + orjson.dumps(data) + b"]"


def envelope(
    rid: str, *, office: str = "32.01", kode: str = "32.01", key_office: str | None = "32.01"
) -> dict[str, Any]:
    """A signed (by ``key_office``'s dev key) conflict_incident envelope stamped now."""
    at = datetime.now(UTC)
    env = make_envelope("conflict_incident", rid=rid, office=office, kode=kode)
    data = env.model_copy(update={"received_at": at, "reported_at": at}).model_dump(mode="json")
    if key_office is not None:
        data["signature"] = Signer.development(key_office).sign(data)
    return data


async def publish_as(
    w: World,
    who: str,
    data: dict[str, Any],
    *,
    key: str | None = None,
    exchange: str | None = None,
    **props: Any,
) -> None:
    """Publish one batch body as office user ``who``, with confirms (raises what the broker refuses).

    The message carries ``user_id`` = the login user unless ``props`` says otherwise: RabbitMQ validates
    the property but does not add it, so Simpul requires every publisher to set it."""
    o = w.offices[who]
    props.setdefault("user_id", o.user)
    if props["user_id"] is None:
        del props["user_id"]
    connection = await aio_pika.connect(o.url(w.vhost))
    try:
        channel = await connection.channel(publisher_confirms=True)
        target = (
            channel.default_exchange
            if exchange == ""
            else await channel.get_exchange(exchange or w.node.topology.ingest_exchange, ensure=False)
        )
        rk = key or routing_key(data["schema_name"], 1, data["kode_wilayah"])
        message = aio_pika.Message(body_of(data), message_id=data["message_id"], delivery_mode=2, **props)
        await asyncio.wait_for(target.publish(message, routing_key=rk), 10)
    finally:
        await connection.close()


async def refused(coro: Any, code: str) -> None:
    with pytest.raises((aiormq.exceptions.AMQPError, aio_pika.exceptions.AMQPException)) as info:
        await coro
    assert code in repr(info.value), repr(info.value)


def reasons(node: Node) -> dict[str, int]:
    return node.quarantine_store.counts_by_reason()


def applied(node: Node) -> int:
    sink = node.sink
    assert sink is not None
    return int(sum(sink.store.delivery_counts().values()))  # type: ignore[attr-defined]


async def test_office_user_publishes_its_own_records(world: World) -> None:
    """Baseline: Bogor's user publishes a Bogor record signed with Bogor's key: applied, evidence accepted."""
    await publish_as(world, "32.01", envelope("OK1"))
    await until(lambda: applied(world.node) == 1, timeout=15)
    assert reasons(world.node) == {}


async def test_cross_region_publish_refused_by_broker(world: World) -> None:
    """Bogor's user publishing under 33.01's routing keys: ACCESS_REFUSED (topic permission)."""
    data = envelope("X1", office="33.01", kode="33.01", key_office="33.01")
    await refused(publish_as(world, "32.01", data), "ACCESS_REFUSED")
    await refused(
        publish_as(world, "32.01", envelope("X2"), key="conflict_incident.v1.32.011"), "ACCESS_REFUSED"
    )


async def test_missing_user_id_is_identity_mismatch(world: World) -> None:
    """A publisher that leaves out user_id (the broker then validates nothing) is quarantined."""
    await publish_as(world, "32.01", envelope("M1"), user_id=None)
    await until(lambda: reasons(world.node).get("identity_mismatch") == 1, timeout=15)
    assert applied(world.node) == 0


async def test_forged_user_id_refused_by_broker(world: World) -> None:
    """A user_id property naming another user: PRECONDITION_FAILED."""
    o = world.offices["33.01"]
    await refused(publish_as(world, "32.01", envelope("F1"), user_id=o.user), "PRECONDITION_FAILED")


async def test_over_broad_rights_refused(world: World) -> None:
    """No declare, no get/consume, no default exchange for an office user."""
    o = world.offices["32.01"]
    connection = await aio_pika.connect(o.url(world.vhost))
    try:
        channel = await connection.channel()
        await refused(channel.declare_queue("rogue", durable=True), "ACCESS_REFUSED")
        channel = await connection.channel()
        queue = await channel.get_queue(world.node.topology.central_queue, ensure=False)
        await refused(queue.get(no_ack=False, fail=False), "ACCESS_REFUSED")
        channel = await connection.channel()
        await refused(channel.declare_exchange("rogue.x", aio_pika.ExchangeType.TOPIC), "ACCESS_REFUSED")
    finally:
        await connection.close()
    await refused(
        publish_as(world, "32.01", envelope("D1"), exchange="", key=world.node.topology.central_queue),
        "ACCESS_REFUSED",
    )


async def test_envelope_claiming_a_wider_office_is_identity_mismatch(world: World) -> None:
    """Bogor's user, an allowed key, but an envelope from office 32 signed by 32's key: quarantined."""
    await publish_as(world, "32.01", envelope("W1", office="32", kode="32.01", key_office="32"))
    await until(lambda: reasons(world.node).get("identity_mismatch") == 1, timeout=15)
    assert applied(world.node) == 0


async def test_signing_key_of_another_region_is_identity_mismatch(world: World) -> None:
    """Bogor's user and office, but signed with Kab. Cilacap's (33.01) key: quarantined."""
    await publish_as(world, "32.01", envelope("K1", key_office="33.01"))
    await until(lambda: reasons(world.node).get("identity_mismatch") == 1, timeout=15)
    assert applied(world.node) == 0


async def test_tampered_and_unsigned_from_a_valid_user(world: World) -> None:
    """A valid office user cannot slip in unsigned or altered records."""
    await publish_as(world, "32.01", envelope("U1", key_office=None))
    tampered = envelope("T1")
    tampered["revision"] = 99
    await publish_as(world, "32.01", tampered)
    await until(lambda: reasons(world.node) == {"signature_missing": 1, "signature_invalid": 1}, timeout=15)
    assert applied(world.node) == 0


async def test_revoked_user(world: World) -> None:
    """A deleted (revoked) broker user can no longer connect; a user whose permissions were cleared can no
    longer publish."""
    o = world.offices["33.01"]
    await world.api.request("DELETE", f"/users/{o.user}")
    with pytest.raises((aio_pika.exceptions.AMQPException, aiormq.exceptions.AMQPError, ConnectionError)):
        await connect_or_close(o.url(world.vhost))
    bogor = world.offices["32.01"]
    await world.api.request("DELETE", f"/permissions/{quote(world.vhost, safe='')}/{bogor.user}")
    with pytest.raises((aio_pika.exceptions.AMQPException, aiormq.exceptions.AMQPError, ConnectionError)):
        await publish_as(world, "32.01", envelope("R1"))
