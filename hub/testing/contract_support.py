"""Pieces of the adapter contract test kit (``hub.testing.contract``): config-model checks, a state store
that notices writes outside a commit, reading a source for a bounded time, example envelopes."""

from __future__ import annotations

import asyncio
import contextlib
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hub.adapters.model import SourceAdapter, SourceBatch
from hub.adapters.state import StateStore
from hub.ingest.validation import Validator
from hub.kit.mapping_test import DEV_TOKENIZER
from hub.model.records import SourceRecord, passthrough
from schemas.catalog import get as get_schema
from schemas.envelope import Envelope, SourceIdentity, make_idempotency_key, make_message_id, utc_now
from schemas.payloads import EXAMPLES
from schemas.pii import nested_models
from schemas.regions import default_index


class Violations:
    """Collects broken contract rules; ``raise_if_any`` fails the calling test with all of them."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.items: list[str] = []

    def check(self, condition: object, message: str) -> None:
        if not condition:
            self.items.append(message)

    def raise_if_any(self) -> None:
        if self.items:
            listed = "\n".join(f"  - {item}" for item in self.items)
            raise AssertionError(f"{self.subject} breaks the adapter contract:\n{listed}")


def config_model_problems(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Why a config model breaks the rules: it must forbid extra keys and describe every field."""
    problems = []
    if model.model_config.get("extra") != "forbid":
        problems.append(f"{prefix or model.__name__}: config model must set ConfigDict(extra='forbid')")
    for name, info in model.model_fields.items():
        if not (info.description or "").strip():
            problems.append(f"{prefix}{name}: config field has no description")
        for step, nested in nested_models(info.annotation):
            problems += config_model_problems(nested, f"{prefix}{name}.{step + '.' if step else ''}")
    return problems


def validate_config(model: type[BaseModel], config: dict[str, Any], out: Violations) -> BaseModel | None:
    """The validated config, or None with the reasons filed (and a check that unknown keys fail)."""
    try:
        parsed = model.model_validate(config)
    except ValidationError as exc:
        for err in exc.errors(include_input=False):
            where = ".".join(["config", *map(str, err["loc"])])
            out.check(False, f"{where}: {err['msg']}")
        return None
    with contextlib.suppress(ValidationError):
        model.model_validate({**config, "__contract_unknown_key__": 1})
        out.check(False, "config model accepted an unknown key")
    return parsed


class SpyStateStore(StateStore):
    """A ``StateStore`` that counts writes, so a source that commits on its own is caught."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self.writes = 0

    def put(self, adapter: str, key: str, value: str) -> None:
        self.writes += 1
        super().put(adapter, key, value)

    def mark_processed(self, adapter: str, item: str) -> None:
        self.writes += 1
        super().mark_processed(adapter, item)


async def collect(
    adapter: SourceAdapter, expect: int | None, timeout_s: float, idle_s: float
) -> tuple[list[SourceBatch], bool]:
    """Batches read until ``read()`` ends, ``expect`` records came and ``idle_s`` passed without more,
    or ``timeout_s``; also whether ``read()`` ended by itself. Nothing is committed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    iterator = adapter.read().__aiter__()
    batches: list[SourceBatch] = []
    count, ended = 0, False
    try:
        while True:
            remaining = deadline - loop.time()
            wait = min(idle_s, remaining) if expect is None or count >= expect else remaining
            if wait <= 0:
                break
            try:
                batch = await asyncio.wait_for(anext(iterator), wait)
            except StopAsyncIteration:
                ended = True
                break
            except TimeoutError:
                break
            batches.append(batch)
            count += len(batch.records)
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()
    return batches, ended


async def until(check: Callable[[], bool], timeout_s: float) -> bool:
    """Poll ``check`` until it holds or ``timeout_s`` passes; whether it held."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not check():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def example_envelopes(
    schema: str, count: int = 3, *, system: str = "contract-test", office: str = "pusat"
) -> list[Envelope]:
    """``count`` valid envelopes of ``schema`` (its documented example, ids ``contract-1``...), revision 1."""
    spec = get_schema(schema)
    validator = Validator(default_index(), DEV_TOKENIZER)
    identity = SourceIdentity(system=system, office=office, adapter="contract")
    envelopes = []
    for number in range(1, count + 1):
        record = SourceRecord(spec.name, EXAMPLES[spec.name], identity, f"contract-{number}", revision=1)
        envelopes.append(validator.prepare(record, passthrough(record), spec, utc_now()).envelope)
    return envelopes


def type_name(annotation: Any) -> str:
    """A short readable name of a type annotation (``int``, ``list[str]``, ``Path | None``)."""
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("pathlib.", "")


def bump_revision(env: Envelope) -> Envelope:
    """The envelope as its next revision (new idempotency key and message id, same content)."""
    revision = env.revision + 1
    key = make_idempotency_key(env.record_key, revision)
    return env.model_copy(
        update={"revision": revision, "idempotency_key": key, "message_id": make_message_id(key)}
    )


def flip_op(env: Envelope) -> Envelope:
    """The same revision with other content (upsert <-> withdraw): a sink must call it a conflict."""
    return env.model_copy(update={"op": "withdraw" if env.op == "upsert" else "upsert"})
