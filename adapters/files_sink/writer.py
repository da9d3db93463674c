"""Appending lines to a schema's files with rotation, durably, and repairing tails after a crash.

File names: ``<directory>/<schema>/<schema>.<YYYY-MM-DD>.<seq>.<ndjson|csv>``; a CSV file starts with
its header. A file is complete once a newer one of its schema and format exists.

Order of a batch (see ``adapters.files_sink.index``): every touched file is first cut back to its
committed size (dropping a tail a crash left behind), the new lines are appended and fsynced (and the
folder, for a new file), and only then does the caller commit the index.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import structlog

from adapters.files_sink.columns import header
from adapters.files_sink.config import FilesSinkConfig
from adapters.files_sink.index import FilesIndex, FileState

log = structlog.get_logger(__name__)

_NAME = re.compile(r"^[a-z0-9_]+\.\d{4}-\d{2}-\d{2}\.\d{4}\.(ndjson|csv)$")


class Appender:
    """Plans and performs the appends of one batch; ``plan`` then ``flush``."""

    def __init__(self, root: Path, config: FilesSinkConfig, index: FilesIndex) -> None:
        self._root = root
        self._config = config
        self._index = index
        self._current: dict[tuple[str, str], str] = {}  # (schema, format) -> path being appended to
        self._files: dict[str, FileState] = {}  # path -> its state after this batch
        self._committed: dict[str, int] = {}  # path -> its committed size before this batch
        self._buffers: dict[str, bytearray] = {}

    def plan(self, schema_name: str, fmt: str, line: bytes, day: str) -> str:
        """Place ``line`` in the right file (rotating as needed); returns that file's relative path."""
        key = (schema_name, fmt)
        state = self._files.get(self._current[key]) if key in self._current else None
        fresh = False
        if state is None:
            state = self._index.latest_file(schema_name, fmt)
            if state is not None:
                self._committed[state.path] = state.bytes
                fresh = self._gone(state)
        if state is None or fresh or self._must_rotate(state, day, len(line)):
            seq = state.seq + 1 if state is not None and state.day == day else 1
            path = f"{schema_name}/{schema_name}.{day}.{seq:04d}.{fmt}"
            state = FileState(path, schema_name, fmt, day, seq, 0, 0)
            self._committed[path] = 0
            if fmt == "csv":
                first = header(schema_name, self._config.csv_delimiter)
                self._buffers.setdefault(path, bytearray()).extend(first)
                state.bytes = len(first)
        self._files[state.path] = replace(state, bytes=state.bytes + len(line), lines=state.lines + 1)
        self._current[key] = state.path
        self._buffers.setdefault(state.path, bytearray()).extend(line)
        return state.path

    def _gone(self, state: FileState) -> bool:
        """True if the file was moved away or shortened by someone else (e.g. an archiver): it is left
        alone and a new file is started, rather than padding it back to its committed size."""
        path = self._root / state.path
        if path.exists() and path.stat().st_size >= state.bytes:
            return False
        log.warning("files_sink_file_changed_outside", file=str(path), action="new_file")
        return True

    def _must_rotate(self, state: FileState, day: str, size: int) -> bool:
        c = self._config
        if c.rotate_daily and state.day != day:
            return True
        return c.rotate_bytes is not None and state.lines > 0 and state.bytes + size > c.rotate_bytes

    def flush(self) -> list[FileState]:
        """Write every planned line durably; returns the file states for the index commit."""
        for path, data in self._buffers.items():
            self._append(self._root / path, self._committed[path], bytes(data))
        return list(self._files.values())

    def _append(self, path: Path, committed: int, data: bytes) -> None:
        new = not path.exists()
        if new:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            if os.fstat(fd).st_size != committed:
                log.warning("files_sink_tail_truncated", file=str(path), committed=committed)
                os.ftruncate(fd, committed)
            os.lseek(fd, committed, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:
            _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def repair(root: Path, index: FilesIndex) -> None:
    """At start: cut known files back to their committed size; rename files the index never committed
    (a crash between fsync and commit) to ``*.uncommitted``. Nothing is deleted."""
    known = {}
    for state in index.all_files():
        known[state.path] = state.bytes
        path = root / state.path
        if path.exists() and path.stat().st_size > state.bytes:
            with path.open("r+b") as handle:
                handle.truncate(state.bytes)
                os.fsync(handle.fileno())
            log.warning("files_sink_tail_truncated", file=str(path), committed=state.bytes)
    if not root.exists():
        return
    for path in root.glob("*/*"):
        relative = path.relative_to(root).as_posix()
        if _NAME.match(path.name) and relative not in known:
            path.rename(path.with_name(path.name + ".uncommitted"))
            log.warning("files_sink_uncommitted_file_set_aside", file=str(path))
