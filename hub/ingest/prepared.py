"""What validation hands on: a record ready to publish (``Prepared``: its signed body, routing key, message
id and the few fields the pipeline counts by) and one validated but not yet signed (``Draft``, which
``hub.ingest.validation.Validator.seal`` signs together with the drafts offered beside it). Plain holders,
with ``__slots__``: records wait for their confirms by the thousand. Imports only ``schemas``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from schemas.envelope import Envelope


class Prepared:
    """A record ready to publish: its serialised body (signed, what is published), routing key and
    message id, and the few envelope fields the pipeline counts and logs by.

    Nothing else of the envelope is kept: records wait for their confirms by the thousand, and every
    object they hold is one more for the cyclic collector to walk (a full collection of a publishing
    node's in-flight records took ~2 s of CPU on the loaded machine). ``data`` (the envelope's unsigned
    JSON form) and ``envelope`` (its model, without the signature) are read back from the body on
    demand: the hot path never needs them."""

    __slots__ = (
        "_envelope",
        "body",
        "kode_wilayah",
        "message_id",
        "op",
        "revision",
        "routing_key",
        "schema_name",
        "schema_version",
    )

    def __init__(
        self,
        data: Mapping[str, Any],
        body: bytes,
        routing_key: str,
        message_id: str,
        envelope: Envelope | None = None,
    ) -> None:
        self.body = body
        self.routing_key = routing_key
        self.message_id = message_id
        self.kode_wilayah: str = data["kode_wilayah"]
        self.schema_name: str = data["schema_name"]
        self.schema_version: str = data["schema_version"]
        self.revision: int = data["revision"]
        self.op: str = data["op"]
        self._envelope = envelope

    @property
    def data(self) -> dict[str, Any]:
        """The envelope's JSON form without ``signature`` and ``lineage`` (what was signed), parsed from
        the body each time."""
        data: dict[str, Any] = orjson.loads(self.body)
        del data["signature"], data["lineage"]
        return data

    @property
    def envelope(self) -> Envelope:
        if self._envelope is None:
            self._envelope = Envelope.model_validate(self.data)
        return self._envelope


class Draft:
    """A validated record whose envelope is not yet signed or serialised (see ``Validator.seal``):
    ``data`` is the envelope's unsigned JSON form (payload included), ``head`` the compact JSON of
    ``data`` without its payload and ``payload`` the payload's, both with keys sorted, so that the body
    and the signed bytes are joined from them without serialising the envelope again."""

    __slots__ = ("data", "envelope", "head", "message_id", "payload", "routing_key")

    def __init__(
        self,
        data: dict[str, Any],
        head: bytes,
        payload: bytes,
        routing_key: str,
        message_id: str,
        envelope: Envelope | None = None,
    ) -> None:
        self.data = data
        self.head = head
        self.payload = payload
        self.routing_key = routing_key
        self.message_id = message_id
        self.envelope = envelope
