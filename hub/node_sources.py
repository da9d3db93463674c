"""The node's source adapters: each enabled ``[[sources]]`` entry built through the adapter registry and run
by a ``SourceRunner`` in its own task, one restarted on an operator's request, all stopped when the node
stops (each unconfirmed batch is re-read on the next start).

:class:`NodeSources` is a mixin of ``hub.node.Node``: it owns these steps; the node owns the runners, their
tasks, the mappers (shared with the redriver) and the stores and pipeline they run over (set in its
``__init__`` and ``start``, declared in this class's body so mypy checks both sides). Imports nothing of
``hub.node``: it sits in the layer just below it, over the adapter framework and the layers below.
"""

from __future__ import annotations

import asyncio

from hub.adapters.build import build_source
from hub.adapters.model import SourceAdapter
from hub.adapters.runner import SourceRunner
from hub.adapters.state import StateStore
from hub.errors import NotFound
from hub.ingest.pipeline import Pipeline
from hub.metrics import Metrics
from hub.model.records import Mapper
from hub.settings import Settings, SourceEntry
from hub.transport.base import Transport

__all__ = ["NodeSources"]


class NodeSources:
    """The source side of :class:`~hub.node.Node` (a mixin; see the module doc)."""

    # The node's, set by Node.__init__.
    settings: Settings
    metrics: Metrics
    transport: Transport
    runners: list[SourceRunner]
    _runner_tasks: dict[str, asyncio.Task[None]]
    _mappers: dict[str, Mapper]

    # The node's, opened by Node.start (Node's properties).
    @property
    def source_state(self) -> StateStore:
        raise NotImplementedError

    @property
    def pipeline(self) -> Pipeline:
        raise NotImplementedError

    def _start_sources(self) -> None:
        for entry in self.settings.sources:
            if entry.enabled:
                self._launch(entry)

    def _launch(self, entry: SourceEntry) -> SourceRunner:
        def fresh() -> SourceAdapter:
            adapter, self._mappers[entry.name] = build_source(
                entry, self.source_state, self.settings.state_dir, self.metrics, lambda: self.transport.ready
            )
            return adapter

        adapter = fresh()
        runner = SourceRunner(
            entry.name,
            adapter,
            self.pipeline,
            self._mappers[entry.name],
            fatal_retry_s=self.settings.source_fatal_retry_s,
            metrics=self.metrics,
            fresh=fresh,
        )
        self.runners = [r for r in self.runners if r.name != entry.name] + [runner]
        self._runner_tasks[entry.name] = asyncio.create_task(runner.run(), name=f"source-{entry.name}")
        return runner

    async def _stop_sources(self) -> None:
        """Stop intake from the sources: each unconfirmed batch is re-read on the next start."""
        tasks = list(self._runner_tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def restart_source(self, name: str) -> None:
        """Stop one source adapter (its unconfirmed batch is re-read) and start a fresh instance."""
        entry = next((e for e in self.settings.sources if e.name == name), None)
        if entry is None:
            raise NotFound(f"no source adapter named {name!r}")
        task = self._runner_tasks.pop(name, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._launch(entry)
