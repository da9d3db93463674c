"""Topology as code on clusters: shovel URI lists and replicated queues in the rendered definitions."""

from __future__ import annotations

import pytest

from hub.errors import ConfigError
from hub.levels.render import render_definitions
from hub.settings import Settings
from hub.transport.factory import topology_for
from hub.transport.topology import QueueSpec, default_topology, with_feed, with_replicas

OWN = [f"amqp://guest:guest@127.0.0.1:{p}/simpul-prov" for p in (5701, 5702, 5703)]
PARENT = [f"amqp://jabar:pw@10.0.0.{n}:5672/simpul-pusat" for n in (1, 2, 3)]


def _cluster_settings(**broker: object) -> Settings:
    return Settings(
        node="prov-32",
        level="provinsi",
        region="32",
        broker={"url": OWN[0], "urls": OWN[1:], "replicas": 3, **broker},
        uplink={"enabled": True, "parent_uri": PARENT[0], "parent_uris": PARENT[1:]},
    )


def test_shovel_takes_every_address_of_both_clusters() -> None:
    """src-uri and dest-uri become lists (the shovel picks one per (re)connect), each with its vhost."""
    value = render_definitions(_cluster_settings())["parameters"][0]["value"]
    assert value["src-uri"] == OWN
    assert value["dest-uri"] == PARENT
    # the shovel may declare its source queue first: with the same replica count as the hub
    assert value["src-queue-args"] == {"x-queue-type": "quorum", "x-quorum-initial-group-size": 3}


def test_queues_carry_the_replica_count_and_streams_their_cluster_size() -> None:
    settings = _cluster_settings()
    d = render_definitions(
        settings.model_copy(update={"feed": settings.feed.model_copy(update={"stream": True})})
    )
    args = {q["name"]: q["arguments"] for q in d["queues"]}
    assert args["simpul.forward"]["x-quorum-initial-group-size"] == 3
    assert args["simpul.feed"]["x-initial-cluster-size"] == 3
    assert "x-quorum-initial-group-size" not in args["simpul.feed"]
    assert all(a["x-queue-type"] in ("quorum", "stream") for a in args.values())


def test_no_replicas_setting_keeps_the_single_broker_arguments() -> None:
    """0 sends no argument: queues created before clustering re-declare without PRECONDITION_FAILED."""
    topology = topology_for(Settings(node="n", broker={"url": OWN[0]}))
    assert all("x-quorum-initial-group-size" not in q.arguments() for q in topology.queues)
    assert QueueSpec("q", kind="stream", replicas=2).arguments() == {
        "x-queue-type": "stream",
        "x-initial-cluster-size": 2,
    }
    replicated = with_replicas(with_feed(default_topology()), 5)
    assert {q.replicas for q in replicated.queues} == {5}
    with pytest.raises(ValueError):
        with_replicas(default_topology(), -1)


def test_parent_that_is_one_of_our_own_nodes_is_refused() -> None:
    with pytest.raises(ConfigError):
        render_definitions(
            Settings(
                node="prov-32",
                level="provinsi",
                region="32",
                broker={"url": OWN[0], "urls": OWN[1:]},
                uplink={"enabled": True, "parent_uri": "amqp://x:y@10.9.9.9/other", "parent_uris": [OWN[2]]},
            )
        )


def test_cluster_addresses_must_share_user_and_vhost() -> None:
    """user_id is stamped from the login, and the topology lives in one vhost: mixed addresses are refused."""
    with pytest.raises(ValueError, match="same user and vhost"):
        Settings(node="n", broker={"url": OWN[0], "urls": ["amqp://other:pw@127.0.0.1:5702/simpul-prov"]})
    with pytest.raises(ValueError, match="same user and vhost"):
        Settings(node="n", broker={"url": OWN[0], "urls": ["amqp://guest:guest@127.0.0.1:5702/elsewhere"]})
    ok = Settings(node="n", broker={"url": OWN[0], "urls": [*OWN[1:], OWN[0]]}).broker
    assert ok.all_urls() == OWN
