"""The ``files_sink``: envelopes appended to NDJSON and/or CSV files per schema, durably and once.

Per envelope, against the durable index (``adapters.files_sink.index``): the first or a newer revision
of a record is ``applied`` and written as a new line (a withdrawal as a line with ``op`` ``withdraw``);
the same revision with the same content is a ``duplicate`` and is not written again (a redelivery); an
older revision is ``stale``; the same revision with other content is a ``conflict`` (the consumer
quarantines it). ``write`` returns after the lines are fsynced and the index committed.

The files hold the payloads as received (NIKs are already tokens; names are clear): give the folder to
the consumers entitled to the data only (files are created 0640, folders 0750).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import orjson
import structlog

from adapters.files_sink.columns import csv_line, ndjson_line
from adapters.files_sink.config import FilesSinkConfig
from adapters.files_sink.index import FilesIndex
from adapters.files_sink.writer import Appender, repair
from hub.adapters.model import AdapterContext
from hub.consume.sink import APPLIED, judge
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class FileResult:
    """The outcome of one envelope: applied, duplicate, stale or conflict."""

    idempotency_key: str
    status: str


def content_hash(envelope: Envelope) -> str:
    """What "same content" means: the op and the payload, keys sorted."""
    return hashlib.sha256(
        orjson.dumps([envelope.op, envelope.payload], option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


class FilesSink:
    """A ``SinkAdapter`` writing files under ``config.directory``. ``now`` may be injected (tests)."""

    def __init__(
        self,
        config: FilesSinkConfig,
        context: AdapterContext,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.name = context.name
        self._config = config
        self._root = config.directory
        self._zone = ZoneInfo(config.timezone)
        self._now = now or (lambda: datetime.now(UTC))
        self.index = FilesIndex(context.state_dir / "files_sink.sqlite3")
        self._lock = threading.Lock()

    async def start(self) -> None:
        """Create the folder and repair what a crash may have left (see ``writer.repair``)."""
        await asyncio.to_thread(self._start)

    def _start(self) -> None:
        with self._lock:
            self._root.mkdir(parents=True, exist_ok=True, mode=0o750)
            repair(self._root, self.index)

    async def write(self, envelopes: Sequence[Envelope]) -> Sequence[FileResult]:
        """Apply a batch; returns once it is durable, results in order."""
        if not envelopes:
            return []
        return await asyncio.to_thread(self._write, envelopes)

    def _write(self, envelopes: Sequence[Envelope]) -> list[FileResult]:
        with self._lock:
            day = self._now().astimezone(self._zone).date().isoformat()
            current = self.index.current(list({e.record_key for e in envelopes}))
            results: list[FileResult] = []
            winners: dict[str, tuple[int, str]] = {}
            appender = Appender(self._root, self._config, self.index)
            written: list[tuple[str, str, int, str, str, str]] = []
            at = datetime.now(UTC).isoformat()
            for env in envelopes:
                digest = content_hash(env)
                status = judge(current.get(env.record_key), env.revision, digest)
                if status == APPLIED:
                    current[env.record_key] = winners[env.record_key] = (env.revision, digest)
                    files = [
                        appender.plan(env.schema_name, fmt, self._line(env, fmt), day)
                        for fmt in self._config.formats
                    ]
                    written.append(
                        (env.idempotency_key, env.record_key, env.revision, env.op, ",".join(files), at)
                    )
                results.append(FileResult(env.idempotency_key, status))
            if written:
                states = appender.flush()
                self.index.commit(winners, written, states)
            log.info(
                "files_sink_written",
                sink=self.name,
                envelopes=len(envelopes),
                lines=len(written),
                files=len({f for w in written for f in w[4].split(",")}),
            )
            return results

    def _line(self, envelope: Envelope, fmt: str) -> bytes:
        return ndjson_line(envelope) if fmt == "ndjson" else csv_line(envelope, self._config.csv_delimiter)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            self.index.close()
