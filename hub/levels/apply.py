"""Loading rendered definitions into a running broker and checking that they took effect.

:func:`apply_definitions` POSTs the document from :func:`hub.levels.render.render_definitions` to the
management API's global ``/api/definitions`` endpoint (users and vhosts are global, so the per-vhost endpoint
would not do), then :func:`verify_definitions` reads every entity back: vhost, exchanges, queues (type and the
policy in effect), bindings, policies (definition equal), users, permissions, topic permissions and the
shovel (its parameter, and its state, waiting a little for it to reach ``running``).

A shovel that is not running after the wait is a warning, not a failure: a parent that is unreachable
right now is what shovels are for, and the records wait in the ``uplink`` queue. Everything else missing or
different is a failure. Nothing printed here carries a password or a URI.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from hub.transport.management import ManagementClient, ManagementError

__all__ = ["Check", "apply_definitions", "format_checks", "verify_definitions"]

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One entity read back: what it is, its name, ``ok``/``warn``/``fail`` and a short detail."""

    kind: str
    name: str
    status: Status
    detail: str = ""


def _q(name: str) -> str:
    return quote(name, safe="")


async def apply_definitions(
    definitions: Mapping[str, Any], management_url: str | Sequence[str], *, shovel_wait_s: float = 10.0
) -> list[Check]:
    """POST ``definitions`` to ``/api/definitions`` and return :func:`verify_definitions`' checks.

    ``management_url`` may list the management APIs of a cluster's nodes: the first that answers takes the
    import (definitions are cluster-wide). Raises :class:`~hub.transport.management.ManagementError` if the
    broker refuses the import, or if no address answers.
    """
    urls = [management_url] if isinstance(management_url, str) else list(management_url)
    if not urls:
        raise ValueError("no management URL given")
    for index, url in enumerate(urls):
        try:
            async with ManagementClient(url, timeout=60.0) as api:
                await api.request("POST", "/definitions", json=dict(definitions))
                return await verify_definitions(api, definitions, shovel_wait_s=shovel_wait_s)
        except ManagementError as exc:
            if not exc.unreachable or index + 1 == len(urls):
                raise
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


async def verify_definitions(
    api: ManagementClient, definitions: Mapping[str, Any], *, shovel_wait_s: float = 10.0
) -> list[Check]:
    """Read back every entity of ``definitions``; one :class:`Check` each."""
    checks: list[Check] = []
    for vhost in definitions.get("vhosts", []):
        found = await api.request("GET", f"/vhosts/{_q(vhost['name'])}", ok_missing=True)
        checks.append(Check("vhost", vhost["name"], "ok" if found else "fail", "" if found else "missing"))
    checks += await _exchanges(api, definitions.get("exchanges", []))
    checks += await _queues(api, definitions)
    checks += await _bindings(api, definitions.get("bindings", []))
    checks += await _policies(api, definitions.get("policies", []))
    checks += await _users(api, definitions)
    checks += await _topic_permissions(api, definitions.get("topic_permissions", []))
    for shovel in definitions.get("parameters", []):
        if shovel.get("component") == "shovel":
            checks.append(await _shovel(api, shovel, shovel_wait_s))
    return checks


async def _exchanges(api: ManagementClient, exchanges: Iterable[Mapping[str, Any]]) -> list[Check]:
    checks = []
    for e in exchanges:
        found = await api.request("GET", f"/exchanges/{_q(e['vhost'])}/{_q(e['name'])}", ok_missing=True)
        if not found:
            checks.append(Check("exchange", e["name"], "fail", "missing"))
        elif found.get("type") != e["type"] or not found.get("durable"):
            checks.append(Check("exchange", e["name"], "fail", f"type {found.get('type')}, durable?"))
        else:
            checks.append(Check("exchange", e["name"], "ok", e["type"]))
    return checks


def _policy_of(queue: str, policies: Iterable[Mapping[str, Any]]) -> str | None:
    return next((p["name"] for p in policies if re.fullmatch(p["pattern"], queue)), None)


async def _queues(api: ManagementClient, definitions: Mapping[str, Any]) -> list[Check]:
    checks = []
    policies = definitions.get("policies", [])
    by_vhost: dict[str, dict[str, Any]] = {}
    for q in definitions.get("queues", []):
        vhost = q["vhost"]
        if vhost not in by_vhost:
            # The records view: ``policy`` is current at once (the statistics view lags a new queue).
            listed = await api.list_queues(vhost, stats=False)
            by_vhost[vhost] = {item["name"]: item for item in listed}
        found = by_vhost[vhost].get(q["name"])
        want_type = q["arguments"].get("x-queue-type", "classic")
        want_policy = _policy_of(q["name"], policies)
        if found is None:
            checks.append(Check("queue", q["name"], "fail", "missing"))
            continue
        problems = []
        if found.get("type") != want_type:
            problems.append(f"type {found.get('type')}, want {want_type}")
        if want_policy is not None and found.get("policy") != want_policy:
            problems.append(f"policy {found.get('policy')}, want {want_policy}")
        args = q["arguments"]
        want_replicas = args.get("x-quorum-initial-group-size") or args.get("x-initial-cluster-size")
        members = found.get("members")
        if want_replicas and isinstance(members, list) and len(members) < int(want_replicas):
            # A queue created earlier with fewer replicas keeps them (the import does not grow it).
            problems.append(f"{len(members)} replicas, want {want_replicas} (rabbitmq-queues grow)")
        detail = "; ".join(problems) or want_type + (f", policy {want_policy}" if want_policy else "")
        checks.append(Check("queue", q["name"], "fail" if problems else "ok", detail))
    return checks


async def _bindings(api: ManagementClient, bindings: Iterable[Mapping[str, Any]]) -> list[Check]:
    checks = []
    listed: dict[str, set[tuple[str, str, str]]] = {}
    for b in bindings:
        vhost = b["vhost"]
        if vhost not in listed:
            items = await api.request("GET", f"/bindings/{_q(vhost)}")
            listed[vhost] = {(i["source"], i["destination"], i["routing_key"]) for i in items}
        key = (b["source"], b["destination"], b["routing_key"])
        name = f"{b['source']} -> {b['destination']} ({b['routing_key']})"
        checks.append(Check("binding", name, "ok" if key in listed[vhost] else "fail"))
    return checks


async def _policies(api: ManagementClient, policies: Iterable[Mapping[str, Any]]) -> list[Check]:
    checks = []
    for p in policies:
        found = await api.get_policy(p["vhost"], p["name"])
        if found is None:
            checks.append(Check("policy", p["name"], "fail", "missing"))
        elif found.get("definition") != p["definition"] or found.get("pattern") != p["pattern"]:
            checks.append(Check("policy", p["name"], "fail", "definition or pattern differs"))
        else:
            limit = p["definition"].get("delivery-limit")
            checks.append(
                Check(
                    "policy",
                    p["name"],
                    "ok",
                    f"dlx {p['definition']['dead-letter-exchange']}, delivery-limit {limit}",
                )
            )
    return checks


async def _users(api: ManagementClient, definitions: Mapping[str, Any]) -> list[Check]:
    checks = []
    created = {u["name"] for u in definitions.get("users", [])}
    for perm in definitions.get("permissions", []):
        user, vhost = perm["user"], perm["vhost"]
        if user in created and not await api.request("GET", f"/users/{_q(user)}", ok_missing=True):
            checks.append(Check("user", user, "fail", "missing"))
            continue
        found = await api.request("GET", f"/permissions/{_q(vhost)}/{_q(user)}", ok_missing=True)
        want = {k: perm[k] for k in ("configure", "write", "read")}
        got = {k: found.get(k) for k in want} if found else None
        if got != want:
            checks.append(Check("user", user, "fail", "permissions missing or different"))
        else:
            checks.append(
                Check(
                    "user",
                    user,
                    "ok",
                    f"configure {want['configure'] or '-'}, "
                    f"write {want['write'] or '-'}, read {want['read'] or '-'}",
                )
            )
    return checks


async def _topic_permissions(api: ManagementClient, entries: Iterable[Mapping[str, Any]]) -> list[Check]:
    checks = []
    for tp in entries:
        found = await api.request(
            "GET", f"/topic-permissions/{_q(tp['vhost'])}/{_q(tp['user'])}", ok_missing=True
        )
        match = [
            f
            for f in found or []
            if f.get("exchange") == tp["exchange"]
            and f.get("write") == tp["write"]
            and f.get("read") == tp["read"]
        ]
        checks.append(
            Check(
                "topic-permission",
                tp["user"],
                "ok" if match else "fail",
                f"write {tp['write']}" if match else "missing or different",
            )
        )
    return checks


async def _shovel(api: ManagementClient, shovel: Mapping[str, Any], wait_s: float) -> Check:
    vhost, name = shovel["vhost"], shovel["name"]
    found = await api.request("GET", f"/parameters/shovel/{_q(vhost)}/{_q(name)}", ok_missing=True)
    if not found:
        return Check("shovel", name, "fail", "parameter missing")
    value = shovel["value"]
    where = f"{value['src-queue']} -> parent {value['dest-exchange']}"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    state = "unknown"
    while True:
        try:
            statuses = await api.request("GET", f"/shovels/{_q(vhost)}") or []
        except ManagementError:
            statuses = []  # the shovel management plugin may be off; the parameter is there
        state = next((s.get("state", "unknown") for s in statuses if s.get("name") == name), "not started")
        if state == "running" or loop.time() >= deadline:
            break
        await asyncio.sleep(0.5)
    if state == "running":
        return Check("shovel", name, "ok", f"{where}, running")
    return Check("shovel", name, "warn", f"{where}, {state} (records wait in the uplink queue)")


def format_checks(checks: Iterable[Check]) -> str:
    """A plain-text table, one line per check, and a summary line."""
    rows = list(checks)
    width_kind = max([len("kind")] + [len(c.kind) for c in rows])
    width_name = min(60, max([len("name")] + [len(c.name) for c in rows]))
    lines = [f"{'kind':<{width_kind}}  {'name':<{width_name}}  status  detail"]
    lines += [f"{c.kind:<{width_kind}}  {c.name:<{width_name}}  {c.status:<6}  {c.detail}" for c in rows]
    counts = {s: sum(1 for c in rows if c.status == s) for s in ("ok", "warn", "fail")}
    lines.append(f"{counts['ok']} ok, {counts['warn']} warnings, {counts['fail']} failed")
    return "\n".join(lines)
