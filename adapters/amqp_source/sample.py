"""``amqp_source`` reading a message body: the source's own ``records_from``, so a sample maps as the node
would. Without a config, ``id_path`` is the placeholder ``id`` (the proposal's mapping sets the id)."""

from __future__ import annotations

from collections.abc import Callable

from adapters.amqp_source.config import AmqpSourceConfig
from adapters.amqp_source.records import records_from
from hub.adapters.model import SampleRead
from hub.model.records import SourceRecord


def read_sample(
    config: AmqpSourceConfig | None, data: bytes, *, name: str, make: Callable[..., SourceRecord]
) -> SampleRead:
    """The records of one message body (an unreadable body is one record the mapping quarantines)."""
    if config is None:
        settings = {"url": "amqp://TODO@upstream.example.invalid/", "queue": "TODO", "id_path": "id"}
        if data.lstrip().startswith(b"{"):
            import orjson

            try:
                document = orjson.loads(data)
            except orjson.JSONDecodeError:
                document = None
            if isinstance(document, dict):
                lists = [k for k, v in document.items() if isinstance(v, list) and v]
                if lists:
                    settings["records_path"] = lists[0]
        config = AmqpSourceConfig.model_validate(settings)
        settings["url"] = "amqp://TODO@upstream.example.invalid/"
    else:
        settings = config.model_dump(mode="json", exclude_defaults=True, exclude={"url"})
    records = records_from(data, config, make, message_id=name)
    return SampleRead(records, [], settings, [f"{len(records)} record(s) in the body"])
