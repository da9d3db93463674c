#!/usr/bin/env python3
"""Back up every SQLite file of a Simpul state directory, consistently, while the node runs.

    simpul-backup.py STATE_DIR BACKUP_ROOT [--keep N]

Writes BACKUP_ROOT/<UTC timestamp>/<relative path> for each ``*.sqlite3`` under STATE_DIR using SQLite's
online backup API (a consistent snapshot even mid-write; WAL content included), checks each copy with
``PRAGMA integrity_check``, writes a MANIFEST with sizes and SHA-256, and keeps the newest N backups.
Standard library only, so it runs with the system's python3. Exit 1 if any copy fails.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path


def backup_one(source: Path, target: Path) -> str:
    """Copy one database with the backup API and verify the copy; its SHA-256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=1024)
        ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise RuntimeError(f"integrity check of the copy failed: {ok}")
    finally:
        dst.close()
        src.close()
    return hashlib.sha256(target.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("backup_root", type=Path)
    parser.add_argument("--keep", type=int, default=14, help="backups to keep (default 14)")
    args = parser.parse_args(argv)
    databases = sorted(args.state_dir.rglob("*.sqlite3"))
    if not databases:
        print(f"no *.sqlite3 under {args.state_dir}", file=sys.stderr)
        return 1
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = args.backup_root / stamp
    lines, failed = [], 0
    for db in databases:
        rel = db.relative_to(args.state_dir)
        try:
            digest = backup_one(db, folder / rel)
            lines.append(f"{digest}  {(folder / rel).stat().st_size:>12}  {rel}")
        except (sqlite3.Error, RuntimeError, OSError) as exc:
            failed += 1
            print(f"backup of {rel} failed: {exc}", file=sys.stderr)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "MANIFEST").write_text("\n".join(lines) + "\n")
    backups = sorted(p for p in args.backup_root.iterdir() if p.is_dir() and p.name.endswith("Z"))
    for old in backups[: max(len(backups) - args.keep, 0)]:
        shutil.rmtree(old)
    print(f"backed up {len(databases) - failed}/{len(databases)} stores to {folder}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
