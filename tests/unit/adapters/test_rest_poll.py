"""The rest_poll source against its simulator on a localhost port: paging, cursor, faults, retries, limits."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from pydantic import BaseModel, ValidationError

from adapters.rest_poll import PLUGIN, RestPollConfig, RestPollSource
from adapters.rest_poll.client import RateLimiter
from adapters.rest_poll.cursor import CursorKey
from adapters.rest_poll.fields import epoch_ms, format_since, get_path, id_order, parse_offset
from adapters.rest_poll.simulator import ConflictApi, Faults
from hub.adapters import registry
from hub.adapters.model import AdapterContext
from hub.adapters.runner import Backoff
from hub.adapters.state import StateStore
from hub.errors import FatalError, SourceUnavailable
from hub.metrics import Metrics
from hub.model.records import SourceRecord
from hub.node import Node
from hub.testing.fakes import FakeSink
from hub.transport.memory import MemoryTransport
from hub.transport.topology import default_topology
from schemas.envelope import SourceIdentity, make_record_key
from schemas.pii import NIK_PATTERN
from tests.helpers import SAMPLES, node_settings, until

ROOT = Path(__file__).parents[3]
SYSTEM = "sitimdu-bogor"
NAME = "sitimdu-bogor"
WIB = timezone(timedelta(hours=7))


@pytest.fixture
async def api() -> AsyncIterator[ConflictApi]:
    """The simulated legacy conflict app with 23 generated records, on a free localhost port."""
    app = ConflictApi.seeded(23, default_limit=5)
    await app.start()
    try:
        yield app
    finally:
        await app.close()


def _config(api: ConflictApi, **changes: Any) -> RestPollConfig:
    base: dict[str, Any] = {
        "base_url": api.base_url,
        "path": api.path,
        "auth": {"type": "api_key", "header": "X-API-KEY", "value": api.api_key},
        "paging": {"mode": "page", "page_size": 5, "next_page_path": "next_page"},
        "cursor": {"param": "updated_since"},
        "status_path": "status",
        "id_path": "id_laporan",
        "updated_at_path": "updated_at",
        "once": True,
        "retries": 3,
        "backoff_base_s": 0.01,
        "backoff_cap_s": 0.05,
        "timeout_s": 2,
    }
    for key, value in changes.items():
        base[key] = (
            {**base[key], **value} if isinstance(value, dict) and isinstance(base.get(key), dict) else value
        )
    return RestPollConfig.model_validate(base)


def _context(tmp_path: Path) -> AdapterContext:
    return AdapterContext(
        name=NAME,
        schema="conflict_incident",
        identity=SourceIdentity(system=SYSTEM, office="32.01", adapter=NAME),
        state=StateStore(tmp_path / "sources.sqlite3"),
        state_dir=tmp_path,
        metrics=Metrics(),
    )


async def _poll(source: RestPollSource, *, cursors: list[Any] | None = None) -> list[SourceRecord]:
    """One ``read`` as the runner drives it: each batch committed before the next page is asked for."""
    records: list[SourceRecord] = []
    await source.start()
    try:
        async for batch in source.read():
            records.extend(batch.records)
            await batch.commit()
            if cursors is not None:
                cursors.append(source._cursor.load())
    finally:
        await source.stop()
    return records


def _ids(records: list[SourceRecord]) -> list[str]:
    return [r.source_record_id or "" for r in records]


def _wib_ms(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=WIB).timestamp() * 1000)


async def _serve(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


# --- config -------------------------------------------------------------------------------------------


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    found = [model]
    for info in model.model_fields.values():
        for arg in [info.annotation, *getattr(info.annotation, "__args__", ())]:
            for inner in [arg, *getattr(arg, "__args__", ())]:
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in found:
                    found.extend(m for m in _models(inner) if m not in found)
    return found


def test_config_models_forbid_extra_keys_and_describe_every_field() -> None:
    """Every config model (auth, paging, cursor included) forbids unknown keys and describes each field."""
    models = _models(RestPollConfig)
    assert len(models) >= 5
    for model in models:
        assert model.model_config.get("extra") == "forbid", model.__name__
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"


def test_config_refuses_a_cursor_without_updated_at_path_and_two_secrets() -> None:
    """A cursor needs updated_at_path; an auth gives exactly one of value and env; extra keys fail."""
    with pytest.raises(ValidationError, match="updated_at_path"):
        RestPollConfig.model_validate({"base_url": "http://x", "cursor": {}})
    with pytest.raises(ValidationError, match="exactly one"):
        RestPollConfig.model_validate(
            {"base_url": "http://x", "auth": {"type": "bearer", "value": "a", "env": "B"}}
        )
    with pytest.raises(ValidationError, match="Extra inputs"):
        RestPollConfig.model_validate({"base_url": "http://x", "pagesize": 5})


def test_literal_secrets_stay_out_of_reprs() -> None:
    """An API key given literally does not show in the config's repr (which may reach a log)."""
    config = RestPollConfig.model_validate(
        {"base_url": "http://x", "auth": {"type": "api_key", "value": "RAHASIA-123"}}
    )
    assert "RAHASIA-123" not in repr(config) and "RAHASIA-123" not in str(config.model_dump())


# --- fields -------------------------------------------------------------------------------------------


def test_timestamps_of_every_shape_become_epoch_ms() -> None:
    """Legacy local times (WIB), ISO with offsets, epoch seconds and milliseconds read the same instant."""
    wib = parse_offset("+07:00")
    expected = int(datetime(2024, 1, 25, 9, 2, 11, tzinfo=UTC).timestamp() * 1000)
    for value in (
        "2024-01-25 16:02:11",
        "2024-01-25T16:02:11+07:00",
        "2024-01-25T09:02:11Z",
        expected // 1000,
    ):
        assert epoch_ms(value, wib) == expected, value
    assert epoch_ms(str(expected), wib) == expected
    assert epoch_ms("25/01/2024", wib) is None and epoch_ms(None, wib) is None and epoch_ms(True, wib) is None


def test_since_parameter_formats_and_paths() -> None:
    """The since-parameter renders in the source's offset; dotted paths read nested values and list items."""
    wib = parse_offset("+07:00")
    ms = _wib_ms("2024-01-25 16:02:11")
    assert format_since(ms, "%Y-%m-%d %H:%M:%S", wib) == "2024-01-25 16:02:11"
    assert format_since(ms, "iso", wib) == "2024-01-25T16:02:11+07:00"
    assert format_since(ms, "epoch_s", wib) == str(ms // 1000)
    body = {"meta": {"links": [{"next": "/p2"}]}, "data": []}
    assert get_path(body, "meta.links.0.next") == "/p2" and get_path(body, "meta.nope") is None
    assert get_path(body, "") is body


def test_numeric_ids_break_ties_by_value() -> None:
    """At equal updated_at, id "10" comes after id "9" (numeric order), text ids after numeric ones."""
    assert id_order("10") > id_order("9") and id_order("A-1") > id_order("99999")
    assert CursorKey(5, "10").after(CursorKey(5, "9")) and not CursorKey(5, "9").after(CursorKey(5, "10"))
    assert CursorKey(6, "1").after(CursorKey(5, "99")) and CursorKey(1, "1").after(None)


# --- reading ------------------------------------------------------------------------------------------


async def test_reads_every_record_once_page_by_page(api: ConflictApi, tmp_path: Path) -> None:
    """23 records in pages of 5: five batches, every id once, revision = updated_at (WIB) in epoch ms."""
    source = RestPollSource(_config(api), _context(tmp_path))
    records = await _poll(source)
    assert sorted(_ids(records), key=int) == sorted(api.records, key=int)
    for record in records:
        raw = api.records[record.source_record_id or ""]
        assert record.revision == _wib_ms(raw["updated_at"])
        assert record.raw == raw and record.schema == "conflict_incident" and record.source.system == SYSTEM
    assert source.requests == 5
    newest = max(api.records.values(), key=lambda r: (r["updated_at"], int(r["id_laporan"])))
    assert source._cursor.load() == CursorKey(_wib_ms(newest["updated_at"]), newest["id_laporan"])


async def test_next_cycle_reads_only_changed_records(api: ConflictApi, tmp_path: Path) -> None:
    """After a full cycle, a changed record (new updated_at) is the only one offered, with a new revision."""
    context = _context(tmp_path)
    await _poll(RestPollSource(_config(api), context))
    api.touch("105", datetime(2024, 3, 1, 10, 0, 0), status="Selesai")
    again = await _poll(RestPollSource(_config(api), context))
    assert _ids(again) == ["105"] and again[0].revision == _wib_ms("2024-03-01 10:00:00")
    assert await _poll(RestPollSource(_config(api), context)) == []
    assert api.log[-1][1]["updated_since"] == "2024-03-01 09:59:59"  # cursor minus the 1 s overlap


@pytest.mark.parametrize(
    ("inclusive", "overlap_s"),
    [(True, 0.0), (True, 1.0), (False, 1.0)],
    ids=[">= exact", ">= overlap", "> overlap"],
)
async def test_records_sharing_the_cursor_timestamp_are_neither_skipped_nor_repeated(
    tmp_path: Path, inclusive: bool, overlap_s: float
) -> None:
    """Ties on updated_at across pages and capped cycles: each record offered exactly once, then nothing."""
    api = ConflictApi(since_inclusive=inclusive)
    api.records["6"] = {"id_laporan": "6", "updated_at": "2024-02-01 09:00:00"}
    for rid in ("7", "8", "9", "10", "11"):
        api.records[rid] = {"id_laporan": rid, "updated_at": "2024-02-01 10:00:00"}
    await api.start()
    try:
        context = _context(tmp_path)
        config = _config(api, paging={"page_size": 2}, max_pages_per_cycle=1, cursor={"overlap_s": overlap_s})
        cycles = [_ids(await _poll(RestPollSource(config, context))) for _ in range(5)]
        assert cycles == [["6", "7"], ["8"], ["9", "10"], ["11"], []]
        assert RestPollSource(config, context)._cursor.load() == CursorKey(
            _wib_ms("2024-02-01 10:00:00"), "11"
        )
    finally:
        await api.close()


async def test_max_pages_per_cycle_caps_a_cycle_and_the_next_resumes(
    api: ConflictApi, tmp_path: Path
) -> None:
    """Two pages per cycle: at most ten records a cycle, the next resumes, all offered once, then nothing."""
    context = _context(tmp_path)
    config = _config(api, max_pages_per_cycle=2)
    cycles = [_ids(await _poll(RestPollSource(config, context))) for _ in range(5)]
    assert all(len(c) <= 10 for c in cycles) and cycles[0] == [str(i) for i in range(100, 110)]
    offered = [rid for c in cycles for rid in c]
    assert sorted(offered, key=int) == sorted(api.records, key=int) and cycles[-1] == []


async def test_page_mode_without_next_path_stops_at_a_short_page(api: ConflictApi, tmp_path: Path) -> None:
    """Without next_page_path the page number rises while pages are full; the short last page ends it."""
    config = _config(api, paging={"next_page_path": None})
    records = await _poll(RestPollSource(config, _context(tmp_path)))
    assert len(records) == 23 and [p["page"] for _, p in api.log] == ["1", "2", "3", "4", "5"]


async def test_next_link_paging_follows_relative_links_in_the_body(api: ConflictApi, tmp_path: Path) -> None:
    """next_page as a relative URL ("laporan?page=2&...") is resolved against the request and followed."""
    api.next_style = "url"
    config = _config(api, paging={"mode": "next_link", "next_path": "next_page", "link_header": False})
    records = await _poll(RestPollSource(config, _context(tmp_path)))
    assert sorted(_ids(records), key=int) == sorted(api.records, key=int)
    assert [p.get("page") for _, p in api.log] == [None, "2", "3", "4", "5"]


async def test_next_link_paging_follows_the_link_header(api: ConflictApi, tmp_path: Path) -> None:
    """With no body path, the Link rel=next header (an absolute path) drives the paging."""
    api.next_style = "url"
    config = _config(api, paging={"mode": "next_link", "next_path": None, "link_header": True})
    assert len(await _poll(RestPollSource(config, _context(tmp_path)))) == 23


async def test_forever_mode_polls_again_after_the_interval(api: ConflictApi, tmp_path: Path) -> None:
    """Without ``once`` the source keeps polling; a change made between cycles arrives in a later batch."""
    source = RestPollSource(_config(api, once=False, poll_interval_s=0.05), _context(tmp_path))
    await source.start()
    seen: list[str] = []
    try:
        async with asyncio.timeout(5):
            async for batch in source.read():
                await batch.commit()
                seen += _ids(list(batch.records))
                if len(seen) == 23:
                    api.touch("110", datetime(2024, 4, 1, 8, 0, 0))
                if "110" in seen[23:]:
                    break
    finally:
        await source.stop()
    assert seen[23:] == ["110"] and source.cycles >= 1


async def test_a_record_without_identity_is_still_offered_and_does_not_move_the_cursor(
    tmp_path: Path,
) -> None:
    """A record lacking updated_at is offered with revision None (the mapping quarantines it), not dropped."""
    api = ConflictApi()
    api.records["1"] = {"id_laporan": "1", "updated_at": "2024-02-01 09:00:00"}
    await api.start()
    try:
        api.records["2"] = {"id_laporan": "2", "updated_at": "2024-02-01 09:00:01"}
        config = _config(api, updated_at_path="diubah_pada", cursor=None)  # a field no record has
        records = await _poll(RestPollSource(config, _context(tmp_path)))
        assert _ids(records) == ["1", "2"] and all(r.revision is None for r in records)
    finally:
        await api.close()


async def test_the_captured_sample_response_is_read_as_is(tmp_path: Path) -> None:
    """The captured sample answer (fixtures/samples), verbatim: two records with ids and WIB revisions."""
    sample = (SAMPLES / "rest_conflict_api.json").read_bytes()

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(body=sample, content_type="application/json")

    runner, url = await _serve(handler)
    try:
        api = ConflictApi()
        api.port = int(url.rsplit(":", 1)[1])
        records = await _poll(RestPollSource(_config(api), _context(tmp_path)))
        assert _ids(records) == ["117", "118"]
        assert [r.revision for r in records] == [
            _wib_ms("2024-01-25 16:02:11"),
            _wib_ms("2024-01-27 11:40:00"),
        ]
        assert records[0].raw["kerugian"] == "Rp 15.000.000,-"  # raw as served; the mapping parses it
    finally:
        await runner.cleanup()


# --- faults -------------------------------------------------------------------------------------------


async def test_500s_are_retried_and_every_record_arrives(api: ConflictApi, tmp_path: Path) -> None:
    """Every second request answers 500: each is retried, all 23 records arrive once."""
    api.faults = Faults(error_every=2)
    records = await _poll(RestPollSource(_config(api), _context(tmp_path)))
    assert sorted(_ids(records), key=int) == sorted(api.records, key=int)
    assert api.answers[500] >= 4


async def test_a_source_that_keeps_failing_raises_source_unavailable_and_keeps_the_cursor(
    api: ConflictApi, tmp_path: Path
) -> None:
    """500 on every request: after 1 + retries attempts, SourceUnavailable; no cursor was stored."""
    api.faults = Faults(error_every=1)
    source = RestPollSource(_config(api, retries=2), _context(tmp_path))
    with pytest.raises(SourceUnavailable, match="failed 3 times; last: HTTP 500"):
        await _poll(source)
    assert api.answers == {500: 3} and source._cursor.load() is None


async def test_slow_answers_time_out_and_are_retried(api: ConflictApi, tmp_path: Path) -> None:
    """Every third request is slower than the timeout: it is abandoned and retried; nothing is lost."""
    api.faults = Faults(slow_every=3, slow_s=0.5)
    records = await _poll(RestPollSource(_config(api, timeout_s=0.2), _context(tmp_path)))
    assert len(records) == 23 and len(api.log) >= 6


async def test_truncated_json_is_retried_then_source_unavailable(api: ConflictApi, tmp_path: Path) -> None:
    """A body cut in half is retried (then succeeds); cut every time, it ends as SourceUnavailable."""
    api.faults = Faults(truncate_every=2)
    assert len(await _poll(RestPollSource(_config(api), _context(tmp_path)))) == 23
    api.faults = Faults(truncate_every=1)
    with pytest.raises(SourceUnavailable, match="truncated JSON"):
        await _poll(RestPollSource(_config(api), _context(tmp_path / "fresh")))


async def test_duplicate_pages_are_harmless_and_the_cursor_never_goes_backwards(
    api: ConflictApi, tmp_path: Path
) -> None:
    """Pages served twice are offered again (deduped downstream); all arrive; the cursor only rises."""
    api.faults = Faults(duplicate_every=2)
    cursors: list[Any] = []
    records = await _poll(RestPollSource(_config(api), _context(tmp_path)), cursors=cursors)
    assert set(_ids(records)) == set(api.records) and len(records) > 23
    orders = [c.order() for c in cursors]
    assert orders == sorted(orders) and len(cursors) > 5


async def test_out_of_order_records_still_set_the_cursor_to_the_page_maximum(
    api: ConflictApi, tmp_path: Path
) -> None:
    """Records shuffled inside each page: the cursor is each page's greatest key, not its last record's."""
    api.faults = Faults(shuffle=True)
    cursors: list[Any] = []
    records = await _poll(RestPollSource(_config(api), _context(tmp_path)), cursors=cursors)
    assert sorted(_ids(records), key=int) == sorted(api.records, key=int)
    assert _ids(records)[:5] != sorted(_ids(records)[:5], key=int)  # the shuffle did happen
    newest = max(api.records.values(), key=lambda r: (r["updated_at"], int(r["id_laporan"])))
    assert cursors[-1] == CursorKey(_wib_ms(newest["updated_at"]), newest["id_laporan"])


async def test_an_older_page_committed_after_a_newer_one_does_not_move_the_cursor_back(
    api: ConflictApi, tmp_path: Path
) -> None:
    """Commits run newest page first, then the older ones: the stored cursor stays at the newest key."""
    source = RestPollSource(_config(api), _context(tmp_path))
    await source.start()
    commits = [batch.commit async for batch in source.read()]
    await source.stop()
    for commit in reversed(commits):
        await commit()
    newest = max(api.records.values(), key=lambda r: (r["updated_at"], int(r["id_laporan"])))
    assert source._cursor.load() == CursorKey(_wib_ms(newest["updated_at"]), newest["id_laporan"])


async def test_an_empty_answer_with_status_false_is_an_empty_page(tmp_path: Path) -> None:
    """The app's "status": false, "Data tidak ditemukan" for no rows: no batch, no retry, no error."""
    api = ConflictApi()
    await api.start()
    try:
        source = RestPollSource(_config(api), _context(tmp_path))
        assert await _poll(source) == [] and source.requests == 1
    finally:
        await api.close()


async def test_status_false_with_an_error_message_is_retried(api: ConflictApi, tmp_path: Path) -> None:
    """ "status": false with "Koneksi database gagal" is a failed answer: retried, then SourceUnavailable."""
    api.faults = Faults(status_false_every=2)
    assert len(await _poll(RestPollSource(_config(api), _context(tmp_path)))) == 23
    api.faults = Faults(status_false_every=1)
    with pytest.raises(SourceUnavailable, match="status=false"):
        await _poll(RestPollSource(_config(api), _context(tmp_path / "fresh")))


async def test_paging_that_does_not_advance_is_refused(api: ConflictApi, tmp_path: Path) -> None:
    """A next_page that always points at the same page ends the cycle as SourceUnavailable, not a loop."""
    api.faults = Faults(duplicate_every=1)
    with pytest.raises(SourceUnavailable, match="paging does not advance"):
        await _poll(RestPollSource(_config(api), _context(tmp_path)))
    assert len(api.log) == 3


async def test_a_wrong_api_key_is_fatal_at_once(api: ConflictApi, tmp_path: Path) -> None:
    """401 from the app: FatalError on the first answer (retrying cannot heal a refused key)."""
    config = _config(api, auth={"type": "api_key", "value": "kunci-salah"})
    with pytest.raises(FatalError, match="HTTP 401"):
        await _poll(RestPollSource(config, _context(tmp_path)))
    assert len(api.log) == 1


@pytest.mark.parametrize(("status", "retried"), [(403, False), (404, False), (429, True), (503, True)])
async def test_http_statuses_are_classified(tmp_path: Path, status: int, retried: bool) -> None:
    """403/404 are fatal after one request; 429/503 are retried before SourceUnavailable."""
    calls = 0

    async def handler(_request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response({"status": False}, status=status)

    runner, url = await _serve(handler)
    try:
        config = RestPollConfig.model_validate(
            {"base_url": url, "once": True, "retries": 2, "backoff_base_s": 0.01}
        )
        expected = SourceUnavailable if retried else FatalError
        with pytest.raises(expected, match=f"HTTP {status}"):
            await _poll(RestPollSource(config, _context(tmp_path)))
        assert calls == (3 if retried else 1)
    finally:
        await runner.cleanup()


async def test_bearer_token_from_an_environment_variable_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """auth bearer with env: the variable's value goes into Authorization; an unset variable is fatal."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.json_response({"data": [{"id": 1, "ubah": "2024-01-01T00:00:00+07:00"}]})

    runner, url = await _serve(handler)
    try:
        base = {
            "base_url": url,
            "once": True,
            "paging": {"mode": "none"},
            "id_path": "id",
            "updated_at_path": "ubah",
        }
        config = RestPollConfig.model_validate(
            {**base, "auth": {"type": "bearer", "env": "SIMPUL_TEST_TOKEN"}}
        )
        monkeypatch.delenv("SIMPUL_TEST_TOKEN", raising=False)
        with pytest.raises(FatalError, match="SIMPUL_TEST_TOKEN"):
            await _poll(RestPollSource(config, _context(tmp_path)))
        monkeypatch.setenv("SIMPUL_TEST_TOKEN", "tkn-banggai-01")
        records = await _poll(RestPollSource(config, _context(tmp_path)))
        assert seen == ["Bearer tkn-banggai-01"] and _ids(records) == ["1"]
    finally:
        await runner.cleanup()


async def test_retry_after_is_a_floor_under_the_backoff(tmp_path: Path) -> None:
    """A 429 with Retry-After: 1 makes the next attempt wait at least one second."""
    times: list[float] = []

    async def handler(_request: web.Request) -> web.Response:
        times.append(time.monotonic())
        if len(times) == 1:
            return web.json_response({}, status=429, headers={"Retry-After": "1"})
        return web.json_response({"data": []})

    runner, url = await _serve(handler)
    try:
        config = RestPollConfig.model_validate({"base_url": url, "once": True, "backoff_base_s": 0.01})
        await _poll(RestPollSource(config, _context(tmp_path)))
        assert len(times) == 2 and times[1] - times[0] >= 0.99
    finally:
        await runner.cleanup()


async def test_backoff_doubles_per_retry_with_full_jitter(
    api: ConflictApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the jitter pinned to its upper bound, retry gaps are base, 2x base, 4x base (capped)."""
    monkeypatch.setattr(random, "uniform", lambda _low, high: high)
    api.faults = Faults(error_every=1)
    config = _config(api, retries=3, backoff_base_s=0.1, backoff_cap_s=0.3)
    with pytest.raises(SourceUnavailable):
        await _poll(RestPollSource(config, _context(tmp_path)))
    at = [t for t, _ in api.log]
    gaps = [b - a for a, b in itertools.pairwise(at)]
    for gap, expected in zip(gaps, (0.1, 0.2, 0.3), strict=True):
        assert expected - 0.01 <= gap <= expected + 0.15, gaps


async def test_rate_limit_spaces_requests(api: ConflictApi, tmp_path: Path) -> None:
    """At 20 requests/s five page requests span at least four intervals of 50 ms (a late request may be
    followed by an early one, so the spacing is checked over the run, which load cannot shorten)."""
    await _poll(RestPollSource(_config(api, rate_limit_per_s=20), _context(tmp_path)))
    at = [t for t, _ in api.log]
    assert len(at) == 5 and at[-1] - at[0] >= 4 * 0.05 * 0.95


async def test_rate_limiter_without_a_limit_does_not_wait() -> None:
    """No limit: a thousand waits take no time."""
    limiter, started = RateLimiter(None), time.monotonic()
    for _ in range(1000):
        await limiter.wait()
    assert time.monotonic() - started < 0.1


# --- through the hub ----------------------------------------------------------------------------------


def example_mapping() -> dict[str, Any]:
    """The example mapping of the legacy conflict app (ops/examples/sitimdu_conflict.toml)."""
    data = tomllib.loads((ROOT / "ops" / "examples" / "sitimdu_conflict.toml").read_text(encoding="utf-8"))
    mapping: dict[str, Any] = data["sources"][0]["mapping"]
    return mapping


def source_entry(api: ConflictApi, key: str | None = None, **config: Any) -> dict[str, Any]:
    """A [[sources]] entry for the simulator (its key, unless ``key``), with the example mapping."""
    return {
        "name": NAME,
        "kind": "rest_poll",
        "schema": "conflict_incident",
        "system": SYSTEM,
        "office": "32.01",
        "config": _config(api, **config).model_dump(mode="json")
        | {"auth": {"type": "api_key", "value": key or api.api_key}},
        "mapping": example_mapping(),
    }


async def test_contract_with_the_hub_fakes_commit_only_after_confirm(
    api: ConflictApi, tmp_path: Path
) -> None:
    """MemoryTransport + FakeSink: no cursor while the broker is down; then every record and the cursor."""
    registry.register(PLUGIN)
    settings = node_settings(tmp_path, sources=[source_entry(api)])
    transport = MemoryTransport(default_topology(settings.broker.prefix))
    sink = FakeSink()
    node = Node(settings, transport=transport, sink=sink)
    async with node:
        transport.set_ready(False)
        await until(lambda: node.runners and node.runners[0].state == "backing_off")
        state = node.source_state
        assert state.get(NAME, "cursor") is None and sink.rows == {}
        transport.set_ready(True)
        await until(lambda: node.runners[0].state == "stopped", timeout=20)
        await until(lambda: len(sink.rows) == 23)
        cursor = orjson.loads(node.source_state.get(NAME, "cursor") or "null")
    newest = max(api.records.values(), key=lambda r: (r["updated_at"], int(r["id_laporan"])))
    assert cursor == {"updated_ms": _wib_ms(newest["updated_at"]), "id": newest["id_laporan"]}
    for rid, raw in api.records.items():
        revision, _digest, env = sink.rows[make_record_key("conflict_incident", SYSTEM, rid)]
        assert revision == _wib_ms(raw["updated_at"]) and env.payload["nomor_laporan"] == raw["no_laporan"]
        assert "pelapor_nik" not in env.payload and not NIK_PATTERN.search(orjson.dumps(env.payload).decode())
        if NIK_PATTERN.search(raw["kronologis"]):
            assert "[NIK]" in env.payload["kronologi"]


async def _node_run(
    api: ConflictApi, tmp_path: Path, key: str | None = None, **config: Any
) -> tuple[Node, FakeSink]:
    registry.register(PLUGIN)
    settings = node_settings(tmp_path, sources=[source_entry(api, key, **config)])
    sink = FakeSink()
    node = Node(settings, transport=MemoryTransport(default_topology(settings.broker.prefix)), sink=sink)
    await node.start()
    node.runners[0]._backoff = Backoff(base_s=0.01, cap_s=0.05)
    return node, sink


async def test_a_cycle_broken_by_source_unavailable_resumes_from_the_cursor(
    api: ConflictApi, tmp_path: Path
) -> None:
    """Requests failing past their retries: the runner backs off, resumes from the cursor, all land."""
    api.faults = Faults(error_every=3)
    node, sink = await _node_run(api, tmp_path, retries=0)
    try:
        await until(lambda: len(sink.rows) == 23 and node.runners[0].state == "stopped", timeout=20)
        assert api.answers[500] >= 2 and node.runners[0].last_error is not None
    finally:
        await node.stop()


async def test_a_refused_key_stops_only_this_adapter_as_failed(api: ConflictApi, tmp_path: Path) -> None:
    """401 through the runner: the adapter ends as failed with the reason, after a single request."""
    node, sink = await _node_run(api, tmp_path, key="kunci-lama")  # the app's key was rotated
    try:
        await until(lambda: node.runners[0].state == "failed")
        assert "HTTP 401" in (node.runners[0].last_error or "") and len(api.log) == 1 and sink.rows == {}
    finally:
        await node.stop()
