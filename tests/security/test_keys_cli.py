"""`simpul keys`: a key pair per office, the registry file, revocation, broker users; a node using them."""

from __future__ import annotations

import stat
from datetime import datetime
from pathlib import Path

import pytest

from hub.cli.root import main
from hub.errors import ConfigError
from hub.trust import build_signer, build_verifier
from hub.trust.keys import KeyRegistry, read_registry
from hub.trust.signing import Signer
from hub.trust.verify import TrustPolicy, Verifier
from tests.helpers import node_settings
from tests.security.test_signatures import NOW, reason, signed


def test_generate_list_revoke_user(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """generate writes a 0600 PEM and registers the public key; list shows it; revoke and user edit it."""
    registry, pem = tmp_path / "keys.json", tmp_path / "bogor-2026.pem"
    args = ["keys", "generate", "--key-id", "bogor-2026", "--office", "32.01", "--out", str(pem)]
    assert main([*args, "--registry", str(registry)]) == 0
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    model = read_registry(registry)
    assert model.keys["bogor-2026"].office == "32.01" and model.keys["bogor-2026"].revoked_at is None
    assert main(["keys", "user", "simpul-32.01", "32.01", "--registry", str(registry)]) == 0
    assert main(["keys", "list", "--registry", str(registry)]) == 0
    out = capsys.readouterr().out
    assert "bogor-2026\t32.01" in out and "user simpul-32.01\t32.01" in out
    signer = Signer.from_file(pem, "bogor-2026", "32.01")
    verifier = Verifier(KeyRegistry(registry), TrustPolicy(), clock=lambda: NOW)
    verifier.verify(signed(signer))
    assert (
        main(
            ["keys", "revoke", "bogor-2026", "--at", "2024-03-06T00:00:00+00:00", "--registry", str(registry)]
        )
        == 0
    )
    revoked_at = read_registry(registry).keys["bogor-2026"].revoked_at
    assert revoked_at == datetime.fromisoformat("2024-03-06T00:00:00+00:00")
    fresh = Verifier(KeyRegistry(registry), TrustPolicy(), clock=lambda: NOW)
    assert reason(fresh.verify, signed(signer)) == "key_revoked"


def test_key_ids_are_never_reused(tmp_path: Path) -> None:
    """A second key under an existing id is refused (exit 2), and the private key file is not overwritten."""
    registry = tmp_path / "keys.json"
    base = ["keys", "generate", "--key-id", "k1", "--office", "32", "--registry", str(registry)]
    assert main([*base, "--out", str(tmp_path / "a.pem")]) == 0
    assert main([*base, "--out", str(tmp_path / "b.pem")]) == 2
    assert not (tmp_path / "b.pem").exists()


def test_production_node_needs_a_real_key(tmp_path: Path) -> None:
    """Outside dev mode there is no development key: no signing key configured is a config error."""
    settings = node_settings(tmp_path, dev_mode=False)
    with pytest.raises(ConfigError, match="signing key"):
        build_signer(settings)


def test_node_signs_with_its_configured_key(tmp_path: Path) -> None:
    """A node with trust.signing_key_path signs under its key id, and its own verifier knows the key."""
    registry, pem = tmp_path / "keys.json", tmp_path / "jabar.pem"
    gen = ["keys", "generate", "--key-id", "jabar-2026a", "--office", "32", "--out", str(pem)]
    assert main([*gen, "--registry", str(registry)]) == 0
    settings = node_settings(
        tmp_path,
        region="32",
        level="provinsi",
        trust={"signing_key_path": str(pem), "key_id": "jabar-2026a", "registry_path": str(registry)},
    )
    signer = build_signer(settings)
    assert (signer.key_id, signer.office) == ("jabar-2026a", "32")
    verifier = build_verifier(settings, signer)
    verifier._clock = lambda: NOW  # the test envelope's time
    verifier.verify(signed(signer))
