"""The webhook source: signatures, dedupe, 202 only after the broker confirm, 503 under trouble, limits."""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import structlog
from pydantic import ValidationError

from adapters.webhook import PLUGIN, WebhookConfig, WebhookSource
from adapters.webhook.intake import Intake, IntakeClosed, IntakeFull
from adapters.webhook.signature import sign, verify
from adapters.webhook.simulator import EarlyWarningApp
from hub.adapters import registry
from hub.adapters.model import AdapterContext
from hub.adapters.runner import Backoff
from hub.adapters.state import StateStore
from hub.errors import FatalError
from hub.metrics import Metrics
from hub.model.records import SourceRecord
from hub.node import Node
from hub.testing.fakes import FakeSink
from hub.transport.memory import MemoryTransport
from hub.transport.topology import default_topology
from schemas.envelope import SourceIdentity, make_record_key
from schemas.pii import NIK_PATTERN
from tests.helpers import SAMPLES, node_settings, until

ROOT = Path(__file__).parents[3]
SECRET = b"rahasia-sidini-banggai-2024"
NAME = SYSTEM = "sidini-banggai"
OFFICE = "72.01"


class GatedTransport(MemoryTransport):
    """A memory broker whose confirms wait for ``gate`` (open by default): "the confirm has not come yet"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = asyncio.Event()
        self.gate.set()

    async def publish(self, *args: Any, **kwargs: Any) -> None:
        await self.gate.wait()
        await super().publish(*args, **kwargs)


@dataclass
class Rig:
    """A started node with one webhook source."""

    node: Node
    transport: MemoryTransport
    sink: FakeSink
    source: WebhookSource
    url: str
    http: aiohttp.ClientSession

    async def post(self, body: bytes, event_id: str | None = None, **headers: str) -> tuple[int, Any, Any]:
        """POST ``body`` signed with the right secret (unless headers say otherwise)."""
        sent = {"Content-Type": "application/json", "X-Signature": sign(SECRET, body), **headers}
        if event_id is not None:
            sent["X-Event-Id"] = event_id
        async with self.http.post(self.url, data=body, headers=sent) as resp:
            return resp.status, await resp.json(content_type=None), resp.headers

    def processed(self, event_id: str) -> bool:
        return self.node.source_state.is_processed(NAME, event_id)


def example_mapping() -> dict[str, Any]:
    """The example mapping of the early-warning app (ops/examples/sidini_early_warning.toml)."""
    data = tomllib.loads(
        (ROOT / "ops" / "examples" / "sidini_early_warning.toml").read_text(encoding="utf-8")
    )
    mapping: dict[str, Any] = data["sources"][0]["mapping"]
    return mapping


def events(count: int, seed: int = 3) -> list[tuple[str, bytes]]:
    """Generated events whose ids the schema accepts (see the report: some UUIDs look like a NIK to it)."""
    app = EarlyWarningApp("http://unused", SECRET, seed=seed)
    found: list[tuple[str, bytes]] = []
    while len(found) < count:
        event_id, body = app.event()
        if not NIK_PATTERN.search(event_id):
            found.append((event_id, body))
    return found


@asynccontextmanager
async def rig(
    tmp_path: Path, transport_cls: type[MemoryTransport] = MemoryTransport, **config: Any
) -> AsyncIterator[Rig]:
    """A node on the memory broker + FakeSink running a webhook source on a free port."""
    registry.register(PLUGIN)
    entry = {
        "name": NAME,
        "kind": "webhook",
        "schema": "early_warning",
        "system": SYSTEM,
        "office": OFFICE,
        "config": {"secret": SECRET.decode(), "confirm_timeout_s": 2.0, "retry_after_s": 3, **config},
        "mapping": example_mapping(),
    }
    settings = node_settings(tmp_path, sources=[entry])
    transport = transport_cls(default_topology(settings.broker.prefix))
    sink = FakeSink()
    node = Node(settings, transport=transport, sink=sink)
    await node.start()
    runner = node.runners[0]
    runner._backoff = Backoff(base_s=0.02, cap_s=0.1)
    source = runner._adapter
    assert isinstance(source, WebhookSource)
    await until(lambda: source.port is not None)
    async with aiohttp.ClientSession() as http:
        try:
            yield Rig(node, transport, sink, source, f"http://127.0.0.1:{source.port}/webhook", http)
        finally:
            if isinstance(transport, GatedTransport):
                transport.gate.set()
            await node.stop()


def _key(event_id: str) -> str:
    return make_record_key("early_warning", SYSTEM, event_id)


# --- config, signature, intake ---------------------------------------------------------------------------


def test_config_forbids_extra_keys_describes_every_field_and_needs_one_secret() -> None:
    """Unknown keys fail, every field has a description, and exactly one of secret / secret_env is given."""
    assert WebhookConfig.model_config.get("extra") == "forbid"
    assert all(info.description for info in WebhookConfig.model_fields.values())
    with pytest.raises(ValidationError, match="exactly one"):
        WebhookConfig.model_validate({})
    with pytest.raises(ValidationError, match="exactly one"):
        WebhookConfig.model_validate({"secret": "a", "secret_env": "B"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        WebhookConfig.model_validate({"secret": "a", "prot": 8080})
    assert "rahasia" not in repr(WebhookConfig.model_validate({"secret": "rahasia"}))


def test_signatures_verify_only_the_exact_body_and_secret() -> None:
    """sha256=<hex> over the raw bytes: hex case is ignored; another body, secret or prefix fails."""
    body = b'{"event_id": "e-1"}'
    good = sign(SECRET, body)
    assert good.startswith("sha256=") and verify(SECRET, body, good)
    assert verify(SECRET, body, "SHA256=" + good[7:].upper())
    assert not verify(SECRET, body + b" ", good) and not verify(b"other", body, good)
    assert (
        not verify(SECRET, body, good[7:]) and not verify(SECRET, body, None) and not verify(SECRET, body, "")
    )
    assert not verify(SECRET, body, "sha256=ü" + good[8:])


async def test_intake_is_bounded_hands_out_batches_and_answers_on_close() -> None:
    """The intake bounds pending requests, hands out batches, drops abandoned ones, fails all on close."""
    ident = SourceIdentity(system=SYSTEM, office=OFFICE, adapter=NAME)
    record = SourceRecord("early_warning", {}, ident)
    intake = Intake(max_pending=3)
    first, second, third = (intake.offer(f"e{i}", record) for i in range(3))
    with pytest.raises(IntakeFull):
        intake.offer("e3", record)
    intake.abandon(second)
    assert "e1" not in intake and len(intake) == 2
    batch = await intake.take(5)
    assert batch == [first, third] and all(p.state == "inflight" for p in batch)
    assert not intake.stalled(10.0) and intake.stalled(-1.0)
    intake.abandon(first)  # in flight: stays until its commit
    assert "e0" in intake
    intake.close()
    with pytest.raises(IntakeClosed):
        await first.future
    assert await intake.take(1) is None
    with pytest.raises(IntakeClosed):
        intake.offer("e9", record)


# --- answers ------------------------------------------------------------------------------------------


async def test_a_signed_push_is_answered_202_and_its_record_reaches_the_sink(tmp_path: Path) -> None:
    """A push signed with the shared secret: 202, marked processed, mapped record in the sink."""
    (event_id, body) = events(1)[0]
    async with rig(tmp_path) as r:
        status, answer, _ = await r.post(body, event_id)
        assert (status, answer) == (202, {"status": "accepted", "event_id": event_id})
        assert r.processed(event_id) and len(r.transport.published) == 1
        await until(lambda: _key(event_id) in r.sink.rows)
        env = r.sink.rows[_key(event_id)][2]
        sent = orjson.loads(body)
        assert env.payload["sumber_id"] == event_id and env.payload["judul"] == sent["laporan"]["judul"]
        assert env.kode_wilayah.startswith("72.01") and env.classification.value == "RAHASIA"


async def test_the_sample_push_is_accepted(tmp_path: Path) -> None:
    """The captured sample push (tests/fixtures/samples) verifies, maps and is accepted."""
    sample = orjson.loads((SAMPLES / "webhook_early_warning.json").read_bytes())
    body = orjson.dumps(sample["body"])
    async with rig(tmp_path) as r:
        status, _, _ = await r.post(body, sample["headers"]["X-Event-Id"])
        assert status == 202
        await until(lambda: _key(sample["body"]["event_id"]) in r.sink.rows)


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, "md5=abc", "other-secret", "tampered"],
    ids=["missing", "empty", "zeros", "wrong-prefix", "wrong-secret", "tampered-body"],
)
async def test_a_bad_or_missing_signature_is_401_and_nothing_is_published(
    tmp_path: Path, signature: str | None
) -> None:
    """Each bad signature gets 401, nothing is queued or published, and the body never reaches the logs."""
    (event_id, body) = events(1)[0]
    headers = {"Content-Type": "application/json", "X-Event-Id": event_id}
    if signature == "other-secret":
        headers["X-Signature"] = sign(b"bukan-rahasia", body)
    elif signature == "tampered":
        headers["X-Signature"] = sign(SECRET, body)
        body = body.replace(b"Kec.", b"Kel.")
    elif signature is not None:
        headers["X-Signature"] = signature
    async with rig(tmp_path) as r:
        with structlog.testing.capture_logs() as logs:
            async with r.http.post(r.url, data=body, headers=headers) as resp:
                assert resp.status == 401
                assert (await resp.json())["error"] == "bad_signature"
        assert r.transport.published == [] and r.source.pending == 0 and not r.processed(event_id)
    laporan = orjson.loads(body)["laporan"]
    assert not any(laporan["judul"] in str(entry) or laporan["uraian"] in str(entry) for entry in logs)


async def test_malformed_or_unusable_bodies_are_400(tmp_path: Path) -> None:
    """Signed but not JSON, JSON that is not an object, no event id, or an event id with spaces: 400."""
    async with rig(tmp_path) as r:
        assert (await r.post(b'{"event_id": "x-1", "laporan": {', "x-1"))[1]["error"] == "malformed_json"
        assert (await r.post(b'[{"event_id": "x-2"}]', "x-2"))[1]["error"] == "not_an_object"
        assert (await r.post(b'{"laporan": {}}'))[0] == 400
        assert (await r.post(b'{"event_id": "ada spasi"}'))[1]["error"] == "bad_event_id"
        assert (await r.post(b'{"event_id": "x-3"}', "x" * 129))[1]["error"] == "bad_event_id"
        assert r.transport.published == []


async def test_the_event_id_may_come_from_the_body(tmp_path: Path) -> None:
    """Without the X-Event-Id header the body's event_id is used for dedupe and identity."""
    (event_id, body) = events(1)[0]
    async with rig(tmp_path) as r:
        assert (await r.post(body))[0] == 202
        assert r.processed(event_id)
        assert (await r.post(body))[:2] == (200, {"status": "duplicate", "event_id": event_id})


async def test_oversize_bodies_are_413_with_or_without_a_length(tmp_path: Path) -> None:
    """A body over max_body_bytes gets 413, whether it announces its length or comes chunked."""
    big = orjson.dumps({"event_id": "big-1", "pad": "x" * 5000})
    async with rig(tmp_path, max_body_bytes=4096) as r:
        assert (await r.post(big, "big-1"))[0] == 413

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(big), 1000):
                yield big[start : start + 1000]

        headers = {"X-Event-Id": "big-1", "X-Signature": sign(SECRET, big)}
        async with r.http.post(r.url, data=chunks(), headers=headers) as resp:
            assert resp.status == 413
        assert r.transport.published == []


async def test_an_already_processed_event_is_200_duplicate_also_after_a_restart(tmp_path: Path) -> None:
    """A processed event id gets 200 duplicate, is not republished, and stays processed across a restart."""
    (event_id, body) = events(1)[0]
    async with rig(tmp_path) as r:
        assert (await r.post(body, event_id))[0] == 202
        assert (await r.post(body, event_id))[:2] == (200, {"status": "duplicate", "event_id": event_id})
        assert len(r.transport.published) == 1
    async with rig(tmp_path) as again:
        assert (await again.post(body, event_id))[0] == 200
        assert again.transport.published == []


async def test_no_202_before_the_broker_confirms(tmp_path: Path) -> None:
    """With the confirm held back the request stays unanswered; the 202 comes only after the confirm."""
    (event_id, body) = events(1)[0]
    async with rig(tmp_path, GatedTransport, confirm_timeout_s=5.0) as r:
        assert isinstance(r.transport, GatedTransport)
        r.transport.gate.clear()
        request = asyncio.create_task(r.post(body, event_id))
        await asyncio.sleep(0.4)
        assert not request.done() and r.transport.published == [] and not r.processed(event_id)
        r.transport.gate.set()
        status, _, _ = await request
        assert status == 202 and len(r.transport.published) == 1 and r.processed(event_id)


async def test_the_same_event_while_in_flight_is_409(tmp_path: Path) -> None:
    """A retry racing its original gets 409 + Retry-After; the original still gets its 202."""
    (event_id, body) = events(1)[0]
    async with rig(tmp_path, GatedTransport, confirm_timeout_s=5.0) as r:
        assert isinstance(r.transport, GatedTransport)
        r.transport.gate.clear()
        original = asyncio.create_task(r.post(body, event_id))
        await until(lambda: r.source.pending == 1)
        status, answer, headers = await r.post(body, event_id)
        assert (status, answer["error"], headers["Retry-After"]) == (409, "in_progress", "3")
        r.transport.gate.set()
        assert (await original)[0] == 202 and len(r.transport.published) == 1


async def test_a_broker_that_is_not_ready_gets_503_in_bounded_time_and_never_a_202(tmp_path: Path) -> None:
    """Broker not ready: the node's readiness check gives 503 + Retry-After at once; retries succeed later."""
    (first_id, first), (second_id, second) = events(2)
    async with rig(tmp_path, confirm_timeout_s=0.5) as r:
        r.transport.set_ready(False)
        started = time.monotonic()
        status, answer, headers = await r.post(first, first_id)
        assert (status, answer["error"]) == (503, "not_ready") and int(headers["Retry-After"]) > 0
        assert time.monotonic() - started < 0.3
        started = time.monotonic()
        status, answer, _ = await r.post(second, second_id)
        assert (status, answer["error"]) == (503, "not_ready") and time.monotonic() - started < 0.3
        assert r.transport.published == [] and not r.processed(first_id)
        r.transport.set_ready(True)  # refused pushes were never queued: the sender's retries now go through
        assert (await r.post(first, first_id))[0] == 202
        assert (await r.post(second, second_id))[0] == 202
        assert (await r.post(first, first_id))[0] == 200  # a retry of an accepted event: duplicate
        await until(lambda: len(r.sink.rows) == 2)


async def test_a_full_intake_is_503_busy(tmp_path: Path) -> None:
    """max_pending requests waiting: the next one gets 503 "busy" at once; the waiting ones get 202."""
    sent = events(3)
    async with rig(tmp_path, GatedTransport, max_pending=2, confirm_timeout_s=5.0) as r:
        assert isinstance(r.transport, GatedTransport)
        r.transport.gate.clear()
        waiting = [asyncio.create_task(r.post(body, eid)) for eid, body in sent[:2]]
        await until(lambda: r.source.pending == 2)
        status, answer, headers = await r.post(sent[2][1], sent[2][0])
        assert (status, answer["error"], headers["Retry-After"]) == (503, "busy", "3")
        r.transport.gate.set()
        assert [(await w)[0] for w in waiting] == [202, 202]


async def test_a_node_readiness_check_answers_503_at_once(tmp_path: Path) -> None:
    """With context.ready returning False a push gets 503 "not_ready" without waiting."""
    context = AdapterContext(
        name=NAME,
        schema="early_warning",
        identity=SourceIdentity(system=SYSTEM, office=OFFICE, adapter=NAME),
        state=StateStore(tmp_path / "s.sqlite3"),
        state_dir=tmp_path,
        metrics=Metrics(),
        ready=lambda: False,
    )
    source = WebhookSource(WebhookConfig(secret=SECRET.decode()), context)
    await source.start()
    try:
        (event_id, body) = events(1)[0]
        headers = {"X-Event-Id": event_id, "X-Signature": sign(SECRET, body)}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{source.port}/webhook", data=body, headers=headers) as resp,
        ):
            assert resp.status == 503 and (await resp.json())["error"] == "not_ready"
        assert source.pending == 0
    finally:
        await source.stop()


async def test_stopping_answers_waiting_requests_503(tmp_path: Path) -> None:
    """A request waiting for its confirm when the source stops gets 503 "stopping", not a hang or a 202."""
    (event_id, body) = events(1)[0]
    async with rig(tmp_path, GatedTransport, confirm_timeout_s=5.0) as r:
        assert isinstance(r.transport, GatedTransport)
        r.transport.gate.clear()
        request = asyncio.create_task(r.post(body, event_id))
        await until(lambda: r.source.pending == 1)
        await r.node.restart_source(NAME)
        status, answer, _ = await asyncio.wait_for(request, 3)
        assert (status, answer["error"]) == (503, "stopping") and not r.processed(event_id)


async def test_port_zero_is_discoverable_and_a_taken_port_is_fatal(tmp_path: Path) -> None:
    """Port 0 binds a free port shown in .port; a second source on that port fails with FatalError."""

    def context(name: str) -> AdapterContext:
        ident = SourceIdentity(system=SYSTEM, office=OFFICE, adapter=name)
        return AdapterContext(
            name, "early_warning", ident, StateStore(tmp_path / f"{name}.sqlite3"), tmp_path, Metrics()
        )

    first = WebhookSource(WebhookConfig(secret="a"), context("a"))
    await first.start()
    try:
        assert first.port and first.port > 0
        second = WebhookSource(WebhookConfig(secret="a", port=first.port), context("b"))
        with pytest.raises(FatalError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            await second.start()
    finally:
        await first.stop()


async def test_the_secret_may_come_from_an_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """secret_env names the variable; an unset variable is fatal at start, naming it but not a value."""
    ident = SourceIdentity(system=SYSTEM, office=OFFICE, adapter=NAME)
    context = AdapterContext(
        NAME, "early_warning", ident, StateStore(tmp_path / "s.sqlite3"), tmp_path, Metrics()
    )
    config = WebhookConfig.model_validate({"secret_env": "SIMPUL_TEST_WEBHOOK_SECRET"})
    monkeypatch.delenv("SIMPUL_TEST_WEBHOOK_SECRET", raising=False)
    with pytest.raises(FatalError, match="SIMPUL_TEST_WEBHOOK_SECRET"):
        await WebhookSource(config, context).start()
    monkeypatch.setenv("SIMPUL_TEST_WEBHOOK_SECRET", SECRET.decode())
    assert config.secret_bytes() == SECRET


async def test_an_unmappable_event_is_quarantined_and_still_acknowledged(tmp_path: Path) -> None:
    """An event placed in an unknown kabupaten is confirmed into quarantine: 202, nothing in the sink."""
    (event_id, body) = events(1)[0]
    data = orjson.loads(body)
    data["laporan"]["lokasi"]["kab"] = "Kab. Antah Berantah"
    bad = orjson.dumps(data)
    async with rig(tmp_path) as r:
        assert (await r.post(bad, event_id))[0] == 202
        await until(lambda: r.node.quarantine_store.count() == 1)
        assert r.sink.rows == {} and r.processed(event_id)


async def test_the_simulated_app_delivers_every_event_through_a_flapping_broker(tmp_path: Path) -> None:
    """The simulated app's retries get 40 events through a flapping broker, each in the sink exactly once."""
    async with rig(tmp_path, confirm_timeout_s=0.3) as r:
        app = EarlyWarningApp(r.url, SECRET, seed=5, max_attempts=40, backoff_s=0.05, retry_after_cap_s=0.2)

        async def flap() -> None:
            for _ in range(3):
                r.transport.set_ready(False)
                await asyncio.sleep(0.4)
                r.transport.set_ready(True)
                await asyncio.sleep(0.05)

        flapping = asyncio.create_task(flap())
        deliveries = await app.run(40, concurrency=8)
        await flapping
        assert all(d.delivered for d in deliveries), [d.statuses for d in deliveries if not d.delivered]
        assert any(503 in d.statuses for d in deliveries)  # the broker's absence was felt
        refused = [d.event_id for d in deliveries if NIK_PATTERN.search(d.event_id)]
        await until(
            lambda: len(r.sink.rows) == 40 - len(refused) and r.node.quarantine_store.count() == len(refused)
        )
        for delivery in deliveries:
            assert (_key(delivery.event_id) in r.sink.rows) != (delivery.event_id in refused)
            assert r.processed(delivery.event_id)
