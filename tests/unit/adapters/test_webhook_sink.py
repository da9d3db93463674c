"""The webhook sink against its simulated receiver: signing, batching, retries, limits, refusals, chain."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.webhook_sink import PLUGIN, WebhookSink, WebhookSinkConfig
from adapters.webhook_sink.signing import batch_message_id, sign, verify
from adapters.webhook_sink.simulator import WebhookReceiver, serve
from hub.adapters import registry
from hub.adapters.model import AdapterContext
from hub.adapters.state import StateStore
from hub.errors import FatalError, RetriableError
from hub.metrics import Metrics
from hub.model.records import SourceRecord
from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from schemas.envelope import (
    Envelope,
    SourceIdentity,
    make_idempotency_key,
    make_message_id,
    make_record_key,
)
from tests.helpers import example, node_settings, until

SECRET = "rahasia-bersama-kesbangpol-2024"
T0 = datetime(2024, 3, 6, 3, 0, tzinfo=UTC)


def envelope(rid: str, revision: int = 1) -> Envelope:
    """A research_permit envelope with the real identity rules."""
    record_key = make_record_key("research_permit", "sicantik-bogor", rid)
    idem = make_idempotency_key(record_key, revision)
    return Envelope(
        message_id=make_message_id(idem),
        schema_name="research_permit",
        schema_version="1.0.0",
        source_record_id=rid,
        revision=revision,
        record_key=record_key,
        idempotency_key=idem,
        source=SourceIdentity(system="sicantik-bogor", office="32.01", adapter="skp"),
        kode_wilayah="32.01",
        region_ref="Kepmendagri 300.2.2-2138/2025",
        reported_at=T0,
        received_at=T0,
        payload=example("research_permit") | {"nomor_skp": rid},
    )


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    """The simulated receiver on a free port: (receiver, hook URL)."""
    hook = WebhookReceiver(SECRET)
    runner, url = await serve(hook)
    try:
        yield hook, url
    finally:
        await runner.cleanup()


def _sink(tmp_path: Path, url: str, **changes: Any) -> WebhookSink:
    base = {"url": url, "secret": SECRET, "backoff_s": 0.01, "backoff_cap_s": 0.05}
    config = WebhookSinkConfig.model_validate(base | changes)
    context = AdapterContext(
        name="ke-simpolpum",
        schema="*",
        identity=SourceIdentity(system="pusat", office="pusat", adapter="ke-simpolpum"),
        state=StateStore(tmp_path / "s.sqlite3"),
        state_dir=tmp_path,
        metrics=Metrics(),
    )
    return WebhookSink(config, context)


def test_signature_is_the_hmac_of_the_exact_body() -> None:
    """sha256=<hex>; verification fails for another body, another secret or no header."""
    body = b'[{"a":1}]'
    signature = sign(SECRET.encode(), body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify(SECRET.encode(), body, signature)
    assert not verify(SECRET.encode(), body + b" ", signature)
    assert not verify(b"another-secret-of-16+", body, signature)
    assert not verify(SECRET.encode(), body, None)


def test_batch_message_id_is_the_envelopes_own_or_derived() -> None:
    """One envelope: its message id; several: a stable UUID that changes with the members."""
    a, b = envelope("A"), envelope("B")
    assert batch_message_id([a]) == a.message_id
    assert batch_message_id([a, b]) == batch_message_id([envelope("A"), envelope("B")])
    assert batch_message_id([a, b]) != batch_message_id([b, a])


async def test_batches_are_signed_posted_and_accepted(
    tmp_path: Path, receiver: tuple[WebhookReceiver, str]
) -> None:
    """250 envelopes in batches of 100: three signed POSTs, all applied, each envelope stored once."""
    hook, url = receiver
    sink = _sink(tmp_path, url)
    await sink.start()
    envs = [envelope(f"070/{i:04d}/Kesbangpol/2024") for i in range(250)]
    results = await sink.write(envs)
    await sink.close()
    assert [r.status for r in results] == ["applied"] * 250
    assert hook.stats.accepted_batches == 3 and hook.stats.bad_signatures == 0
    assert set(hook.envelopes) == {e.idempotency_key for e in envs}


async def test_wrong_secret_is_refused_permanently(
    tmp_path: Path, receiver: tuple[WebhookReceiver, str]
) -> None:
    """A signature the receiver rejects (401) fails the write at once, without retries."""
    hook, url = receiver
    sink = _sink(tmp_path, url, secret="not-the-shared-secret-at-all", max_attempts=5)
    with pytest.raises(FatalError, match="HTTP 401"):
        await sink.write([envelope("X1")])
    await sink.close()
    assert hook.stats.bad_signatures == 1 and sink.posts == 1


async def test_server_errors_are_retried_until_accepted(
    tmp_path: Path, receiver: tuple[WebhookReceiver, str]
) -> None:
    """Two 503s then success: three POSTs, the write returns applied."""
    hook, url = receiver
    hook.fail_next(2, 503)
    sink = _sink(tmp_path, url, max_attempts=5)
    results = await sink.write([envelope("R1")])
    await sink.close()
    assert [r.status for r in results] == ["applied"] and sink.posts == 3
    assert hook.stats.statuses == [503, 503, 200]


async def test_timeouts_are_retried(tmp_path: Path, receiver: tuple[WebhookReceiver, str]) -> None:
    """A receiver slower than timeout_s once: the POST is retried and succeeds."""
    hook, url = receiver
    hook.slow_next(1, 0.5)
    sink = _sink(tmp_path, url, timeout_s=0.2, max_attempts=3)
    await sink.write([envelope("T1")])
    await sink.close()
    assert sink.posts == 2 and len(hook.envelopes) == 1


async def test_retry_after_is_honoured(tmp_path: Path, receiver: tuple[WebhookReceiver, str]) -> None:
    """429 with Retry-After 0.3: the next POST waits at least that long (capped by backoff_cap_s)."""
    hook, url = receiver
    hook.fail_next(1, 429, retry_after=0.3)
    sink = _sink(tmp_path, url, backoff_cap_s=1.0)
    began = time.monotonic()
    await sink.write([envelope("Q1")])
    await sink.close()
    assert time.monotonic() - began >= 0.3 and hook.stats.statuses == [429, 200]


async def test_408_is_retried_but_400_is_a_refusal(
    tmp_path: Path, receiver: tuple[WebhookReceiver, str]
) -> None:
    """408 Request Timeout counts as passing; 400 fails the write at once with FatalError."""
    hook, url = receiver
    hook.fail_next(1, 408)
    sink = _sink(tmp_path, url)
    await sink.write([envelope("P1")])
    hook.fail_next(1, 400)
    posts = sink.posts
    with pytest.raises(FatalError, match="HTTP 400"):
        await sink.write([envelope("P2")])
    await sink.close()
    assert sink.posts == posts + 1


async def test_the_write_fails_after_max_attempts(
    tmp_path: Path, receiver: tuple[WebhookReceiver, str]
) -> None:
    """A receiver down for good: exactly max_attempts POSTs, then RetriableError naming the last status."""
    hook, url = receiver
    hook.fail_next(100, 502)
    sink = _sink(tmp_path, url, max_attempts=4)
    with pytest.raises(RetriableError, match=r"after 4 attempts \(HTTP 502\)"):
        await sink.write([envelope("L1")])
    await sink.close()
    assert sink.posts == 4 and hook.envelopes == {}


async def test_unreachable_receiver_is_retriable(tmp_path: Path) -> None:
    """Connection refused on every attempt ends in RetriableError, not a crash."""
    sink = _sink(tmp_path, "http://127.0.0.1:9/hook", max_attempts=2)
    with pytest.raises(RetriableError, match="ClientConnectorError"):
        await sink.write([envelope("U1")])
    await sink.close()


async def test_redelivered_batch_is_deduped_by_the_receiver(
    tmp_path: Path, receiver: tuple[WebhookReceiver, str]
) -> None:
    """The same envelope twice: the same X-Simpul-Message-Id, the receiver stores it once."""
    hook, url = receiver
    sink = _sink(tmp_path, url)
    await sink.write([envelope("D1")])
    await sink.write([envelope("D1")])
    await sink.close()
    assert len(hook.envelopes) == 1 and hook.stats.duplicate_batches == 1


def test_config_is_checked() -> None:
    """A short secret, a non-HTTP URL and unknown keys are refused; the secret never shows in a repr."""
    for bad in ({"secret": "pendek"}, {"url": "ftp://x"}, {"retries": 3}):
        with pytest.raises(ValidationError):
            WebhookSinkConfig.model_validate({"url": "http://x/h", "secret": SECRET} | bad)
    assert SECRET not in repr(WebhookSinkConfig.model_validate({"url": "http://x/h", "secret": SECRET}))
    assert all(f.description for f in WebhookSinkConfig.model_fields.values())


async def test_refused_record_is_quarantined_by_the_delivery_limit_and_the_rest_delivered(
    tmp_path: Path, receiver: tuple[WebhookReceiver, str]
) -> None:
    """Through a node: a record the receiver refuses is quarantined (sink_refused) on its last delivery;
    its neighbours arrive; nothing reaches the dead queue."""
    hook, url = receiver
    hook.refuse(lambda env: env.get("source_record_id") == "POISON")
    registry.register(PLUGIN)
    settings = node_settings(
        tmp_path,
        broker={"delivery_limit": 2},
        batch={"max_records": 1},
        sinks=[
            {
                "name": "hook",
                "kind": "webhook_sink",
                "config": {"url": url, "secret": SECRET, "backoff_s": 0.01},
            }
        ],
    )
    transport = MemoryTransport(topology_for(settings))
    ident = SourceIdentity(system="sicantik-bogor", office="32.01", adapter="t")
    async with Node(settings, transport=transport) as node:
        for rid in ("OK-1", "POISON", "OK-2"):
            data = example("research_permit") | {"nomor_skp": f"070/{rid}/2024"}
            record = SourceRecord("research_permit", data, ident, source_record_id=rid, revision=1)
            await node.pipeline.publish(record, node.pipeline.prepare(record))
        await until(lambda: node.quarantine_store.count(reason="sink_refused") == 1, timeout=15)
        (entry,) = node.quarantine_store.list(reason="sink_refused")
        assert entry.source_record_id == "POISON" and entry.adapter == "hook"
    assert sorted(e["source_record_id"] for e in hook.envelopes.values()) == ["OK-1", "OK-2"]
    assert transport.depth("simpul.dead") == 0


def test_plugin_declares_a_sink() -> None:
    """The package exports a sink plugin named webhook_sink."""
    registry.register(PLUGIN)
    assert registry.get("webhook_sink").role == "sink" and PLUGIN.config_model is WebhookSinkConfig


async def test_control_endpoint_switches_failures(receiver: tuple[WebhookReceiver, str]) -> None:
    """POST /_control {"fail": 1, "status": 503} makes the next delivery fail (for the demo)."""
    import aiohttp

    hook, url = receiver
    base = url.rsplit("/hooks", 1)[0]
    body = b"[]"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/_control", json={"fail": 1, "status": 503}) as resp:
            assert resp.status == 200
        headers = {"X-Signature": sign(SECRET.encode(), body)}
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 503
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 200
        async with http.get(f"{base}/_stats") as resp:
            assert (await resp.json())["requests"] == 2
    assert hook.stats.failed_on_purpose == 1
