"""``sql_poll``: a source that polls a table (or query) of a regional PostgreSQL or MySQL/MariaDB database.

Incremental by a cursor on (change time, key) with tie-breaking, soft deletes as withdrawals, exact
decimals and aware timestamps in the source's zone (WIB by default). See ``adapters.sql_poll.query`` for
the page query and ``adapters.sql_poll.source`` for the commit contract.
"""

from __future__ import annotations

from typing import Any

from adapters.sql_poll.config import SqlPollConfig
from adapters.sql_poll.sample import read_sample
from adapters.sql_poll.source import SqlPollSource
from hub.adapters.model import AdapterContext, AdapterPlugin


def _make(config: Any, context: AdapterContext) -> SqlPollSource:
    return SqlPollSource(config, context)


PLUGIN = AdapterPlugin(
    name="sql_poll",
    role="source",
    summary="Polls a PostgreSQL or MySQL/MariaDB table by updated_at with soft deletes as withdrawals",
    config_model=SqlPollConfig,
    factory=_make,
    read_sample=read_sample,
)

__all__ = ["PLUGIN", "SqlPollConfig", "SqlPollSource"]
