"""The CLI: example configs stay runnable, and the operator commands talk to a running node."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hub.cli.root import main
from hub.node import Node
from tests.helpers import TOKEN_ACT, TOKEN_READ, item, until
from tests.unit.test_http_ingest import post

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "ops").glob("**/*.toml"))


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda p: p.name)
def test_every_shipped_config_passes_check_config(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each TOML under ops/ validates, adapter configs and mappings included."""
    assert main(["check-config", str(config)]) == 0, capsys.readouterr().err
    assert "valid" in capsys.readouterr().out


def test_check_config_names_the_bad_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A source with an unknown config key: exit 2 and the key's full name."""
    path = tmp_path / "bad.toml"
    path.write_text(
        '[[sources]]\nname = "x"\nkind = "rest_poll"\nschema = "conflict_incident"\n'
        'system = "s"\noffice = "32.01"\n[sources.config]\nbase_url = "http://h"\nbogus = 1\n'
    )
    assert main(["check-config", str(path)]) == 2
    assert "sources[x].config.bogus" in capsys.readouterr().err


async def test_operator_commands_against_a_running_node(
    memory_node: Node, capsys: pytest.CaptureFixture[str]
) -> None:
    """status, quarantine list, redrive (read role refused) and audit work over the admin API."""
    bad = item("ormas_registration", "CLI-1", kode_wilayah="32.98.99")
    await post(memory_node, "ormas_registration", [bad], query="?on_invalid=quarantine")
    await until(lambda: memory_node.quarantine_store.count() == 1)
    url = f"http://127.0.0.1:{memory_node.http_port}"

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = await asyncio.to_thread(run, "status", "--url", url, "--token", TOKEN_READ)
    assert code == 0 and "quarantine open: 1 (validation_failed 1)" in out
    code, out, _ = await asyncio.to_thread(run, "quarantine", "list", "--url", url, "--token", TOKEN_READ)
    assert code == 0 and "1 matching" in out and "kode_wilayah_unknown" in out
    entry_id = memory_node.quarantine_store.list()[0].entry_id
    code, _, err = await asyncio.to_thread(
        run, "quarantine", "redrive", entry_id, "--url", url, "--token", TOKEN_READ
    )
    assert code == 1 and "403" in err
    code, out, _ = await asyncio.to_thread(
        run, "quarantine", "discard", entry_id, "--url", url, "--token", TOKEN_ACT
    )
    assert code == 0 and "discarded" in out
    code, out, _ = await asyncio.to_thread(run, "audit", "--url", url, "--token", TOKEN_READ)
    assert code == 0 and "quarantine.discard" in out
