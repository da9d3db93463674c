"""Settings: file, environment and validation errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import ConfigError
from hub.settings import load_settings


def test_toml_file_and_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A TOML value is used, and a SIMPUL_* variable beats it."""
    path = tmp_path / "node.toml"
    path.write_text('node = "kab-bogor"\nlevel = "kabkota"\n[broker]\nheartbeat_s = 12\n')
    monkeypatch.setenv("SIMPUL_BROKER__HEARTBEAT_S", "20")
    settings = load_settings(path)
    assert settings.node == "kab-bogor"
    assert settings.level == "kabkota"
    assert settings.broker.heartbeat_s == 20


def test_errors_name_every_bad_key(tmp_path: Path) -> None:
    """An out-of-range value and an unknown key are both named in one ConfigError."""
    path = tmp_path / "bad.toml"
    path.write_text("[broker]\nheartbeat_s = 1\nsurprise = true\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert "broker.heartbeat_s" in str(err.value)
    assert "broker.surprise" in str(err.value)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    """A syntax error says which file is broken."""
    path = tmp_path / "broken.toml"
    path.write_text("node = \n")
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        load_settings(path)


def test_development_key_refused_outside_dev_mode() -> None:
    """The built-in key only works with dev_mode on."""
    with pytest.raises(ConfigError, match="token_key"):
        load_settings().key_bytes("token_key")
    assert load_settings(None, dev_mode=True).key_bytes("token_key")


def test_a_node_does_not_start_with_an_office_that_does_not_exist(tmp_path: Path) -> None:
    """``region``, a source's office and an API key's office must be ``pusat`` or an existing dotted kode
    wilayah; the error names where, never the API key (a secret)."""
    path = tmp_path / "node.toml"
    path.write_text(
        'region = "32.99"\n'
        '[[sources]]\nname = "a"\nkind = "rest_poll"\nschema = "conflict_incident"\nsystem = "s"\n'
        'office = "3201"\n'
        '[http.api_keys.rahasia-sekali]\nsystem = "s"\noffice = "99"\n'
    )
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    text = str(err.value)
    assert "region: is not an existing kode wilayah" in text
    assert "sources[a].office: is not an existing kode wilayah" in text  # undotted is not accepted here
    assert "http.api_keys[...].office: is not an existing kode wilayah" in text
    assert "rahasia-sekali" not in text


def test_existing_offices_and_pusat_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(
        'region = "32.01"\n[[sources]]\nname = "a"\nkind = "rest_poll"\nschema = "conflict_incident"\n'
        'system = "s"\noffice = "32.01.01"\n[http.api_keys.k]\nsystem = "s"\noffice = "pusat"\n'
    )
    settings = load_settings(path)
    assert settings.region == "32.01" and settings.sources[0].office == "32.01.01"
