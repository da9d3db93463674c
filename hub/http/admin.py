"""The admin API (Kafka Connect style): adapters, quarantine, audit. Read role looks; act role changes.

Every action (not every read) is written to the admin audit log with who, what, target and result.
Responses never carry a sealed original; ``GET .../original`` (act role, audited) is the one way to see an
unmasked quarantined record, for correcting it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Literal

from aiohttp import web

from hub.adapters.runner import SourceRunner
from hub.admin.audit import AdminAudit
from hub.admin.config_check import check_config_text
from hub.admin.redrive import Redriver
from hub.errors import NotFound, RequestError
from hub.feeds.replay_jobs import ReplayJobs
from hub.ingest.issues import mask_name
from hub.quarantine.entry import QuarantineEntry
from hub.quarantine.store import BULK_LIMIT, STATUSES, QuarantineStore
from hub.responses import json_response, problem, read_body, read_json_object
from hub.settings import AdminToken

Role = Literal["read", "act"]


def entry_view(entry: QuarantineEntry) -> dict[str, Any]:
    """An entry as shown to operators: everything but the sealed original."""
    return entry.model_dump(mode="json", exclude={"sealed_original"})


class AdminApi:
    """Handlers of ``/v1/admin/*`` for one node."""

    def __init__(
        self,
        tokens: dict[str, AdminToken],
        runners: Callable[[], Sequence[SourceRunner]],
        restart: Callable[[str], Awaitable[None]],
        status: Callable[[], Awaitable[dict[str, Any]]],
        store: QuarantineStore,
        redriver: Redriver,
        audit: AdminAudit,
        *,
        overview: Callable[[], Awaitable[dict[str, Any]]] | None = None,
        lineage: Callable[[str], Awaitable[dict[str, Any]]] | None = None,
        replays: ReplayJobs | None = None,
    ) -> None:
        self._tokens = tokens
        self._runners = runners
        self._restart = restart
        self._status = status
        self._store = store
        self._redriver = redriver
        self._audit = audit
        self._overview = overview
        self._lineage = lineage
        self._replays = replays
        self._throughput = Throughput()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/admin/status", self.status),
            web.get("/v1/admin/adapters", self.adapters),
            web.get("/v1/admin/overview", self.overview),
            web.get("/v1/admin/whoami", self.whoami),
            web.post("/v1/admin/adapters/{name}/{action}", self.adapter_action),
            web.get("/v1/admin/quarantine", self.quarantine_list),
            web.post("/v1/admin/quarantine/redrive", self.quarantine_bulk_redrive),
            # Not "redrive": that path is the bulk redrive (POST only), never an entry to show.
            web.get("/v1/admin/quarantine/{entry_id:(?!redrive$)[^/]+}", self.quarantine_show),
            web.get("/v1/admin/quarantine/{entry_id}/original", self.quarantine_original),
            web.get("/v1/admin/quarantine/{entry_id}/as-stored", self.quarantine_as_stored),
            web.post("/v1/admin/quarantine/{entry_id}/redrive", self.quarantine_redrive),
            web.post("/v1/admin/quarantine/{entry_id}/discard", self.quarantine_discard),
            web.get("/v1/admin/audit", self.audit),
            web.post("/v1/admin/config/validate", self.config_validate),
            web.get("/v1/admin/lineage/{message_id}", self.lineage),
            web.post("/v1/admin/replays", self.replay_start),
            web.get("/v1/admin/replays", self.replay_list),
            web.get("/v1/admin/replays/{job_id}", self.replay_show),
        ]

    def _caller(self, request: web.Request, need: Role) -> AdminToken:
        auth = request.headers.get("Authorization", "")
        token = self._tokens.get(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
        if token is None:
            raise web.HTTPUnauthorized(reason="an admin token is required")
        if need == "act" and token.role != "act":
            raise web.HTTPForbidden(reason="this token may read but not act")
        return token

    async def _log(self, who: AdminToken, action: str, target: str, result: str, **detail: Any) -> None:
        await asyncio.to_thread(
            self._audit.record,
            actor=who.name,
            role=who.role,
            action=action,
            target=target,
            result=result,
            detail=detail,
        )

    async def status(self, request: web.Request) -> web.Response:
        self._caller(request, "read")
        return json_response(
            {**(await self._status()), "adapters": [_runner_view(r) for r in self._runners()]}
        )

    async def whoami(self, request: web.Request) -> web.Response:
        """The caller's name and role (the status page shows act buttons only to the act role)."""
        who = self._caller(request, "read")
        return json_response({"name": who.name, "role": who.role})

    async def overview(self, request: web.Request) -> web.Response:
        """Everything the status page shows in one read: adapters, throughput, quarantine, provinces."""
        self._caller(request, "read")
        body = await (self._overview() if self._overview is not None else self._status())
        totals = body.get("totals", {})
        reasons: dict[str, int] = body.get("quarantine_by_reason", {})
        top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        return json_response(
            {
                **body,
                "adapters": [_runner_view(r) for r in self._runners()],
                "throughput": self._throughput.rates(totals),
                "quarantine_top_reasons": [{"reason": k, "count": v} for k, v in top],
                "now": time.time(),
            }
        )

    async def adapters(self, request: web.Request) -> web.Response:
        self._caller(request, "read")
        return json_response([_runner_view(r) for r in self._runners()])

    async def adapter_action(self, request: web.Request) -> web.Response:
        who = self._caller(request, "act")
        name, action = request.match_info["name"], request.match_info["action"]
        runner = next((r for r in self._runners() if r.name == name), None)
        if runner is None:
            return problem(404, "not_found", f"no source adapter named {mask_name(name)!r}")
        if action == "pause":
            runner.pause()
        elif action == "resume":
            runner.resume()
        elif action == "restart":
            await self._restart(name)
        else:
            return problem(404, "not_found", "actions are pause, resume and restart")
        await self._log(who, f"adapter.{action}", name, "ok")
        current = next((r for r in self._runners() if r.name == name), runner)
        return json_response(_runner_view(current))

    async def quarantine_list(self, request: web.Request) -> web.Response:
        self._caller(request, "read")
        filters = _filters(request.query)
        limit = _int(request.query, "limit", 100, 1000)
        offset = _int(request.query, "offset", 0, 10**9)
        entries, total, by_reason = await asyncio.to_thread(
            lambda: (
                self._store.list(**filters, limit=limit, offset=offset),
                self._store.count(**filters),
                self._store.counts_by_reason(filters.get("status", "open")),
            )
        )
        return json_response(
            {"total": total, "entries": [entry_view(e) for e in entries], "by_reason": by_reason}
        )

    async def quarantine_show(self, request: web.Request) -> web.Response:
        self._caller(request, "read")
        entry = await self._redriver.entry(request.match_info["entry_id"])
        status = await asyncio.to_thread(self._store.status_of, entry.entry_id)
        return json_response(
            {
                **entry_view(entry),
                "status": status[0] if status else None,
                "attempts": status[1] if status else 0,
            }
        )

    async def quarantine_original(self, request: web.Request) -> web.Response:
        who = self._caller(request, "act")
        entry_id = request.match_info["entry_id"]
        original = await self._redriver.original(entry_id)
        await self._log(who, "quarantine.view_original", entry_id, "ok")
        return json_response({"entry_id": entry_id, "original": original})

    async def quarantine_as_stored(self, request: web.Request) -> web.Response:
        who = self._caller(request, "act")
        entry_id = request.match_info["entry_id"]
        view = await self._redriver.as_stored(entry_id)
        await self._log(who, "quarantine.view_as_stored", entry_id, "ok")
        return json_response({"entry_id": entry_id, "as_stored": view})

    async def quarantine_redrive(self, request: web.Request) -> web.Response:
        who = self._caller(request, "act")
        entry_id = request.match_info["entry_id"]
        body = await read_json_object(request, required=False)
        replacement = body.get("replacement")
        try:
            outcome = await self._redriver.redrive(entry_id, replacement)
        except RequestError as exc:
            await self._log(who, "quarantine.redrive", entry_id, f"refused: {type(exc).__name__}")
            raise
        await self._log(
            who,
            "quarantine.redrive",
            entry_id,
            outcome.status,
            corrected=replacement is not None,
            new_entry=outcome.entry_id,
        )
        return json_response(
            {
                "entry_id": entry_id,
                "status": outcome.status,
                "message_id": outcome.message_id,
                "new_entry_id": outcome.entry_id,
                "error": outcome.error,
            }
        )

    async def quarantine_bulk_redrive(self, request: web.Request) -> web.Response:
        who = self._caller(request, "act")
        filters = _filters(await read_json_object(request, required=False))
        filters["status"] = "open"
        entries = await asyncio.to_thread(lambda: self._store.list(**filters, limit=BULK_LIMIT))
        counts: dict[str, int] = {}
        for entry in entries:
            try:
                outcome = await self._redriver.redrive(entry.entry_id)
                counts[outcome.status] = counts.get(outcome.status, 0) + 1
            except RequestError:
                counts["refused"] = counts.get("refused", 0) + 1
        await self._log(who, "quarantine.bulk_redrive", _describe(filters), "ok", counts=counts)
        return json_response({"matched": len(entries), "outcomes": counts})

    async def quarantine_discard(self, request: web.Request) -> web.Response:
        who = self._caller(request, "act")
        entry_id = request.match_info["entry_id"]
        await self._redriver.discard(entry_id)
        await self._log(who, "quarantine.discard", entry_id, "ok")
        return json_response({"entry_id": entry_id, "status": "discarded"})

    async def audit(self, request: web.Request) -> web.Response:
        self._caller(request, "read")
        rows = await asyncio.to_thread(self._audit.recent, _int(request.query, "limit", 100, 1000))
        return json_response(rows)

    async def lineage(self, request: web.Request) -> web.Response:
        """``hub.admin.lineage.trace_record`` of one message id (read role): origin, hops, quarantine, sinks.
        404 when neither a sink nor the quarantine knows it."""
        self._caller(request, "read")
        message_id = request.match_info["message_id"]
        if self._lineage is None or len(message_id) > 100:
            return problem(404, "not_found", "no lineage for this message id")
        view = await self._lineage(message_id)
        if not view["found"]:
            return problem(404, "not_found", "no sink applied this record and it is not in quarantine")
        return json_response(view)

    async def config_validate(self, request: web.Request) -> web.Response:
        """Check a TOML config (the body) as ``simpul check-config`` does: 200 with a summary, or 400
        with every problem by key. Read role: it changes nothing, but it is audited like an action (who
        checked which node's config, and the verdict; never the text, which may hold secrets)."""
        who = self._caller(request, "read")
        try:
            text = (await read_body(request)).decode("utf-8") if request.can_read_body else ""
        except UnicodeDecodeError:
            await self._log(who, "config.validate", "-", "invalid: not UTF-8")
            return problem(400, "invalid_config", "the body is not UTF-8 text", problems=[])
        report = check_config_text(text)
        if not report.valid:
            await self._log(who, "config.validate", "-", f"invalid: {len(report.problems)} problem(s)")
            return problem(
                400,
                "invalid_config",
                f"{len(report.problems)} problem(s) in the config",
                problems=report.problems,
            )
        await self._log(who, "config.validate", str(report.summary["node"]), "valid")
        return json_response({"valid": True, **report.summary})

    def _replay_jobs(self) -> ReplayJobs:
        if self._replays is None:
            raise NotFound("this node keeps no feed stream, so it has nothing to replay")
        return self._replays

    async def replay_start(self, request: web.Request) -> web.Response:
        """Start a replay of the feed stream to one consumer (``{"to", "since"?, "schema"?, "region"?}``):
        202 with the job, which runs in the background; act role, audited."""
        who = self._caller(request, "act")
        jobs = self._replay_jobs()
        body = await read_json_object(request, required=True)
        try:
            job = jobs.start(body, who.name)
        except RequestError as exc:
            await self._log(who, "replay.start", str(body.get("to", "-")), f"refused: {exc}")
            raise
        await self._log(who, "replay.start", job.consumer, "started", job=job.job_id, since=job.since)
        return json_response(job.view(), status=202)

    async def replay_list(self, request: web.Request) -> web.Response:
        self._caller(request, "read")
        return json_response({"replays": [job.view() for job in self._replay_jobs().list()]})

    async def replay_show(self, request: web.Request) -> web.Response:
        self._caller(request, "read")
        return json_response(self._replay_jobs().get(request.match_info["job_id"]).view())


class Throughput:
    """Records per second by outcome over the last ``window_s``, from totals sampled at each read."""

    def __init__(self, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._window_s = window_s
        self._clock = clock
        self._started = clock()
        self._samples: deque[tuple[float, dict[str, float]]] = deque()

    def rates(self, totals: dict[str, float]) -> dict[str, float]:
        """Per-second rates since the oldest sample within the window (since start on the first read)."""
        now = self._clock()
        self._samples.append((now, dict(totals)))
        # Keep one sample at or beyond the window's start as the base; none yet: count from the start.
        while len(self._samples) > 2 and now - self._samples[1][0] >= self._window_s:
            self._samples.popleft()
        then, before = self._samples[0] if len(self._samples) > 1 else (self._started, {})
        span = max(now - then, 1e-6)
        return {k: round(max(v - before.get(k, 0.0), 0.0) / span, 3) for k, v in totals.items()}


def _runner_view(runner: SourceRunner) -> dict[str, Any]:
    return {
        "name": runner.name,
        "state": runner.state,
        "paused": runner.paused,
        "last_error": runner.last_error,
        "failure_kind": runner.failure_kind,
        "failures": runner.failures,
        "records_offered": runner.records_offered,
    }


def _filters(query: Any) -> dict[str, Any]:
    """Quarantine filters from a query or JSON body: schema, region, adapter, reason, since, until, status."""
    filters: dict[str, Any] = {}
    for key, target in (
        ("schema", "schema"),
        ("region", "region_prefix"),
        ("adapter", "adapter"),
        ("reason", "reason"),
    ):
        value = query.get(key)
        if key in query and not isinstance(value, str):
            raise RequestError(f"{key} must be text")
        if value:
            filters[target] = value
    for key in ("since", "until"):
        if key in query:  # present but empty is malformed, not absent
            if not isinstance(query[key], str):
                raise RequestError(f"{key} must be an ISO 8601 time with an offset")
            try:
                filters[key] = datetime.fromisoformat(str(query[key]))
            except ValueError:
                raise RequestError(f"{key} must be an ISO 8601 time with an offset") from None
            if filters[key].tzinfo is None:
                raise RequestError(f"{key} must carry a UTC offset")
    status = query.get("status", "open")
    if status not in STATUSES:
        raise RequestError(f"status must be one of {', '.join(STATUSES)}")
    filters["status"] = status
    return filters


def _int(query: Any, key: str, default: int, most: int) -> int:
    try:
        value = int(query.get(key, default))
    except ValueError:
        raise RequestError(f"{key} must be a whole number") from None
    return max(0, min(value, most))


def _describe(filters: dict[str, Any]) -> str:
    return ",".join(
        f"{k}={v.isoformat() if isinstance(v, datetime) else v}" for k, v in sorted(filters.items())
    )
