"""The ``file_drop`` source: polls a folder for CSV/XLSX files and offers their rows.

Per file: read and hash it; a digest already marked processed is only moved to ``done/`` (the crash fell
between the last commit and the move); an unreadable file goes to ``failed/`` with a report; otherwise
its rows go out in ``SourceBatch`` es of ``batch_size``. Each batch's commit records, durably, how many
rows are safe (so a restart resumes after them) and the revision used; the **last** batch's commit marks
the digest processed and only then moves the file to ``done/``. A file changed while it was being read
is not moved: its new content is read as a new file on the next scan.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import structlog

from adapters.file_drop import folder
from adapters.file_drop.config import FileDropConfig
from adapters.file_drop.readers import ParsedFile, read_file
from adapters.file_drop.rows import check_columns, to_records
from adapters.file_drop.sniff import UnreadableFile
from hub.adapters.model import AdapterContext, SourceBatch
from hub.errors import FatalError

log = structlog.get_logger(__name__)


def _read(path: Path, limit: int) -> tuple[bytes | None, str, os.stat_result]:
    """The file's bytes (None when over ``limit``), its sha256 and the stat taken before reading."""
    st = path.stat()
    with open(path, "rb") as fh:
        if st.st_size > limit:
            return None, hashlib.file_digest(fh, "sha256").hexdigest(), st
        data = fh.read()
    return data, hashlib.sha256(data).hexdigest(), st


class FileDropSource:
    """Watches ``config.path``; see the module docstring for the per-file contract."""

    def __init__(self, config: FileDropConfig, context: AdapterContext) -> None:
        self._config = config
        self._context = context
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        for path in (self._config.path, self._config.done_path, self._config.failed_path):
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise FatalError(f"file_drop folder {path} cannot be created ({exc.strerror})") from None

    async def stop(self) -> None:
        self._stopping.set()

    async def read(self) -> AsyncGenerator[SourceBatch, None]:
        cfg = self._config
        while not self._stopping.is_set():
            files = await asyncio.to_thread(folder.ready_files, cfg.path, cfg.patterns, cfg.settle_s)
            progressed = False
            for path in files:
                if self._stopping.is_set():
                    return
                async for batch in self._file(path):
                    yield batch
                progressed = progressed or not path.exists()
            if progressed:
                continue  # rescan at once: more may have arrived while these were read
            if cfg.stop_when_idle:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), cfg.poll_interval_s)

    async def _file(self, path: Path) -> AsyncIterator[SourceBatch]:
        cfg, name, state = self._config, self._context.name, self._context.state
        try:
            data, digest, st = await asyncio.to_thread(_read, path, cfg.max_file_bytes)
        except FileNotFoundError:
            return  # taken away between the scan and the read
        except OSError as exc:  # e.g. no read permission: retried on the next scan, after a pause
            log.warning("file_not_readable", adapter=name, file=path.name, error=exc.strerror)
            return
        if await asyncio.to_thread(state.is_processed, name, digest):
            log.info("file_already_processed", adapter=name, file=path.name, sha256=digest[:16])
            try:
                await asyncio.to_thread(folder.move, path, cfg.done_path, digest)
            except OSError as err:
                log.error("file_move_failed", adapter=name, file=path.name, error=err.strerror)
            return
        try:
            if data is None:
                raise UnreadableFile(f"larger than max_file_bytes ({cfg.max_file_bytes})", reason="too_large")
            parsed = await asyncio.to_thread(read_file, data, path.name, cfg)
            check_columns(parsed, cfg)
        except UnreadableFile as exc:
            log.warning("file_failed", adapter=name, file=path.name, reason=exc.reason, detail=str(exc))
            try:
                await asyncio.to_thread(
                    folder.fail, path, cfg.failed_path, digest, st.st_size, exc.reason, str(exc), name
                )
            except OSError as err:
                log.error("file_move_failed", adapter=name, file=path.name, error=err.strerror)
            return
        progress = await asyncio.to_thread(state.get, name, f"file:{digest}")
        saved = orjson.loads(progress) if progress else {}
        revision = int(saved.get("revision", st.st_mtime_ns // 1_000_000))
        done_rows = int(saved.get("rows", 0))
        records = await asyncio.to_thread(
            to_records,
            parsed,
            filename=path.name,
            digest=digest,
            revision=revision,
            modified_at=datetime.fromtimestamp(st.st_mtime, UTC),
            config=cfg,
            make=self._context.record,
        )
        _log_read(name, path, digest, parsed, len(records), done_rows)
        pending = records[done_rows:]
        step = cfg.batch_size
        for start in range(0, max(len(pending), 1), step):
            chunk = pending[start : start + step]
            last = start + step >= len(pending)
            upto = done_rows + start + len(chunk)

            async def commit(upto: int = upto, last: bool = last) -> None:
                await self._commit(path, st, digest, revision, upto, last)

            yield SourceBatch(chunk, commit)

    async def _commit(
        self, path: Path, st: os.stat_result, digest: str, revision: int, upto: int, last: bool
    ) -> None:
        name, state = self._context.name, self._context.state
        if not last:
            value = orjson.dumps({"rows": upto, "revision": revision}).decode()
            await asyncio.to_thread(state.put, name, f"file:{digest}", value)
            return
        # Marked first: if we crash before the move, the next scan sees the digest and only moves it.
        await asyncio.to_thread(state.mark_processed, name, digest)
        try:
            now = await asyncio.to_thread(path.stat)
        except FileNotFoundError:
            log.warning("file_vanished_before_move", adapter=name, file=path.name)
            return
        if (now.st_size, now.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
            log.warning("file_changed_while_read", adapter=name, file=path.name)
            return
        try:
            moved = await asyncio.to_thread(folder.move, path, self._config.done_path, digest)
        except OSError as err:  # the digest is processed: the next scan retries only the move
            log.error("file_move_failed", adapter=name, file=path.name, error=err.strerror)
            return
        log.info("file_done", adapter=name, file=path.name, moved_to=moved.name, rows=upto)


def _log_read(name: str, path: Path, digest: str, parsed: ParsedFile, rows: int, done_rows: int) -> None:
    for table in parsed.tables:
        if table.rows_after_end:
            log.warning(
                "rows_ignored_after_table_end",
                adapter=name,
                file=path.name,
                sheet=table.sheet,
                ended_at_row=table.ended_at,
                data_like_rows=table.rows_after_end,
            )
    log.info(
        "file_read",
        adapter=name,
        file=path.name,
        sha256=digest[:16],
        format=parsed.format,
        encoding=parsed.encoding,
        delimiter=parsed.delimiter,
        sheets=len(parsed.tables),
        rows=rows,
        resumed_after=done_rows,
        blank_rows=sum(t.blank_rows for t in parsed.tables),
        ended_at=[t.ended_at for t in parsed.tables],
    )
