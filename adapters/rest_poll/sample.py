"""``rest_poll`` reading a captured page (the JSON body of one answer): the source's own ``page_records``
and ``source_record``, so a sample maps as the node would. Without a config, ``data_path`` is guessed: the
body itself when it is a list, else the first key holding a list of objects (``data`` first)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from adapters.rest_poll.config import RestPollConfig
from adapters.rest_poll.fields import parse_offset
from adapters.rest_poll.source import page_records, source_record
from hub.adapters.model import SampleRead
from hub.errors import ConfigError, SourceUnavailable
from hub.model.records import SourceRecord


def guess_data_path(body: Any) -> str:
    """Where the record list sits in a page body ('' = the body is the list)."""
    if isinstance(body, list):
        return ""
    if isinstance(body, dict):
        keys: list[str] = sorted((str(k) for k in body), key=lambda k: k != "data")
        for key in keys:
            value = body[key]
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                return key
            if isinstance(value, dict):
                inner = guess_data_path(value)
                if inner:
                    return f"{key}.{inner}"
    return "data"


def read_sample(
    config: RestPollConfig | None, data: bytes, *, name: str, make: Callable[..., SourceRecord]
) -> SampleRead:
    """The records of one captured page as the source would offer them (no cursor filtering)."""
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"the page is not JSON ({exc.msg})", key=name) from None
    settings: dict[str, Any]
    if config is None:
        settings = {"base_url": "http://TODO.example.invalid", "path": "/api/TODO"}
        settings["data_path"] = guess_data_path(body)
        config = RestPollConfig.model_validate(settings)
    else:
        settings = config.model_dump(mode="json", exclude_defaults=True)
    try:
        items = page_records(body, config)
    except SourceUnavailable as exc:
        raise ConfigError(f"rest_poll cannot read the page: {exc}", key=name) from None
    tz = parse_offset(config.source_utc_offset)
    records = [source_record(item, config, tz, make) for item in items]
    return SampleRead(
        records, [], settings, [f"{len(records)} record(s) at {config.data_path or 'the body'!r}"]
    )
