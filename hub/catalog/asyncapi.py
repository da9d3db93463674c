"""The AsyncAPI 3.0 document of a node's bus: exchanges and routing-key patterns, queues as channels, schema
versions as messages, source adapters and links to other nodes as operations, and per-office publish rights
as the operations' security.

What travels: one AMQP message per routing key group is a JSON array of envelopes
(``simpul.envelope/1``), each carrying one payload of the schema named in its routing key
``<schema>.v<major>.<kode wilayah words>``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from hub.catalog.jsonschema import hoist
from hub.levels.render import office_routing_regex
from hub.settings import Settings
from hub.transport.topology import Topology
from schemas import catalog
from schemas.registry import SchemaSpec

ASYNCAPI_VERSION = "3.0.0"
_AMQP_BINDING_VERSION = "0.3.0"
_SCHEMAS = "#/components/schemas/"
_MESSAGES = "#/components/messages/"


def _server(url: str) -> dict[str, Any]:
    """An AsyncAPI server from an AMQP URL, credentials left out."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
    server: dict[str, Any] = {
        "host": f"{host}:{port}",
        "protocol": "amqps" if parts.scheme == "amqps" else "amqp",
        "protocolVersion": "0.9.1",
        "security": [{"$ref": "#/components/securitySchemes/officeCredentials"}],
    }
    vhost = parts.path.lstrip("/")
    server["description"] = f"RabbitMQ, vhost {vhost or '/'}"
    return server


def _key(spec: SchemaSpec) -> str:
    return f"{spec.name}_v{spec.major}"


def _message_id(spec: SchemaSpec) -> str:
    return f"{spec.name}_{spec.version.replace('.', '_')}"


def _exchange_binding(name: str, kind: str = "topic") -> dict[str, Any]:
    return {
        "amqp": {
            "is": "routingKey",
            "exchange": {"name": name, "type": kind, "durable": True, "autoDelete": False},
            "bindingVersion": _AMQP_BINDING_VERSION,
        }
    }


def _queue_binding(name: str) -> dict[str, Any]:
    return {
        "amqp": {
            "is": "queue",
            "queue": {"name": name, "durable": True, "exclusive": False, "autoDelete": False},
            "bindingVersion": _AMQP_BINDING_VERSION,
        }
    }


def asyncapi_document(settings: Settings, topology: Topology, version: str = "0.1.0") -> dict[str, Any]:
    """The AsyncAPI document of the node described by ``settings`` and ``topology``."""
    schemas: dict[str, Any] = {}
    envelope = hoist(catalog.envelope_json_schema(), "Envelope", schemas, _SCHEMAS)
    schemas["Envelope"] = envelope
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    specs = catalog.all_versions()
    for spec in specs:
        key = f"{spec.name}_{spec.version}"
        schemas[key] = hoist(catalog.json_schema(spec), key, schemas, _SCHEMAS)
        deprecated = spec.status == "deprecated"
        messages[_message_id(spec)] = {
            "name": spec.ref,
            "title": f"{spec.title} {spec.version} ({spec.status})",
            "summary": spec.description,
            "description": f"{spec.description_id}\n\nOwner: {spec.owner}. Default classification "
            f"{spec.default_classification.value}. Personal data: {', '.join(spec.pii_paths) or 'none'}."
            + (f" Deprecated after {spec.deprecated_after}." if spec.deprecated_after else ""),
            "contentType": "application/json",
            "payload": {
                "type": "array",
                "description": "A batch of envelopes sharing one routing key",
                "items": {
                    "allOf": [
                        {"$ref": _SCHEMAS + "Envelope"},
                        {
                            "type": "object",
                            "properties": {
                                "schema_name": {"const": spec.name},
                                "schema_version": {"const": spec.version},
                                "payload": {"$ref": _SCHEMAS + key},
                            },
                        },
                    ]
                },
            },
            "headers": {
                "type": "object",
                "properties": {"message_id": {"type": "string", "description": "AMQP message-id"}},
            },
            **({"x-deprecated": True} if deprecated else {}),
            "x-status": spec.status,
        }
    ingest = topology.ingest_exchange
    by_major: dict[str, list[SchemaSpec]] = {}
    for spec in specs:
        by_major.setdefault(_key(spec), []).append(spec)
    for key, group in sorted(by_major.items()):
        first = group[0]
        channels[f"ingest.{key}"] = {
            "address": f"{first.name}.v{first.major}.{{kodeWilayah}}",
            "title": f"{first.title} v{first.major}",
            "description": f"Records of {first.name} major {first.major} on the topic exchange {ingest}. "
            "Bindings select by region: '*.*.32.#' is everything from Jawa Barat, "
            f"'{first.name}.v{first.major}.#' this schema nationally.",
            "parameters": {"kodeWilayah": {"$ref": "#/components/parameters/kodeWilayah"}},
            "messages": {_message_id(s): {"$ref": _MESSAGES + _message_id(s)} for s in group},
            "bindings": _exchange_binding(ingest),
        }
    bound: dict[str, list[str]] = {}
    for binding in topology.bindings:
        bound.setdefault(binding.queue, []).append(f"{binding.exchange} <- {binding.pattern}")
    for queue in topology.queues:
        policy = (
            f"; dead-letters to {queue.dead_letter_exchange} after {queue.delivery_limit} deliveries"
            if queue.dead_letter_exchange
            else ""
        )
        kind = (
            "stream (replayable, retention " + str(queue.max_age) + ")"
            if queue.kind == "stream"
            else "quorum queue"
        )
        channel: dict[str, Any] = {
            "address": queue.name,
            "title": f"Queue {queue.name}",
            "description": f"Durable {kind} bound "
            + (", ".join(bound.get(queue.name, [])) or "to nothing")
            + policy,
            "bindings": _queue_binding(queue.name),
        }
        if any(b.exchange == ingest for b in topology.bindings if b.queue == queue.name):
            channel["messages"] = {_message_id(s): {"$ref": _MESSAGES + _message_id(s)} for s in specs}
        else:
            channel["messages"] = {"opaque": {"$ref": _MESSAGES + "opaque"}}
        channels[f"queue.{queue.name}"] = channel
    messages["opaque"] = {
        "name": "opaque",
        "title": "Quarantine entry or dead-lettered message",
        "contentType": "application/json",
        "payload": {"type": "object"},
    }
    for key, group in sorted(by_major.items()):
        first = group[0]
        operations[f"publish_{key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/ingest.{key}"},
            "title": f"Publish {first.name} v{first.major}",
            "description": "A node publishes validated records with publisher confirms. An office may "
            f"publish only keys of its own region: {first.name}.v{first.major}.<office kode wilayah>.# "
            "(the ministry node 'pusat': any region).",
            "security": [{"$ref": "#/components/securitySchemes/officeCredentials"}],
            "messages": [{"$ref": f"#/channels/ingest.{key}/messages/{_message_id(s)}"} for s in group],
        }
    for queue_spec in topology.queues:
        operations[f"consume_{queue_spec.name}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/queue.{queue_spec.name}"},
            "title": f"Consume {queue_spec.name}",
            "description": (
                "Read from the start, an offset or a time (x-stream-offset); the ministry's replayable feed."
                if queue_spec.kind == "stream"
                else "Consumed in groups; acked only after the durable write (manual ack, prefetch)."
            ),
        }
    for source in settings.sources:
        try:
            spec = catalog.get(source.schema_name)
        except Exception:  # an unknown schema is check-config's business; document what is there
            continue
        operations[f"source_{source.name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/ingest.{_key(spec)}"},
            "title": f"Source adapter {source.name} ({source.kind})",
            "description": f"Reads {source.system} for office {source.office} and publishes {spec.ref}"
            + ("" if source.enabled else " (disabled)"),
            "messages": [{"$ref": f"#/channels/ingest.{_key(spec)}/messages/{_message_id(spec)}"}],
            "x-adapter": {
                "name": source.name,
                "kind": source.kind,
                "system": source.system,
                "office": source.office,
            },
        }
    servers = {"local": _server(settings.broker.url)}
    for sink in settings.sinks:
        if sink.kind != "amqp_sink":
            continue
        url = sink.config.get("url")
        exchange = str(sink.config.get("exchange", ""))
        link_server = f"link_{sink.name}"
        servers[link_server] = _server(str(url)) if url else {"host": "unknown:5672", "protocol": "amqp"}
        channels[f"link.{sink.name}"] = {
            "address": exchange,
            "title": f"Link {sink.name} to the upper node",
            "description": f"Envelopes forwarded to exchange {exchange} of the upper node, routing keys kept",
            "servers": [{"$ref": f"#/servers/{link_server}"}],
            "messages": {_message_id(s): {"$ref": _MESSAGES + _message_id(s)} for s in specs},
            "bindings": _exchange_binding(exchange, str(sink.config.get("exchange_type", "topic"))),
        }
        operations[f"link_{sink.name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/link.{sink.name}"},
            "title": f"Forward to the upper node ({sink.name})",
            "description": f"Sink adapter {sink.name} (amqp_sink) forwards records bound by "
            f"{', '.join(sink.bindings)}",
            "security": [{"$ref": "#/components/securitySchemes/officeCredentials"}],
            "x-adapter": {"name": sink.name, "kind": sink.kind},
        }
    _levels_and_rights(settings, topology, servers, channels, operations, specs)
    for sink in settings.sinks:
        sink_queue_name = f"{topology.prefix}.sink.{sink.name}"
        if f"consume_{sink_queue_name}" in operations:
            operations[f"consume_{sink_queue_name}"]["x-adapter"] = {"name": sink.name, "kind": sink.kind}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": f"urn:simpul:node:{settings.node}",
        "info": {
            "title": f"Simpul bus of node {settings.node} ({settings.level})",
            "version": version,
            "description": "The RabbitMQ topology of one Simpul node: what is published where, in which "
            "shape, and who consumes it. Schemas are the governed Simpul payload schemas (see /v1/catalog).",
            "license": {"name": "MIT"},
        },
        "defaultContentType": "application/json",
        "servers": servers,
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "parameters": {
                "kodeWilayah": {
                    "description": "The record's kode wilayah as routing-key words (PP, PP.KK, PP.KK.CC, "
                    "PP.KK.CC.XNNN; cut to the node's route depth)",
                    "examples": ["32.01.05"],
                }
            },
            "securitySchemes": {
                "officeCredentials": {
                    "type": "userPassword",
                    "description": "One broker user per office node. Topic permissions allow it to "
                    "publish only routing keys of its own region (x-publish-rights lists them).",
                    "x-publish-rights": [
                        {
                            "user": u.name,
                            "office": u.office,
                            "role": u.role,
                            "routing_keys": office_routing_regex(u.office),
                        }
                        for u in settings.broker_users
                        if u.role in ("source", "shovel")
                    ],
                }
            },
        },
    }


def _levels_and_rights(
    settings: Settings,
    topology: Topology,
    servers: dict[str, Any],
    channels: dict[str, Any],
    operations: dict[str, Any],
    specs: list[SchemaSpec],
) -> None:
    """The uplink (a shovel to the parent's ingest exchange) and the consumers' replay queues."""
    every = {_message_id(s): {"$ref": _MESSAGES + _message_id(s)} for s in specs}
    if settings.uplink.enabled:
        up = settings.uplink
        servers["parent"] = _server(up.parent_uri)
        channels["uplink"] = {
            "address": up.parent_exchange,
            "title": "The parent level's ingest exchange",
            "description": f"A RabbitMQ shovel moves {topology.uplink_queue} here (ack-mode on-confirm, "
            "routing keys kept, user_id stamped with the shovel's login).",
            "servers": [{"$ref": "#/servers/parent"}],
            "messages": every,
            "bindings": _exchange_binding(up.parent_exchange),
        }
        operations["uplink"] = {
            "action": "send",
            "channel": {"$ref": "#/channels/uplink"},
            "title": f"Forward upward from {settings.node} ({settings.level})",
            "description": "Records verified at this level, each with this level's hop in its lineage.",
            "security": [{"$ref": "#/components/securitySchemes/officeCredentials"}],
        }
    for user in settings.broker_users:
        if user.role != "consumer":
            continue
        queue = f"{topology.prefix}.replay.{user.name}"
        channels[f"queue.{queue}"] = {
            "address": queue,
            "title": f"Replay queue of {user.name}",
            "description": "Filled by simpul replay (or POST /v1/admin/replays) with a window of the feed "
            "stream; message ids kept, so a deduping consumer applies each record once.",
            "messages": every,
            "bindings": _queue_binding(queue),
        }
        operations[f"consume_{queue}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/queue.{queue}"},
            "title": f"{user.name} reads its replays",
            "security": [{"$ref": "#/components/securitySchemes/officeCredentials"}],
        }
