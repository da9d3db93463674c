"""The evidence log's hash chain, and `simpul audit verify` naming modified, deleted, reordered entries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hub.cli.root import main
from hub.trust.evidence import Evidence, EvidenceLog, verify_chain


def filled(tmp_path: Path, n: int = 6) -> Path:
    path = tmp_path / "state" / "evidence.sqlite3"
    log = EvidenceLog(path)
    log.append(
        [
            Evidence(f"m-{i}", "32.01", "dev-32.01", "ormas_registration", "accepted", "applied")
            for i in range(3)
        ]
    )
    log.append(
        [
            Evidence(f"m-{i}", "32.01", None, "ormas_registration", "quarantined", "signature_missing")
            for i in range(3, n)
        ]
    )
    log.close()
    return path


def tamper(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_intact_chain_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An untouched log verifies, with exit 0 and its head printed."""
    path = filled(tmp_path)
    assert main(["audit", "verify", "--path", str(path)]) == 0
    out = capsys.readouterr().out
    assert "6 entries" in out and "chain intact" in out


def test_modified_entry_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Changing a decision in entry 4 breaks entry 4's hash: exit 1 naming entry 4 only."""
    path = filled(tmp_path)
    tamper(path, "UPDATE evidence SET decision = 'accepted', reason = 'applied' WHERE seq = 4")
    assert main(["audit", "verify", "--path", str(path)]) == 1
    out = capsys.readouterr().out
    assert "BROKEN entry 4: content does not match its hash (modified)" in out
    assert "entry 5" not in out


def test_modified_entry_with_recomputed_hash_breaks_the_next_link(tmp_path: Path) -> None:
    """A forger who also recomputes entry 4's hash breaks entry 5's link to it."""
    from hub.trust.evidence import entry_hash

    path = filled(tmp_path)
    conn = sqlite3.connect(path)
    row = conn.execute("SELECT * FROM evidence WHERE seq = 4").fetchone()
    fields = (*row[:6], "accepted", "applied")
    conn.execute(
        "UPDATE evidence SET decision = ?, reason = ?, hash = ? WHERE seq = 4",
        ("accepted", "applied", entry_hash(row[8], fields)),
    )
    conn.commit()
    conn.close()
    problems = verify_chain(path).problems
    assert problems == ["entry 5: does not follow the entry before it (deleted or reordered)"]


def test_deleted_entry_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting entry 3 is reported at entry 4 (the gap and the broken link)."""
    path = filled(tmp_path)
    tamper(path, "DELETE FROM evidence WHERE seq = 3")
    assert main(["audit", "verify", "--path", str(path)]) == 1
    out = capsys.readouterr().out
    assert "entry 4: entries 3..3 are missing (deleted)" in out
    assert "entry 4: does not follow the entry before it" in out


def test_reordered_entries_are_named(tmp_path: Path) -> None:
    """Swapping entries 2 and 5 (their sequence numbers) is reported at both places."""
    path = filled(tmp_path)
    tamper(path, "UPDATE evidence SET seq = -2 WHERE seq = 2")
    tamper(path, "UPDATE evidence SET seq = 2 WHERE seq = 5")
    tamper(path, "UPDATE evidence SET seq = 5 WHERE seq = -2")
    problems = verify_chain(path).problems
    named = {p.split(":")[0] for p in problems}
    assert {"entry 2", "entry 5"} <= named


def test_cut_tail_needs_the_recorded_head(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting the last entries leaves a valid shorter chain; --expect-head catches it."""
    path = filled(tmp_path)
    report = verify_chain(path)
    head = f"{report.head_seq}:{report.head_hash}"
    tamper(path, "DELETE FROM evidence WHERE seq >= 5")
    assert verify_chain(path).ok  # the limit of a chain alone
    assert main(["audit", "verify", "--path", str(path), "--expect-head", head]) == 1
    assert "entries after 4 up to 6 are missing" in capsys.readouterr().out


def test_verify_finds_the_log_from_the_config(tmp_path: Path) -> None:
    """--config FILE finds evidence.sqlite3 in the node's state_dir."""
    filled(tmp_path)
    config = tmp_path / "node.toml"
    config.write_text(f'dev_mode = true\nstate_dir = "{tmp_path / "state"}"\n')
    assert main(["audit", "verify", "--config", str(config)]) == 0
    tamper(tmp_path / "state" / "evidence.sqlite3", "UPDATE evidence SET office = '33' WHERE seq = 1")
    assert main(["audit", "verify", "--config", str(config)]) == 1


def test_chain_continues_across_reopen(tmp_path: Path) -> None:
    """A node restart continues the chain from the stored head."""
    path = filled(tmp_path)
    log = EvidenceLog(path)
    log.append([Evidence("m-9", "pusat", "k", "s", "accepted", "applied")])
    log.close()
    report = verify_chain(path)
    assert report.ok and report.entries == 7


def test_audit_without_verify_still_talks_to_the_admin_api() -> None:
    """`simpul audit` (no action) keeps its meaning: the admin audit log of a running node."""
    from hub.cli.root import _parser

    args = _parser().parse_args(["audit", "--limit", "5"])
    assert args.action is None and args.limit == 5 and args.url == "http://127.0.0.1:8080"


def test_every_append_logs_the_head(tmp_path: Path) -> None:
    """The head after each append is logged, so shipped logs can prove a cut-off tail later."""
    from structlog.testing import capture_logs

    with capture_logs() as events:
        path = filled(tmp_path)
    heads = [e["head"] for e in events if e["event"] == "evidence_appended"]
    report = verify_chain(path)
    assert heads[-1] == f"{report.head_seq}:{report.head_hash}" and len(heads) == 2
