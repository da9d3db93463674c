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


def batched(tmp_path: Path) -> Path:
    """A log with a quarantine entry, a batch entry covering four accepted records, another single entry."""
    path = tmp_path / "state" / "evidence.sqlite3"
    log = EvidenceLog(path)
    log.append(
        [
            Evidence("m-0", "32.01", "dev-32.01", "ormas_registration", "quarantined", "signature_invalid"),
            Evidence(
                None,
                "32.01",
                "dev-32.01",
                "ormas_registration",
                "accepted",
                "applied",
                covers=("m-1", "m-2", "m-3", "m-4"),
                roots=("ab" * 32,),
            ),
        ]
    )
    log.append([Evidence("m-5", "32.01", None, "ormas_registration", "quarantined", "signature_missing")])
    log.close()
    return path


def test_batch_entry_counts_every_record_it_covers(tmp_path: Path) -> None:
    """Three entries speak for six records; an auditor finds a covered id's entry."""
    from hub.trust.evidence import covered

    path = batched(tmp_path)
    log = EvidenceLog(path)
    assert log.entries() == 3 and log.count() == 6
    assert log.decisions()[1:5] == [("accepted", "applied")] * 4
    log.close()
    assert verify_chain(path).ok
    assert covered(path, "m-3") == [2] and covered(path, "m-5") == [3] and covered(path, "m-9") == []
    report = verify_chain(path)
    assert (report.entries, report.records) == (3, 6)


def test_audit_verify_prints_entries_and_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`simpul audit verify` says how many records the entries speak for."""
    path = batched(tmp_path)
    assert main(["audit", "verify", "--path", str(path)]) == 0
    assert "3 entries (6 records)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "sql",
    [
        """UPDATE evidence SET covers = '["m-1","m-2","m-X","m-4"]' WHERE seq = 2""",  # id changed
        """UPDATE evidence SET covers = '["m-1","m-2","m-4"]' WHERE seq = 2""",  # id deleted
        """UPDATE evidence SET covers = '["m-2","m-1","m-3","m-4"]' WHERE seq = 2""",  # ids reordered
        """UPDATE evidence SET covers = '["m-1","m-2","m-3","m-4","m-9"]' WHERE seq = 2""",  # id added
        """UPDATE evidence SET covers = '["m-1", "m-2", "m-3", "m-4"]' WHERE seq = 2""",  # re-spaced
        """UPDATE evidence SET roots = '["%s"]' WHERE seq = 2""" % ("cd" * 32),  # another root
        "UPDATE evidence SET version = NULL WHERE seq = 2",  # passed off as an old entry
        "UPDATE evidence SET version = 3 WHERE seq = 2",
        """UPDATE evidence SET covers = '["m-7"]' WHERE seq = 3""",  # a single entry given covers
    ],
    ids=[
        "changed",
        "deleted",
        "reordered",
        "added",
        "respaced",
        "root",
        "version-null",
        "version-3",
        "grafted",
    ],
)
def test_tampered_batch_entry_is_named(tmp_path: Path, sql: str) -> None:
    """Any change to the ids a batch entry covers (or its roots, or its hash version) breaks its hash."""
    path = batched(tmp_path)
    tamper(path, sql)
    seq = 3 if "seq = 3" in sql else 2
    assert verify_chain(path).problems == [f"entry {seq}: content does not match its hash (modified)"]


def test_batch_entry_with_recomputed_hash_breaks_the_next_link(tmp_path: Path) -> None:
    """A forger who drops a covered id and recomputes the entry's hash breaks the next entry's link."""
    from hub.trust.evidence import entry_hash_v2

    path = batched(tmp_path)
    conn = sqlite3.connect(path)
    row = conn.execute(
        "SELECT seq, at, message_id, office, key_id, schema_name, decision, reason, prev_hash, roots "
        "FROM evidence WHERE seq = 2"
    ).fetchone()
    covers = '["m-1","m-2","m-3"]'
    conn.execute(
        "UPDATE evidence SET covers = ?, hash = ? WHERE seq = 2",
        (covers, entry_hash_v2(row[8], row[:8], covers, row[9])),
    )
    conn.commit()
    conn.close()
    assert verify_chain(path).problems == [
        "entry 3: does not follow the entry before it (deleted or reordered)"
    ]


def test_a_log_from_before_batch_entries_verifies_and_is_migrated(tmp_path: Path) -> None:
    """A log written with the old table (no version/covers/roots columns) verifies read-only as it is;
    opening it adds the columns, the chain continues with a batch entry, and old entries still verify and
    still catch tampering."""
    from hub.trust.evidence import GENESIS, entry_hash

    path = tmp_path / "evidence.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE evidence (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, message_id TEXT, office TEXT, "
        "key_id TEXT, schema_name TEXT, decision TEXT NOT NULL, reason TEXT, prev_hash TEXT NOT NULL, "
        "hash TEXT NOT NULL)"
    )
    prev = GENESIS
    for seq in (1, 2):
        fields = (seq, "2026-01-01T00:00:00+00:00", f"old-{seq}", "32", "k", "s", "accepted", "applied")
        digest = entry_hash(prev, fields)
        conn.execute("INSERT INTO evidence VALUES (?,?,?,?,?,?,?,?,?,?)", (*fields, prev, digest))
        prev = digest
    conn.commit()
    conn.close()
    assert verify_chain(path).ok and verify_chain(path).entries == 2
    log = EvidenceLog(path)
    log.append([Evidence(None, "32", "k", "s", "accepted", "applied", covers=("new-1", "new-2"), roots=())])
    assert log.count() == 4
    log.close()
    report = verify_chain(path)
    assert report.ok and report.entries == 3
    tamper(path, "UPDATE evidence SET message_id = 'old-X' WHERE seq = 1")
    assert verify_chain(path).problems == ["entry 1: content does not match its hash (modified)"]
