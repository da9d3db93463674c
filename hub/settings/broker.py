"""The broker sections of the node's settings, and what the node declares and renders on the broker:
the connection and its cluster (``[broker]``), publishing batches (``[batch]``), the link to the parent
level (``[uplink]``), the replayable feed stream (``[feed]``) and the broker users that ``simpul topology
render`` creates (``[[broker_users]]``).

Imports pydantic, ``schemas`` and ``hub.settings.base`` only.
"""

from __future__ import annotations

import base64
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator, model_validator

from hub.settings.base import _Section, office_exists
from schemas.classification import Classification


class BrokerSettings(_Section):
    """RabbitMQ connection and publishing limits.

    On a cluster, ``urls`` lists the other nodes' AMQP addresses (same user and vhost as ``url``) and
    ``management_urls`` their management APIs: the node connects to one address, and when that connection is
    lost reconnects to another (shuffled, with backoff). ``replicas`` sets how many nodes hold each quorum
    queue and stream when they are *created* (RabbitMQ refuses to re-declare an existing queue with another
    value, so it must stay the same for the life of the queues; grow an existing queue with
    ``rabbitmq-queues grow``).
    """

    url: str = Field("amqp://guest:guest@127.0.0.1:5672/", description="AMQP URL, vhost included")
    urls: list[str] = Field(
        default_factory=list, description="More AMQP URLs of the same cluster (same user and vhost as url)"
    )
    management_url: str = Field("http://guest:guest@127.0.0.1:15672", description="Management API base URL")
    management_urls: list[str] = Field(
        default_factory=list, description="More management API base URLs of the same cluster"
    )
    replicas: int = Field(
        0,
        ge=0,
        le=9,
        description="Quorum queue / stream replicas at creation (x-quorum-initial-group-size, "
        "x-initial-cluster-size); 0 = the broker's default, which is every cluster node",
    )
    heartbeat_s: int = Field(15, ge=5, le=60, description="AMQP heartbeat; 10-20 s notices a dead peer fast")
    publish_timeout_s: float = Field(10.0, gt=0, le=120, description="Max wait for a publisher confirm")
    max_inflight: int = Field(256, ge=1, le=10_000, description="AMQP messages awaiting confirm at once")
    prefix: str = Field(
        "simpul", pattern=r"^[a-z][a-z0-9_-]{0,30}$", description="Exchange/queue name prefix"
    )
    delivery_limit: int = Field(10, ge=1, le=1000, description="Deliveries before a message is dead-lettered")

    @model_validator(mode="after")
    def _one_cluster(self) -> BrokerSettings:
        # Every address must log in as the same user on the same vhost: the user is stamped into each
        # message's user_id, and the topology lives in one vhost.
        def login(url: str) -> tuple[str | None, str]:
            parts = urlsplit(url)
            return parts.username, unquote(parts.path[1:]) or "/"

        if self.urls and any(login(u) != login(self.url) for u in self.urls):
            raise ValueError("every address in urls must use the same user and vhost as url")
        return self

    def all_urls(self) -> list[str]:
        """``url`` then ``urls``, without repeats."""
        return list(dict.fromkeys([self.url, *self.urls]))

    def all_management_urls(self) -> list[str]:
        """``management_url`` then ``management_urls``, without repeats."""
        return list(dict.fromkeys([self.management_url, *self.management_urls]))


class BatchSettings(_Section):
    """Several records with one routing key travel in one AMQP message; these bound the grouping."""

    max_records: int = Field(100, ge=1, le=5000, description="Records per AMQP message at most")
    max_bytes: int = Field(512 * 1024, ge=1024, le=900 * 1024, description="Body size per message at most")
    linger_ms: float = Field(
        2.0,
        ge=0,
        le=1000,
        description="How long a partial batch waits for company, only while earlier messages await confirms",
    )
    max_pending_records: int = Field(20_000, ge=1, description="Records accepted but not yet confirmed")


class UplinkSettings(_Section):
    """The link to the parent level (nodes below pusat). The hub verifies and forwards into ``upward``;
    crossing to the parent's broker is a RabbitMQ shovel that ``simpul topology render`` writes."""

    enabled: bool = Field(False, description="Forward verified records to the parent level")
    parent_uri: str = Field(
        "amqp://guest:guest@127.0.0.1:5672/%2F",
        description="AMQP URI of the parent's broker with this office's user there (used by the shovel)",
    )
    parent_uris: list[str] = Field(
        default_factory=list,
        description="More AMQP URIs of the parent's cluster nodes; the shovel picks one per (re)connect",
    )
    parent_exchange: str = Field("simpul.ingest", description="Parent exchange the shovel publishes to")
    hold_classifications: list[Classification] = Field(
        default_factory=lambda: [Classification.SANGAT_RAHASIA],
        description="Records of these classifications are held at this level, not forwarded",
    )
    prefetch: int = Field(256, ge=1, le=10_000)
    batch_messages: int = Field(64, ge=1, le=10_000)


class FeedSettings(_Section):
    """The replayable feed (pusat): a RabbitMQ stream bound to the ingest exchange."""

    stream: bool = Field(False, description="Declare the stream <prefix>.feed")
    max_age: str = Field("365D", pattern=r"^[0-9]+[YMDhms]$", description="Stream retention, e.g. 365D")


class BrokerUser(_Section):
    """A broker user ``simpul topology render`` creates on this node's vhost, with least privilege by role.

    ``source``: an office publishing its records; ``shovel``: the user a child level's shovel logs in as.
    Both may only write to the ingest exchange, under routing keys of their office's region. ``hub``: the
    node's own user (everything under the prefix); ``consumer``: a ministry application reading the feed.
    Without ``password_hash`` the user must already exist and only gets its permissions.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$", description="Broker user name")
    office: str = Field(description="Kode wilayah of the office (dotted, e.g. 32.01) or 'pusat'")
    role: Literal["source", "shovel", "hub", "consumer"] = "source"
    password_hash: str | None = Field(
        None, description="rabbit_password_hashing_sha256, from `simpul topology hash-password`"
    )

    @field_validator("office")
    @classmethod
    def _office_exists(cls, value: str) -> str:
        if not office_exists(value):
            raise ValueError("must be 'pusat' or an existing dotted kode wilayah such as 32.01")
        return value

    @field_validator("password_hash")
    @classmethod
    def _hash_shape(cls, value: str | None) -> str | None:
        # 4 bytes of salt + a SHA-256 digest, base64: what RabbitMQ's sha256 hashing stores.
        if value is not None:
            try:
                raw = base64.b64decode(value, validate=True)
            except ValueError as exc:
                raise ValueError("must be base64 (use `simpul topology hash-password`)") from exc
            if len(raw) != 36:
                raise ValueError("must be a rabbit_password_hashing_sha256 hash (36 bytes)")
        return value
