"""One read-only connection per engine, with errors sorted into the hub's tree.

Both sessions are set up the same way on connect: the source's time zone (so the database clock and the
rows' naive stamps speak the same zone, and ``timestamptz``/MySQL ``TIMESTAMP`` values come back in it)
and read-only transactions (the poller never writes). MySQL runs in autocommit: without it the first
SELECT opens a REPEATABLE READ transaction and every later poll would see that same old snapshot.

Errors: a refused login, an unknown database, table or column, a syntax error or missing rights will not
heal by waiting -> ``FatalError``; anything else (connection refused or lost, timeouts, server restarting,
too many connections) -> ``SourceUnavailable``, and the runner backs off and retries.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol

from adapters.sql_poll.config import SqlPollConfig
from hub.errors import FatalError, SourceUnavailable

# MySQL/MariaDB error codes that configuration must fix: access denied (1044, 1045, 1142, 1143, 1227),
# unknown database (1049), no database selected (1046), unknown column (1054), syntax (1064, 1149),
# unknown table (1146).
_MYSQL_FATAL = {1044, 1045, 1046, 1049, 1054, 1064, 1142, 1143, 1146, 1149, 1227}


class Client(Protocol):
    """A connection that runs the page query; rows come back as dicts in column order."""

    async def fetch(self, sql: str, params: list[Any]) -> list[dict[str, Any]]: ...

    async def close(self) -> None: ...


def offset_text(zone: tzinfo) -> str:
    """``+07:00`` for a zone (Indonesia keeps no daylight saving time, so now's offset is the offset)."""
    offset = zone.utcoffset(datetime.now()) or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


async def connect(config: SqlPollConfig) -> Client:
    """A ready client for ``config``; raises ``FatalError`` or ``SourceUnavailable``."""
    if config.engine == "postgresql":
        return await _Postgres.open(config)
    return await _Mysql.open(config)


class _Postgres:
    def __init__(self, conn: Any, timeout: float) -> None:
        self._conn = conn
        self._timeout = timeout

    @classmethod
    async def open(cls, config: SqlPollConfig) -> _Postgres:
        import asyncpg

        conn = None
        try:
            conn = await asyncpg.connect(
                host=config.host,
                port=config.effective_port,
                user=config.user,
                password=config.password.get_secret_value() or None,
                database=config.database,
                timeout=config.connect_timeout_s,
                server_settings={"application_name": "simpul-sql_poll"},
            )
            # INTERVAL syntax: a '+07:00' string would be read as a POSIX zone, i.e. 7 hours *west*.
            await conn.execute(
                f"SET TIME ZONE INTERVAL '{offset_text(config.tz)}' HOUR TO MINUTE;"
                " SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
            )
        except BaseException as exc:
            if conn is not None:
                conn.terminate()
            raise _pg_error(exc) from None
        return cls(conn, config.query_timeout_s)

    async def fetch(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        try:
            rows = await self._conn.fetch(sql, *params, timeout=self._timeout)
        except BaseException as exc:
            raise _pg_error(exc) from None
        return [dict(r.items()) for r in rows]

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._conn.close(), 5)
        except Exception:
            self._conn.terminate()


def _pg_error(exc: BaseException) -> BaseException:
    import asyncpg

    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
        return exc
    fatal = (
        asyncpg.InvalidPasswordError,
        asyncpg.InvalidAuthorizationSpecificationError,
        asyncpg.InvalidCatalogNameError,
        asyncpg.UndefinedTableError,
        asyncpg.UndefinedColumnError,
        asyncpg.InvalidSchemaNameError,
        asyncpg.PostgresSyntaxError,
        asyncpg.InsufficientPrivilegeError,
        asyncpg.UndefinedFunctionError,
        asyncpg.DatatypeMismatchError,
    )
    kind = type(exc).__name__
    if isinstance(exc, fatal):
        # These messages name config (user, database, table, column, SQL near an error), not row values.
        return FatalError(f"postgresql refused the poll ({kind}: {exc}); fix the sql_poll config")
    return SourceUnavailable(f"postgresql did not answer the poll ({kind})")


class _Mysql:
    def __init__(self, conn: Any, timeout: float) -> None:
        self._conn = conn
        self._timeout = timeout

    @classmethod
    async def open(cls, config: SqlPollConfig) -> _Mysql:
        import aiomysql

        conn = None
        try:
            conn = await asyncio.wait_for(
                aiomysql.connect(
                    host=config.host,
                    port=config.effective_port,
                    user=config.user,
                    password=config.password.get_secret_value(),
                    db=config.database,
                    connect_timeout=config.connect_timeout_s,
                    autocommit=True,
                    charset="utf8mb4",
                ),
                config.connect_timeout_s + 1,
            )
            async with conn.cursor() as cur:
                await cur.execute(f"SET time_zone = '{offset_text(config.tz)}'")
                await cur.execute("SET SESSION TRANSACTION READ ONLY")
        except BaseException as exc:
            if conn is not None:
                conn.close()
            raise _mysql_error(exc) from None
        return cls(conn, config.query_timeout_s)

    async def fetch(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        import aiomysql

        try:
            async with self._conn.cursor(aiomysql.DictCursor) as cur:
                await asyncio.wait_for(cur.execute(sql, params), self._timeout)
                rows: list[dict[str, Any]] = list(await cur.fetchall())
        except BaseException as exc:
            raise _mysql_error(exc) from None
        return rows

    async def close(self) -> None:
        self._conn.close()


def _mysql_error(exc: BaseException) -> BaseException:
    import pymysql

    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
        return exc
    kind = type(exc).__name__
    code = exc.args[0] if isinstance(exc, pymysql.err.MySQLError) and exc.args else None
    if isinstance(code, int) and code in _MYSQL_FATAL:
        text = exc.args[1] if len(exc.args) > 1 else ""  # names config (user, table, column), not row values
        return FatalError(f"mysql refused the poll (error {code}: {text}); fix the sql_poll config")
    detail = f"error {code}" if isinstance(code, int) else kind
    return SourceUnavailable(f"mysql did not answer the poll ({detail})")
