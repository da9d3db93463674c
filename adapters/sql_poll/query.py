"""The page query: rows changed after the cursor, oldest change first, ties broken by the key.

The change time is ``COALESCE(GREATEST(COALESCE(u, d), COALESCE(d, u)), '1970-01-01')`` for an
``updated_at`` column ``u`` and a soft-delete column ``d`` (or ``COALESCE(u, '1970-01-01')`` without one):
the later of the two, so a soft delete that does not touch ``updated_at`` is still seen, and a row with
no stamp at all is read on the first pass instead of never. The same text works on PostgreSQL (whose
GREATEST ignores NULLs) and MySQL/MariaDB (whose GREATEST returns NULL on any NULL), hence the inner
COALESCEs. The page is bounded above by the database's clock minus ``settle_s``: a row stamped in the
future (a wrong clock, a typo) waits instead of pushing the cursor past every honest row.

Ties: rows sharing a change time are ordered by key and the cursor remembers both, so a page boundary
inside a tie neither skips nor repeats rows. With second-precision columns (MySQL ``DATETIME``), keep
``settle_s`` >= 1: a row updated twice within one second is then read after its second update, not
between the two (the cursor could not see the second one: same time, same key).

The expression defeats an index on ``updated_at``; for very large tables an expression index on it helps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.sql_poll.config import SqlPollConfig

CHANGED = "_simpul_changed"


def quote(engine: str, name: str) -> str:
    """A (validated) identifier quoted for the engine; ``schema.table`` is quoted part by part."""
    q = '"' if engine == "postgresql" else "`"
    return ".".join(f"{q}{part}{q}" for part in name.split("."))


@dataclass(frozen=True)
class PageQuery:
    """The two SQL texts of a source: the first page (no cursor yet) and every page after a cursor."""

    first: str
    after: str
    engine: str

    def params(self, cursor: tuple[Any, Any] | None, limit: int) -> tuple[str, list[Any]]:
        """SQL and parameters for the page after ``cursor`` ((change time, key) or None)."""
        if cursor is None:
            return self.first, [limit]
        changed, key = cursor
        if self.engine == "postgresql":
            return self.after, [changed, key, limit]
        return self.after, [changed, changed, key, limit]  # %s placeholders are positional


def build(config: SqlPollConfig) -> PageQuery:
    """The page queries for ``config``."""
    engine = config.engine
    pg = engine == "postgresql"

    def col(name: str) -> str:
        return f"src.{quote(engine, name)}"

    def stamp(name: str) -> str:
        # MySQL/MariaDB tables from before strict mode hold zero dates, which the driver returns as text:
        # they mean "never stamped", like NULL.
        return col(name) if pg else f"NULLIF({col(name)}, '0000-00-00 00:00:00')"

    u = stamp(config.updated_at_column)
    epoch = "TIMESTAMP '1970-01-01 00:00:00'"
    if config.deleted_at_column:
        d = stamp(config.deleted_at_column)
        changed = f"COALESCE(GREATEST(COALESCE({u}, {d}), COALESCE({d}, {u})), {epoch})"
    else:
        changed = f"COALESCE({u}, {epoch})"
    source = quote(engine, config.table) if config.table else f"({config.query})"
    settle_us = round(config.settle_s * 1_000_000)
    # The session's time zone is the source's (set on connect), so the clock reads in the rows' zone.
    now = (
        f"LOCALTIMESTAMP - INTERVAL '{settle_us} microseconds'"
        if pg
        else f"NOW(6) - INTERVAL {settle_us} MICROSECOND"
    )
    key = col(config.key_column)
    head = f"SELECT src.*, {changed} AS {CHANGED} FROM {source} AS src WHERE {changed} <= {now}"
    tail = f" ORDER BY {CHANGED}, {key} LIMIT {'$%d' if pg else '%s'}"
    if pg:
        after = f"{head} AND ({changed} > $1 OR ({changed} = $1 AND {key} > $2)){tail % 3}"
        first = f"{head}{tail % 1}"
    else:
        after = f"{head} AND ({changed} > %s OR ({changed} = %s AND {key} > %s)){tail}"
        first = f"{head}{tail}"
    return PageQuery(first, after, engine)
