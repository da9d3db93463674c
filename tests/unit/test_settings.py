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
