"""Deployment files: systemd units, the state-store backup script, RabbitMQ configuration examples."""

from __future__ import annotations

import configparser
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from hub.settings import BatchSettings, BrokerSettings
from tests.ops.conftest import ROOT

SYSTEMD = ROOT / "ops" / "systemd"
RABBITMQ = ROOT / "ops" / "rabbitmq"
UNITS = sorted(p for p in SYSTEMD.iterdir() if p.suffix in (".service", ".timer", ".target"))


def unit(path: Path) -> configparser.ConfigParser:
    """A unit file parsed (repeated keys allowed, case kept)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


def rabbitmq_conf() -> dict[str, str]:
    """``key = value`` pairs of ops/rabbitmq/rabbitmq.conf."""
    pairs = {}
    for line in (RABBITMQ / "rabbitmq.conf").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_systemd_unit_is_well_formed(path: Path) -> None:
    """Each unit parses; services run the venv's simpul or the backup script with absolute paths."""
    parsed = unit(path)
    assert parsed.has_section("Unit") and parsed["Unit"].get("Description")
    if path.suffix == ".service":
        service = parsed["Service"]
        assert service["ExecStart"].startswith("/")
        assert service.get("User") == "simpul" and service.get("NoNewPrivileges") == "yes"
        assert "StartLimitIntervalSec" not in service  # belongs to [Unit]
    if path.name in ("simpul-node@.service", "simpul-worker@.service"):
        assert parsed["Service"]["ExecStart"] == (
            "/opt/simpul/.venv/bin/simpul run --config /etc/simpul/%i.toml"
        )
        assert parsed["Service"]["KillSignal"] == "SIGTERM"
        assert parsed["Install"]["WantedBy"] == "simpul.target"
        assert parsed["Service"]["EnvironmentFile"] == "/etc/simpul/%i.env"


def test_systemd_units_pass_systemd_analyze(tmp_path: Path) -> None:
    """systemd-analyze verify finds nothing to complain about (paths pointed at this checkout)."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (Debian package systemd) is part of every Debian system"
    for path in UNITS:
        text = path.read_text().replace("/opt/simpul/.venv/bin/simpul", str(ROOT / ".venv/bin/simpul"))
        text = text.replace("/usr/bin/python3 /opt/simpul/", f"{sys.executable} {ROOT}/")
        (tmp_path / path.name).write_text(text)
    for path in UNITS:
        done = subprocess.run(
            [analyze, "verify", "--man=no", str(tmp_path / path.name)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
        complaints = [
            line
            for line in (done.stdout + done.stderr).splitlines()
            if line.strip() and "Failed to connect to bus" not in line
        ]
        assert complaints == [], (path.name, complaints)


def test_backup_script_copies_live_stores_and_keeps_n(tmp_path: Path) -> None:
    """A store with an open writer in WAL mode is copied whole and verified; only --keep backups remain."""
    state = tmp_path / "state"
    (state / "sub").mkdir(parents=True)
    live = sqlite3.connect(state / "quarantine.sqlite3")
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("CREATE TABLE q (id INTEGER PRIMARY KEY, body TEXT)")
    live.executemany("INSERT INTO q (body) VALUES (?)", [("x" * 100,)] * 500)
    live.commit()  # committed rows live in the WAL until a checkpoint: the copy must include them
    sqlite3.connect(state / "sub" / "sources.sqlite3").execute("CREATE TABLE c (k)").connection.commit()
    script = SYSTEMD / "simpul-backup.py"
    backups = tmp_path / "backups"
    try:
        for _ in range(2):
            done = subprocess.run(
                [sys.executable, str(script), str(state), str(backups), "--keep", "1"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, done.stderr
    finally:
        live.close()
    kept = sorted(backups.iterdir())
    assert len(kept) == 1 and "backed up 2/2 stores" in done.stdout
    copy = sqlite3.connect(kept[0] / "quarantine.sqlite3")
    assert copy.execute("SELECT count(*) FROM q").fetchone()[0] == 500
    copy.close()
    manifest = (kept[0] / "MANIFEST").read_text()
    assert "quarantine.sqlite3" in manifest and "sub/sources.sqlite3" in manifest


def test_rabbitmq_conf_values_fit_simpul() -> None:
    """Heartbeat, message size, consumer timeout and the memory/disk alarms are set, and fit the hub."""
    conf = rabbitmq_conf()
    assert int(conf["heartbeat"]) >= BrokerSettings().heartbeat_s
    largest_batch = BatchSettings.model_fields["max_bytes"].metadata
    most = next(m.le for m in largest_batch if hasattr(m, "le"))
    assert most < int(conf["max_message_size"]) <= 2 * 1024 * 1024
    assert int(conf["consumer_timeout"]) >= 15 * 60 * 1000
    assert 0.4 <= float(conf["vm_memory_high_watermark.relative"]) <= 0.8
    assert conf["disk_free_limit.absolute"].endswith("GB")


def _rabbitmqctl_eval(expression: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "eval", expression], capture_output=True, text=True, timeout=60, check=False
    )
    return done.stdout + done.stderr


@pytest.mark.broker
def test_rabbitmq_conf_passes_the_brokers_own_schema() -> None:
    """The running RabbitMQ's cuttlefish schema accepts rabbitmq.conf, and rejects an unknown key."""
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("rabbitmqctl missing; run ops/scripts/ensure-rabbitmq.sh")
    check = (
        "Dir = filename:dirname(code:lib_dir(rabbit)), "
        'Schemas = filelib:wildcard(Dir ++ "/*/priv/schema/*.schema"), '
        'Conf = cuttlefish_conf:files(["{path}"]), '
        "case Conf of {{errorlist, E}} -> {{conf_errors, E}}; _ -> "
        "case cuttlefish_generator:map(cuttlefish_schema:files(Schemas), Conf) of "
        "{{error, Phase, Errs}} -> {{error, Phase, Errs}}; Mapped -> {{ok, length(Mapped)}} end end."
    )
    text = (RABBITMQ / "rabbitmq.conf").read_text()
    for content, expect in ((text, "{ok,"), (text + "\nbogus_key.nonsense = 3\n", "unknown_variable")):
        fd, name = tempfile.mkstemp(suffix=".conf")  # readable by the broker's own user
        try:
            os.write(fd, content.encode())
            os.close(fd)
            os.chmod(name, 0o644)
            answer = _rabbitmqctl_eval(check.format(path=name))
        finally:
            os.unlink(name)
        assert expect in answer, answer


@pytest.mark.broker
def test_advanced_config_is_valid_erlang() -> None:
    """ops/rabbitmq/advanced.config reads as Erlang terms configuring the rabbit application."""
    erl = shutil.which("erl")
    if erl is None:
        pytest.fail("erl missing (comes with rabbitmq-server); run ops/scripts/ensure-rabbitmq.sh")
    done = subprocess.run(
        [erl, "-noshell", "-eval", 'io:format("~p~n", [file:consult("advanced.config")]), halt().'],
        cwd=RABBITMQ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.startswith("{ok,[[{rabbit,"), done.stdout + done.stderr
