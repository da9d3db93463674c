"""Topology as code: the rendered RabbitMQ definitions of the example configs, without a broker."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from hub.cli.root import main
from hub.errors import ConfigError
from hub.levels.render import hash_password, office_routing_regex, render_definitions, vhost_of
from hub.settings import Settings, load_settings
from hub.transport.factory import topology_for
from hub.transport.policies import queue_policies

CONFIGS = Path(__file__).resolve().parents[3] / "ops" / "config"


def _example(level: str) -> Settings:
    return load_settings(CONFIGS / f"{level}.example.toml")


def _by(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def test_password_hash_is_rabbitmq_sha256() -> None:
    """base64(salt + sha256(salt + password)), 4-byte salt; a fresh salt each time."""
    salt = b"\x01\x02\x03\x04"
    value = hash_password("rahasia", salt=salt)
    raw = base64.b64decode(value)
    assert raw[:4] == salt
    assert raw[4:] == hashlib.sha256(salt + b"rahasia").digest()
    assert hash_password("rahasia") != hash_password("rahasia")
    with pytest.raises(ConfigError):
        hash_password("")


@pytest.mark.parametrize(
    ("office", "allowed", "refused"),
    [
        (
            "32.01",
            [
                "ormas_registration.v1.32.01",
                "ormas_registration.v1.32.01.05",
                "conflict_incident.v2.32.01.05.2001",
            ],
            [
                "ormas_registration.v1.32.02.05",
                "ormas_registration.v1.32.011",
                "ormas_registration.v1.32",
                "ormas_registration.v1.33.01",
                "ormas_registration.32.01",
                "x.v1.32.01.05 ",
                "x.v1.32.01.05.#",
                "x.v1.32.01.abc",
                "",
            ],
        ),
        (
            "32.01.01",
            ["early_warning.v1.32.01.01", "early_warning.v1.32.01.01.2003"],
            ["early_warning.v1.32.01.02", "early_warning.v1.32.01", "early_warning.v1.32.01.010"],
        ),
        (
            "pusat",
            ["periodic_report.v1.32", "periodic_report.v3.96.03.01", "periodic_report.v1"],
            ["q.unknown.xx", "periodic_report.32.01", ""],
        ),
    ],
)
def test_office_regex_allows_own_region_only(office: str, allowed: list[str], refused: list[str]) -> None:
    """The topic-permission regex, run through ``re`` as RabbitMQ would, passes exactly the office's keys."""
    pattern = re.compile(office_routing_regex(office))
    assert [k for k in allowed if not pattern.search(k)] == []
    assert [k for k in refused if pattern.search(k)] == []


def test_kabkota_users_get_least_privilege() -> None:
    """Office users write to the ingest exchange only, under their own kode wilayah; the hub user (existing,
    no hash) gets permissions only, scoped to the prefix."""
    d = render_definitions(_example("kabkota"))
    assert d["vhosts"] == [{"name": "simpul-kab-bogor"}]
    users = _by(d["users"], "name")
    assert set(users) == {"kec-cibinong", "kec-gunungputri"}  # guest is not (re)created
    assert users["kec-cibinong"]["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert users["kec-cibinong"]["tags"] == []
    perms = _by(d["permissions"], "user")
    assert perms["kec-cibinong"] == {
        "user": "kec-cibinong",
        "vhost": "simpul-kab-bogor",
        "configure": "",
        "write": r"^simpul\.ingest$",
        "read": "",
    }
    assert perms["guest"]["configure"] == perms["guest"]["read"] == r"^simpul\."
    topic = _by(d["topic_permissions"], "user")
    assert set(topic) == {"kec-cibinong", "kec-gunungputri"}
    cib = topic["kec-cibinong"]
    assert (cib["exchange"], cib["read"]) == ("simpul.ingest", "^$")
    assert re.search(cib["write"], "ormas_registration.v1.32.01.01")
    assert not re.search(cib["write"], "ormas_registration.v1.32.01.02")
    # the write regex on the exchange matches the ingest exchange and nothing else of the topology
    exchanges = [e["name"] for e in d["exchanges"]]
    assert [e for e in exchanges if re.search(perms["kec-cibinong"]["write"], e)] == ["simpul.ingest"]


def test_shovel_drains_uplink_into_parent_with_confirms() -> None:
    """One shovel parameter: uplink queue -> parent's ingest, on-confirm, persistent, routing key kept, the
    parent's login stamped as user_id; URIs name their vhost explicitly."""
    settings = _example("kabkota")
    d = render_definitions(settings)
    [shovel] = d["parameters"]
    assert (shovel["component"], shovel["vhost"], shovel["name"]) == (
        "shovel",
        "simpul-kab-bogor",
        "simpul-uplink",
    )
    value = shovel["value"]
    assert value["src-queue"] == topology_for(settings).uplink_queue == "simpul.uplink"
    assert value["src-queue-args"] == {"x-queue-type": "quorum"}  # the shovel may declare it first
    assert value["src-uri"] == "amqp://guest:guest@127.0.0.1:5672/simpul-kab-bogor"
    assert value["dest-uri"] == settings.uplink.parent_uri
    assert value["dest-exchange"] == "simpul.ingest"
    assert value["ack-mode"] == "on-confirm"
    assert value["reconnect-delay"] == 5
    assert value["src-delete-after"] == "never"
    assert value["dest-publish-properties"] == {"delivery_mode": 2, "user_id": "kab-bogor"}
    assert "dest-exchange-key" not in value and "dest-routing-key" not in value
    # the user the shovel logs in as exists at the parent, limited to 32.01
    parent = render_definitions(_example("provinsi"))
    assert "kab-bogor" in _by(parent["users"], "name")
    assert re.search(_by(parent["topic_permissions"], "user")["kab-bogor"]["write"], "x.v1.32.01.05")
    assert not re.search(_by(parent["topic_permissions"], "user")["kab-bogor"]["write"], "x.v1.32.73.05")


def test_default_vhost_is_spelled_out_in_shovel_uris() -> None:
    """``amqp://host/`` means vhost "/" for the hub; the Erlang client needs ``%2F``."""
    settings = Settings(
        node="kab-x",
        level="kabkota",
        region="32.01",
        broker={"url": "amqp://guest:guest@127.0.0.1:5672/"},
        uplink={"enabled": True, "parent_uri": "amqp://kab-x:pw@10.0.0.2:5672/"},
    )
    d = render_definitions(settings)
    assert d["vhosts"] == [{"name": "/"}]
    value = d["parameters"][0]["value"]
    assert value["src-uri"].endswith(":5672/%2F")
    assert value["dest-uri"].endswith(":5672/%2F")
    assert vhost_of("amqp://h/simpul%2Fa") == "simpul/a"


def test_pusat_has_feed_stream_and_no_shovel() -> None:
    """pusat: the feed is a stream with its retention, bound to ingest; no uplink parts, no shovel."""
    d = render_definitions(_example("pusat"))
    queues = _by(d["queues"], "name")
    assert queues["simpul.feed"]["arguments"] == {"x-queue-type": "stream", "x-max-age": "365D"}
    assert queues["simpul.feed"]["durable"] is True
    assert {q["arguments"]["x-queue-type"] for n, q in queues.items() if n != "simpul.feed"} == {"quorum"}
    assert "simpul.uplink" not in queues
    assert d["parameters"] == []
    bindings = {(b["source"], b["destination"], b["routing_key"]) for b in d["bindings"]}
    assert ("simpul.ingest", "simpul.feed", "#") in bindings
    perms = _by(d["permissions"], "user")
    assert perms["feed-reader"] == {
        "user": "feed-reader",
        "vhost": "/",
        "configure": "",
        "write": "",
        "read": r"^(simpul\.feed|simpul\.replay\.feed\-reader)$",
    }
    assert _by(d["topic_permissions"], "user")["feed-reader"]["write"] == "^$"
    read = perms["feed-reader"]["read"]
    assert re.match(read, "simpul.replay.feed-reader") and re.match(read, "simpul.feed")
    assert not re.match(read, "simpul.replay.other-app") and not re.match(read, "simpul.central")


@pytest.mark.parametrize("level", ["kabkota", "provinsi", "pusat"])
def test_policies_are_the_hubs_own(level: str) -> None:
    """Names and bodies equal queue_policies(topology_for(settings)): apply and a running hub agree."""
    settings = _example(level)
    d = render_definitions(settings)
    expected = {p.name: p.as_api_body() for p in queue_policies(topology_for(settings))}
    rendered = {p["name"]: {k: v for k, v in p.items() if k not in ("name", "vhost")} for p in d["policies"]}
    assert rendered == expected
    assert {p["vhost"] for p in d["policies"]} == {d["vhosts"][0]["name"]}
    # every queue with a dead-letter exchange is covered by exactly one policy; the uplink queue by none
    covered = [
        q["name"] for q in d["queues"] if any(re.fullmatch(p["pattern"], q["name"]) for p in d["policies"])
    ]
    assert "simpul.uplink" not in covered and "simpul.dead" not in covered
    assert "simpul.central" in covered


def test_every_binding_names_declared_entities() -> None:
    """Bindings, policies and the shovel refer only to what the same document declares (or the parent)."""
    d = render_definitions(_example("provinsi"))
    exchanges = {e["name"] for e in d["exchanges"]}
    queues = {q["name"] for q in d["queues"]}
    assert all(b["source"] in exchanges and b["destination"] in queues for b in d["bindings"])
    assert d["parameters"][0]["value"]["src-queue"] in queues
    assert {e["type"] for e in d["exchanges"]} == {"topic"}


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ({"name": "x", "office": "99.99", "role": "source"}, "kode wilayah"),
        ({"name": "x", "office": "3201", "role": "source"}, "dotted"),
        ({"name": "x", "office": "32.73", "role": "source"}, "outside the node's region"),
        ({"name": "x", "office": "32.01", "role": "source", "password_hash": "bm9wZQ=="}, "36 bytes"),
        ({"name": "x", "office": "32.01", "role": "consumer"}, "feed.stream"),
    ],
)
def test_bad_broker_users_are_refused(tmp_path: Path, user: dict[str, str], message: str) -> None:
    """Unknown or undotted office codes, offices outside the node's region, malformed hashes, a consumer
    without a feed: ConfigError before anything renders."""
    lines = ['node = "kab-bogor"', 'level = "kabkota"', 'region = "32.01"', "[[broker_users]]"]
    lines += [f'{k} = "{v}"' for k, v in user.items()]
    path = tmp_path / "bad.toml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(path)


def test_parent_on_own_vhost_is_refused() -> None:
    """A shovel from a vhost into itself would loop records forever."""
    settings = Settings(
        node="kab-x",
        level="kabkota",
        broker={"url": "amqp://guest:guest@127.0.0.1:5672/a"},
        uplink={"enabled": True, "parent_uri": "amqp://kab-x:pw@127.0.0.1:5672/a"},
    )
    with pytest.raises(ConfigError, match="own vhost"):
        render_definitions(settings)


def test_cli_render_and_hash_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """render prints the same JSON it writes (the file private); hash-password reads standard input."""
    config = CONFIGS / "kabkota.example.toml"
    assert main(["topology", "render", "--config", str(config)]) == 0
    printed = json.loads(capsys.readouterr().out)
    out = tmp_path / "kab.json"
    assert main(["topology", "render", "--config", str(config), "--out", str(out)]) == 0
    assert "6 queues" in capsys.readouterr().err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    written = json.loads(out.read_text())
    for doc in (printed, written):  # hashes are fixed in the config, so both renders are equal
        assert doc == render_definitions(_example("kabkota"))
    monkeypatch.setattr("sys.stdin", io.StringIO("dev-kab-bogor-not-secret\n"))
    assert main(["topology", "hash-password"]) == 0
    raw = base64.b64decode(capsys.readouterr().out.strip())
    assert raw[4:] == hashlib.sha256(raw[:4] + b"dev-kab-bogor-not-secret").digest()


def test_examples_dev_passwords_match_their_hashes() -> None:
    """The kab/kota shovel's password in parent_uri opens the provincial user it names (and so on up)."""
    from urllib.parse import urlsplit

    for child, parent in (("kabkota", "provinsi"), ("provinsi", "pusat")):
        uri = urlsplit(_example(child).uplink.parent_uri)
        user = next(u for u in _example(parent).broker_users if u.name == uri.username)
        assert user.role == "shovel" and user.password_hash is not None
        raw = base64.b64decode(user.password_hash)
        assert raw[4:] == hashlib.sha256(raw[:4] + (uri.password or "").encode()).digest()
