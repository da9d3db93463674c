"""AMQP over TLS with client certificates, on a separate RabbitMQ node configured by this test.

The test makes a CA, a server certificate (127.0.0.1) and a client certificate with ``cryptography``, plus
a rogue CA with its own client certificate, and starts ``simpul-tls@localhost`` with
``ops/scripts/rabbit-node.sh`` (AMQP 5722 kept plain for the harness's readiness checks, TLS listener
5723 with ``verify_peer`` and ``fail_if_no_peer_cert``, management 15722). Checked: the hub's own AMQP
transport works over ``amqps://`` with its certificate; no client certificate, a certificate from another
CA, and a client that does not trust the server's CA are all refused in the handshake, and a refused
connection is closed, not left to the garbage collector (``test_refused_connections_are_closed``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import ipaddress
import os
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import aio_pika
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hub.errors import BrokerUnavailable
from hub.transport.amqp import AmqpTransport
from hub.transport.topology import default_topology
from tests.helpers import connect_or_close

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ops" / "scripts" / "rabbit-node.sh"
AMQP_PORT, TLS_PORT, MGMT_PORT, DIST_PORT = 5722, 5723, 15722, 25722
NAME = "simpul-tls"
DIR = Path(f"/tmp/simpul-rabbit-{NAME}")


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cert(
    subject: str, key: rsa.RSAPrivateKey, issuer: tuple[x509.Name, rsa.RSAPrivateKey] | None, *, ca: bool
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer or (name, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(folder: Path, stem: str, cert: x509.Certificate, key: rsa.RSAPrivateKey | None = None) -> None:
    (folder / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        (folder / f"{stem}-key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


def _run(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(SCRIPT), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"rabbit-node.sh {' '.join(args)}: {done.stderr[-2000:]}"


@pytest.fixture(scope="module")
def tls_node() -> Iterator[Path]:
    """The TLS node; yields the folder holding ca.pem, client.pem/-key.pem and rogue-client.pem/-key.pem."""
    env = {
        "SIMPUL_RABBIT_NAME": NAME,
        "SIMPUL_RABBIT_AMQP_PORT": str(AMQP_PORT),
        "SIMPUL_RABBIT_MGMT_PORT": str(MGMT_PORT),
        "SIMPUL_RABBIT_DIST_PORT": str(DIST_PORT),
    }
    _run("wipe", env=env)
    tls = DIR / "tls"
    tls.mkdir(parents=True)
    ca_key, rogue_key = _key(), _key()
    ca = _cert("simpul-test-ca", ca_key, None, ca=True)
    rogue_ca = _cert("rogue-ca", rogue_key, None, ca=True)
    server_key, client_key, rogue_client_key = _key(), _key(), _key()
    _write(tls, "ca", ca)
    _write(tls, "server", _cert("localhost", server_key, (ca.subject, ca_key), ca=False), server_key)
    _write(tls, "client", _cert("simpul-hub", client_key, (ca.subject, ca_key), ca=False), client_key)
    _write(
        tls,
        "rogue-client",
        _cert("simpul-hub", rogue_client_key, (rogue_ca.subject, rogue_key), ca=False),
        rogue_client_key,
    )
    _write(tls, "rogue-ca", rogue_ca)
    extra = DIR / "tls.conf"
    extra.write_text(
        f"listeners.ssl.default = 127.0.0.1:{TLS_PORT}\n"
        f"ssl_options.cacertfile = {tls / 'ca.pem'}\n"
        f"ssl_options.certfile = {tls / 'server.pem'}\n"
        f"ssl_options.keyfile = {tls / 'server-key.pem'}\n"
        "ssl_options.verify = verify_peer\n"
        "ssl_options.fail_if_no_peer_cert = true\n"
        "ssl_options.versions.1 = tlsv1.3\n"
        "ssl_options.versions.2 = tlsv1.2\n"
    )
    try:
        _run("start", env={**env, "SIMPUL_RABBIT_EXTRA_CONF": str(extra)})
        yield tls
    finally:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            _run("wipe", env=env)


def _url(tls: Path, *, cert: str | None = "client", ca: str = "ca") -> str:
    query = {"cafile": str(tls / f"{ca}.pem")}
    if cert is not None:
        query |= {"certfile": str(tls / f"{cert}.pem"), "keyfile": str(tls / f"{cert}-key.pem")}
    return f"amqps://guest:guest@127.0.0.1:{TLS_PORT}/?{urlencode(query)}"


async def test_hub_transport_over_tls_with_client_certificate(tls_node: Path) -> None:
    """The hub's AMQP transport publishes (confirmed) and consumes over TLS with its client certificate.

    guest may log in over TLS here because the listener is on loopback (RabbitMQ's loopback_users rule)."""
    transport = AmqpTransport(
        _url(tls_node),
        default_topology("tls", delivery_limit=3),
        management_url=f"http://guest:guest@127.0.0.1:{MGMT_PORT}",
        name="tls-test",
    )
    await transport.start()
    try:
        await transport.publish(transport.topology.ingest_exchange, "x.v1.32.01", b"[]", message_id="tls-1")
        delivery = await anext(transport.consume(transport.topology.central_queue, prefetch=1))
        assert delivery.message_id == "tls-1"
        await delivery.ack()
    finally:
        await transport.close()


REFUSED = [
    (None, "ca", "no client certificate"),
    ("rogue-client", "ca", "a client certificate from another CA"),
    ("client", "rogue-ca", "a client that does not trust the server's CA"),
]


@pytest.mark.parametrize(("cert", "ca", "what"), REFUSED)
async def test_wrong_or_missing_certificates_refused(
    tls_node: Path, cert: str | None, ca: str, what: str
) -> None:
    """The TLS handshake fails; no AMQP connection is made."""
    with pytest.raises((ConnectionError, OSError, aio_pika.exceptions.AMQPConnectionError)):
        connection = await connect_or_close(_url(tls_node, cert=cert, ca=ca), timeout=10)
        await connection.close()
        pytest.fail(f"connected with {what}")


async def test_plain_amqp_on_the_tls_port_refused(tls_node: Path) -> None:
    """Speaking plain AMQP to the TLS listener gets no connection."""
    with pytest.raises((ConnectionError, OSError, aio_pika.exceptions.AMQPConnectionError, TimeoutError)):
        connection = await connect_or_close(f"amqp://guest:guest@127.0.0.1:{TLS_PORT}/", timeout=5)
        await connection.close()


async def test_refused_connections_are_closed(tls_node: Path) -> None:
    """Every refused connection, aio-pika's own (through ``tests.helpers.connect_or_close``) and the hub
    transport's, is closed before the error goes on, so the collector finds nothing to close even where
    the intermittent "coroutine 'Connection.close' was never awaited" came from: a run in a thread without
    an event loop. The collector is held off until then (otherwise it usually frees the connections
    harmlessly on the loop's own thread, which is why the warning was intermittent)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for cert, ca, _ in REFUSED:
                url = _url(tls_node, cert=cert, ca=ca)
                with pytest.raises((ConnectionError, OSError)):
                    await connect_or_close(url, timeout=10)
                transport = AmqpTransport(
                    url,
                    default_topology("tls", delivery_limit=3),
                    management_url=f"http://guest:guest@127.0.0.1:{MGMT_PORT}",
                    name="tls-refused",
                )
                with pytest.raises(BrokerUnavailable):
                    await transport.start()
                await transport.close()
            await asyncio.to_thread(gc.collect)
            gc.collect()
    finally:
        if enabled:
            gc.enable()
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
