"""Topology as code: a node's settings rendered as RabbitMQ definitions (no broker contact here).

:func:`render_definitions` returns the JSON document that ``rabbitmqctl import_definitions FILE`` and
``POST /api/definitions`` accept (the global format: every entity names its vhost). It holds:

- the node's vhost (from ``broker.url``), its exchanges, queues (quorum, or the feed stream with
  ``x-max-age``) and bindings, from :func:`hub.transport.factory.topology_for` as the hub declares them;
- the dead-letter / delivery-limit policies from :func:`hub.transport.factory.queue_policies`, with exactly
  the names and definitions the hub PUTs at start, so an applied topology and a running hub agree;
- ``broker_users``: users (with their sha256 password hashes), permissions and topic permissions by role.
  ``source`` and ``shovel`` users may write to the ingest exchange only, configure and read nothing, and their
  topic permission allows only routing keys of their own region (``<schema>.v<major>.<kode words>``);
- with ``uplink.enabled``, a dynamic shovel (a ``parameters`` entry) draining this node's ``uplink`` queue
  into the parent's exchange, acking only after the parent confirmed, keeping the routing key, persistent.
  On clusters its ``src-uri`` lists every address of ``broker.url``/``broker.urls`` and its ``dest-uri``
  every address of ``uplink.parent_uri``/``uplink.parent_uris``; the shovel picks one of each list at
  random on every (re)connect, so it survives the loss of a node on either side.

Definitions are cluster-wide: imported through any node's management API they hold for every node, and
with ``broker.replicas`` the queues carry ``x-quorum-initial-group-size`` / ``x-initial-cluster-size``.

The document carries password hashes and the shovel's URIs with their passwords: write it with care (the CLI
writes files with mode 0600). Errors: :class:`~hub.errors.ConfigError` for settings that cannot be rendered,
:class:`~hub.errors.TopologyError` for an unsafe topology.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from hub.errors import ConfigError
from hub.settings import BrokerUser, Settings
from hub.transport.policies import check_topology, queue_policies
from hub.transport.topology import Topology
from schemas.regions import default_index

__all__ = [
    "HASHING_ALGORITHM",
    "hash_password",
    "office_routing_regex",
    "render_definitions",
    "shovel_name",
    "uri_user",
    "vhost_of",
]

HASHING_ALGORITHM = "rabbit_password_hashing_sha256"

# Routing keys are ``<schema>.v<major>.<kode wilayah words>`` (hub.model.router.routing_key).
_KEY_HEAD = r"[a-z0-9_]+\.v[0-9]+"
NOTHING = "^$"
"""A regex no routing key matches (RabbitMQ topic permissions: deny)."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``password`` hashed the way RabbitMQ's ``rabbit_password_hashing_sha256`` stores it:
    base64(salt + SHA-256(salt + password)) with a 4-byte random salt."""
    if not password:
        raise ConfigError("the password must not be empty", key="password")
    salt = os.urandom(4) if salt is None else salt
    if len(salt) != 4:
        raise ConfigError("the salt must be 4 bytes", key="salt")
    digest = hashlib.sha256(salt + password.encode("utf-8")).digest()
    return base64.b64encode(salt + digest).decode("ascii")


def office_routing_regex(office: str) -> str:
    """The routing keys an office may publish: its own region and everything below it; any for ``pusat``.

    ``32.01`` gives ``^[a-z0-9_]+\\.v[0-9]+\\.32\\.01(\\.[0-9]+)*$``: ``x.v1.32.01`` and ``x.v1.32.01.05``
    match, ``x.v1.32.011``, ``x.v1.32.02`` and ``x.v1.32.01.05 `` do not. The words after the office's own are
    digits only (kode wilayah words), so nothing can be smuggled behind a valid prefix.

    An office whose area lost kab/kota to a new province in 2022 may also publish those (the hub accepts
    them from it as successors, keyed by their true code, and they travel up its chain): ``92`` also
    allows ``96.71`` (Kota Sorong, formerly 92.71) and the other five, from the region data's history.
    """
    tail = r"(\.[0-9]+)*$"
    if office == "pusat":
        return f"^{_KEY_HEAD}{tail}"
    moved = [s.new for s in default_index().successors(office)]
    if not moved:
        return f"^{_KEY_HEAD}\\.{re.escape(office)}{tail}"
    return f"^{_KEY_HEAD}\\.({'|'.join(re.escape(c) for c in [office, *moved])}){tail}"


def vhost_of(url: str) -> str:
    """The vhost an AMQP URL names, as the AMQP transport reads it (empty path -> ``/``)."""
    path = urlsplit(url).path
    return unquote(path[1:]) or "/"


def uri_user(url: str) -> str | None:
    """The user name in an AMQP URL, or None."""
    user = urlsplit(url).username
    return unquote(user) if user else None


def _explicit_vhost(url: str) -> str:
    # The Erlang client reads ``amqp://host/`` as the empty vhost; spell the vhost out (``%2F`` for ``/``).
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost_of(url), safe=""), parts.query, ""))


def shovel_name(settings: Settings) -> str:
    """The name of the node's uplink shovel (stable, so re-importing replaces it)."""
    return f"{settings.broker.prefix}-uplink"


def _escaped_prefix(topology: Topology) -> str:
    return f"^{re.escape(topology.prefix)}\\."


def _user_entries(user: BrokerUser) -> dict[str, Any] | None:
    if user.password_hash is None:
        return None  # an existing user: permissions only
    # ``hub`` users put their policies through the management API; nobody else gets management access.
    tags = ["policymaker"] if user.role == "hub" else []
    return {
        "name": user.name,
        "password_hash": user.password_hash,
        "hashing_algorithm": HASHING_ALGORITHM,
        "tags": tags,
        "limits": {},
    }


def _permissions(user: BrokerUser, topology: Topology, vhost: str) -> dict[str, Any]:
    if user.role == "hub":
        everything = _escaped_prefix(topology)
        configure = write = read = everything
    elif user.role == "consumer":
        # The feed stream, and the replay queue ``simpul replay --to <user>`` fills for this consumer alone.
        replay = f"{topology.prefix}.replay.{user.name}"
        configure, write = "", ""
        read = f"^({re.escape(topology.feed_stream)}|{re.escape(replay)})$"
    else:  # source, shovel: publish into ingest, nothing else
        configure, write, read = "", f"^{re.escape(topology.ingest_exchange)}$", ""
    return {"user": user.name, "vhost": vhost, "configure": configure, "write": write, "read": read}


def _topic_permissions(user: BrokerUser, topology: Topology, vhost: str) -> list[dict[str, Any]]:
    if user.role in ("source", "shovel"):
        write = office_routing_regex(user.office)
    elif user.role == "consumer":
        write = NOTHING
    else:
        return []  # hub: its own topology, unrestricted keys
    return [
        {
            "user": user.name,
            "vhost": vhost,
            "exchange": topology.ingest_exchange,
            "write": write,
            "read": NOTHING,
        }
    ]


def _uris(urls: list[str]) -> str | list[str]:
    # One address stays a plain string (the single-broker form); a cluster's addresses become a list.
    explicit = [_explicit_vhost(u) for u in urls]
    return explicit[0] if len(explicit) == 1 else explicit


def _shovel(settings: Settings, topology: Topology, vhost: str) -> dict[str, Any]:
    up = settings.uplink
    dest_user = uri_user(up.parent_uri)
    # The parent validates ``user_id`` against the shovel's login: stamp it with that user, so the parent
    # both accepts the message and learns which child link delivered it.
    properties: dict[str, Any] = {"delivery_mode": 2}
    if dest_user is not None:
        properties["user_id"] = dest_user
    value = {
        "src-protocol": "amqp091",
        "src-uri": _uris(settings.broker.all_urls()),
        "src-queue": topology.uplink_queue,
        # The shovel declares its source queue, and may start before an import has created it: declared
        # with the topology's own arguments, whoever comes first makes the same quorum queue.
        "src-queue-args": _queue_arguments(topology, topology.uplink_queue),
        "dest-protocol": "amqp091",
        "dest-uri": _uris(list(dict.fromkeys([up.parent_uri, *up.parent_uris]))),
        "dest-exchange": up.parent_exchange,
        # No dest-exchange-key: the record keeps its routing key, so the parent's topic permissions apply.
        "dest-publish-properties": properties,
        "ack-mode": "on-confirm",
        "reconnect-delay": 5,
        "src-delete-after": "never",
    }
    return {"vhost": vhost, "component": "shovel", "name": shovel_name(settings), "value": value}


def _queue_arguments(topology: Topology, name: str) -> dict[str, str | int]:
    return next(q.arguments() for q in topology.queues if q.name == name)


def render_definitions(settings: Settings) -> dict[str, Any]:
    """The RabbitMQ definitions of the node ``settings`` describes (see the module docstring)."""
    from hub.transport.factory import topology_for

    topology = topology_for(settings)
    check_topology(topology)
    vhost = vhost_of(settings.broker.url)
    if settings.uplink.enabled and _same_host(settings, vhost):
        raise ConfigError("the parent's URI names this node's own vhost", key="uplink.parent_uri")
    users = settings.broker_users
    return {
        "users": [entry for entry in (_user_entries(u) for u in users) if entry is not None],
        "vhosts": [{"name": vhost}],
        "permissions": [_permissions(u, topology, vhost) for u in users],
        "topic_permissions": [tp for u in users for tp in _topic_permissions(u, topology, vhost)],
        "parameters": [_shovel(settings, topology, vhost)] if settings.uplink.enabled else [],
        "global_parameters": [],
        "policies": [
            {
                "vhost": vhost,
                "name": p.name,
                "pattern": p.pattern,
                "apply-to": p.apply_to,
                "definition": dict(p.definition),
                "priority": p.priority,
            }
            for p in queue_policies(topology)
        ],
        "queues": [
            {
                "name": q.name,
                "vhost": vhost,
                "durable": True,
                "auto_delete": False,
                "arguments": q.arguments(),
            }
            for q in topology.queues
        ],
        "exchanges": [
            {
                "name": e.name,
                "vhost": vhost,
                "type": e.type,
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": {},
            }
            for e in topology.exchanges
        ],
        "bindings": [
            {
                "source": b.exchange,
                "vhost": vhost,
                "destination": b.queue,
                "destination_type": "queue",
                "routing_key": b.pattern,
                "arguments": {},
            }
            for b in topology.bindings
        ],
    }


def _same_host(settings: Settings, vhost: str) -> bool:
    """True if a parent address is one of this node's own broker addresses, on this node's vhost."""

    def where(url: str) -> tuple[str | None, int]:
        parts = urlsplit(url)
        return parts.hostname, parts.port or 5672

    own = {where(u) for u in settings.broker.all_urls()}
    up = settings.uplink
    return any(vhost_of(p) == vhost and where(p) in own for p in [up.parent_uri, *up.parent_uris])
