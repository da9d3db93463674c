"""The inbox folder's file operations: which files are ready, and durable moves to done/ and failed/.

A move is ``os.replace`` (atomic on one file system; ``shutil.move`` across file systems) followed by an
fsync of both directories, so a move that returned survives a power cut. A name already taken in the
target folder gets the file digest's first 8 hex digits before its suffix.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

_IGNORED_PREFIXES = (".", "~$")  # hidden files, Excel's lock files of an open workbook
_IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".report.json")


def ready_files(inbox: Path, patterns: list[str], settle_s: float) -> list[Path]:
    """Files in ``inbox`` (not below it) matching a pattern and unmodified for ``settle_s``; oldest first."""
    now = time.time()
    found: list[tuple[float, str, Path]] = []
    try:
        entries = list(os.scandir(inbox))
    except FileNotFoundError:
        return []
    for entry in entries:
        name = entry.name
        if name.startswith(_IGNORED_PREFIXES) or name.lower().endswith(_IGNORED_SUFFIXES):
            continue
        if not any(fnmatch.fnmatch(name, p) for p in patterns):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            mtime = entry.stat().st_mtime
        except FileNotFoundError:  # removed while we looked
            continue
        if now - mtime >= settle_s:
            found.append((mtime, name, Path(entry.path)))
    return [path for _, _, path in sorted(found)]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _target(path: Path, folder: Path, digest: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}.{digest[:8]}{path.suffix}"
    return target


def _replace(path: Path, target: Path) -> None:
    try:
        os.replace(path, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(str(path), str(target))
    for d in {target.parent, path.parent}:
        _fsync_dir(d)


def move(path: Path, folder: Path, digest: str) -> Path:
    """Move ``path`` into ``folder`` durably; returns the new path."""
    target = _target(path, folder, digest)
    _replace(path, target)
    return target


def fail(path: Path, folder: Path, digest: str, size: int, reason: str, detail: str, adapter: str) -> Path:
    """Move an unreadable file to ``folder`` with ``<name>.report.json`` beside it (no cell values).

    The report is written first, so a crash in between leaves a report and the file still in the inbox
    (it is failed again on the next scan), never a failed file without its reason.
    """
    target = _target(path, folder, digest)
    report = {
        "file": path.name,
        "moved_to": target.name,
        "sha256": digest,
        "size_bytes": size,
        "reason": reason,
        "detail": detail,
        "adapter": adapter,
        "failed_at": datetime.now(UTC).isoformat(),
    }
    report_path = folder / f"{target.name}.report.json"
    tmp = report_path.with_suffix(".json.tmp")
    with open(tmp, "wb") as fh:
        fh.write(orjson.dumps(report, option=orjson.OPT_INDENT_2))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, report_path)
    _replace(path, target)
    return target
