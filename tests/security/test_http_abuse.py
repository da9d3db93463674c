"""HTTP ingest abuse: rate limits per office, body/batch/nesting limits, wrong types and extra fields, TLS."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from tests.helpers import KEY_BOGOR, KEY_PUSAT, item, node_settings
from tests.unit.test_http_ingest import post


async def started(tmp_path: Path, **overrides: Any) -> Node:
    settings = node_settings(tmp_path, **overrides)
    node = Node(settings, transport=MemoryTransport(topology_for(settings)))
    await node.start()
    return node


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[Node]:
    """A node allowing each office 3 requests at once and then 0.5 per second."""
    node = await started(tmp_path, trust={"ingest_rate_per_s": 0.5, "ingest_burst": 3})
    try:
        yield node
    finally:
        await node.stop()


async def test_rate_limit_per_office_429_with_retry_after(limited: Node) -> None:
    """Past its burst an office gets 429 + Retry-After; another office is not affected."""
    statuses = [
        (await post(limited, "ormas_registration", item("ormas_registration", f"L{i}")))[0] for i in range(5)
    ]
    assert statuses == [202, 202, 202, 429, 429]
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{limited.http_port}/v1/records/ormas_registration",
            data=orjson.dumps(item("ormas_registration", "L9")),
            headers={"X-API-Key": KEY_BOGOR, "Content-Type": "application/json"},
        ) as resp,
    ):
        assert resp.status == 429
        assert int(resp.headers["Retry-After"]) == 2  # one token at 0.5/s
        assert (await resp.json())["error"] == "rate_limited"
    status, _, _ = await post(limited, "ormas_registration", item("ormas_registration", "P1"), key=KEY_PUSAT)
    assert status == 202


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"x": value}
    return value


async def test_abuse_answers(memory_node: Node) -> None:
    """Huge body 413, huge batch 413, deep nesting 400, wrong types / extra fields 422, no key 401."""
    node = memory_node
    huge = b"[" + b" " * (node.settings.http.max_body_bytes + 10) + b"]"
    assert (await post(node, "ormas_registration", None, raw=huge))[0] == 413
    many = [item("ormas_registration", f"B{i}") for i in range(node.settings.http.max_batch_records + 1)]
    assert (await post(node, "ormas_registration", many))[0] == 413
    deep = item("ormas_registration", "D1", bidang_kegiatan=nested(40))
    status, body, _ = await post(node, "ormas_registration", deep)
    assert (status, body["error"]) == (400, "bad_body")
    orjson_limit = b'{"id":"D2","revision":1,"data":' + b"[" * 2000 + b"]" * 2000 + b"}"
    assert (await post(node, "ormas_registration", None, raw=orjson_limit))[0] == 400
    wrong = item("ormas_registration", "W1")
    wrong["revision"] = "satu"
    extra = item("ormas_registration", "E1", kolom_liar="x")
    extra["tambahan"] = True
    status, body, _ = await post(node, "ormas_registration", [wrong, extra])
    assert status == 422
    rules = {issue["rule"] for rec in body["records"] for issue in rec["issues"]}
    assert {"int_parsing", "extra_forbidden"} <= rules
    assert (await post(node, "ormas_registration", item("ormas_registration", "N1"), key=None))[0] == 401
    assert (await post(node, "ormas_registration", item("ormas_registration", "N2"), key="guessed"))[0] == 401


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made here with ``cryptography``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "simpul-test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def test_https_from_config(tmp_path: Path) -> None:
    """With tls_cert/tls_key the node speaks HTTPS only: a client trusting the cert gets in; an untrusting
    client fails verification; plain HTTP to the port gets no answer."""
    cert, key = self_signed(tmp_path)
    node = await started(tmp_path, http={"tls_cert": str(cert), "tls_key": str(key)})
    url = f"https://127.0.0.1:{node.http_port}"
    try:
        trusting = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{url}/v1/records/ormas_registration",
                data=orjson.dumps(item("ormas_registration", "TLS1")),
                headers={"X-API-Key": KEY_BOGOR, "Content-Type": "application/json"},
                ssl=trusting,
            ) as resp:
                assert resp.status == 202
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                async with http.get(f"{url}/healthz", ssl=ssl.create_default_context()):
                    pass
            with pytest.raises(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{node.http_port}/healthz") as plain:
                    await plain.read()
    finally:
        await node.stop()


def test_tls_settings_go_in_pairs(tmp_path: Path) -> None:
    """A certificate without its key is a config error before anything starts."""
    from hub.errors import ConfigError

    with pytest.raises(ConfigError, match="tls_cert and tls_key go together"):
        node_settings(tmp_path, http={"tls_cert": str(tmp_path / "c.pem")})
