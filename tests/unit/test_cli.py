"""The CLI: example configs stay runnable, and the operator commands talk to a running node."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator
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


# --- a newcomer's first hour (issue 16) ---


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    path = tmp_path / "node.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["check-config", str(path)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_config_refuses_an_office_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        'node = "x"\n\n[[sources]]\nname = "a"\nkind = "rest_poll"\nschema = "conflict_incident"\n'
        'system = "s"\noffice = "32.99"\n[sources.config]\nbase_url = "http://h"\n'
    )
    code, _, err = _check(tmp_path, text, capsys)
    assert code == 2
    assert f"{tmp_path / 'node.toml'}:8: sources[0].office: is not an existing kode wilayah" in err
    text = '[http.api_keys.rahasia-sekali]\nsystem = "s"\noffice = "32.99"\n'
    code, _, err = _check(tmp_path, text, capsys)
    assert code == 2 and ":3: http.api_keys[...].office:" in err and "rahasia-sekali" not in err


@pytest.mark.parametrize("text", ["", "\n  \n# only a comment\n"])
def test_check_config_calls_an_empty_file_invalid(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _check(tmp_path, text, capsys)
    assert code == 2 and "valid" not in out
    assert "empty" in err or "is required" in err or "node" in err


def test_check_config_counts_the_warehouse_sink(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _check(tmp_path, 'node = "x"\ndev_mode = true\n[sink]\nsqlite_path = "w.db"\n', capsys)
    assert code == 0 and "0 sources, 1 sink: warehouse" in out
    code, out, _ = _check(tmp_path, 'node = "x"\n[sink]\nenabled = false\n', capsys)
    assert code == 0 and "0 sinks" in out


def test_check_config_puts_each_problem_on_its_own_line_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = 'node = "x"\nnode_nmae = "y"\n\n[broker]\nheartbeat = 10\n\n[sink]\nsqlite_path = 5\n'
    code, _, err = _check(tmp_path, text, capsys)
    file = tmp_path / "node.toml"
    lines = err.strip().splitlines()
    assert code == 2
    assert f"{file}:2: node_nmae: is not a setting here; did you mean `node`?" in lines
    assert f"{file}:5: broker.heartbeat: is not a setting here; did you mean `heartbeat_s`?" in lines
    assert f"{file}:8: sink.sqlite_path: must be a file or folder path (text, in quotes)" in lines
    assert lines[-1] == f"{file}: 3 problem(s)"
    assert len(lines) == 4 and "Extra inputs" not in err and "Input is not a valid" not in err


def test_version_bare_usage_and_run_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("simpul 0.")
    assert main([]) == 2
    out = capsys.readouterr()
    assert out.out.count("usage: simpul") == 1 and "check-config" in out.out and out.err == ""
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "Without it the node" in " ".join(capsys.readouterr().out.split())


def _parsers(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


def test_every_argument_of_every_verb_has_help_with_its_default() -> None:
    from hub.cli.root import _parser

    missing, undefaulted = [], []
    for path, parser in _parsers(_parser(), "simpul"):
        formatter = parser._get_formatter()
        for action in parser._actions:
            if isinstance(
                action, argparse._HelpAction | argparse._VersionAction | argparse._SubParsersAction
            ):
                continue
            name = f"{path} {'/'.join(action.option_strings) or action.dest}"
            if not action.help:
                missing.append(name)
            elif action.default not in (None, False, argparse.SUPPRESS):
                text = formatter._get_help_string(action) or ""  # type: ignore[attr-defined]
                if "default" not in text.lower():
                    undefaulted.append(name)
    assert missing == [] and undefaulted == []
