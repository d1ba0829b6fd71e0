"""Parsed definitions this process keeps: per execution, per pipeline version, and a guess of
each stored pipeline's current version.

An execution's definition and a pipeline version never change once written, so parsing them
once per process is always right. The current version of a pipeline does change (every
update adds one): it is kept only as a guess that the statement creating an execution checks
(``Tx.create(of_current_version=True)``), and the pipeline write path itself replaces it
(:meth:`DefinitionCache.pipeline_changed`), so a wrong guess costs one redone create at most,
and only when another process updated the pipeline.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from loom.engine.definitions import PipelineDefinition


class DefinitionCache:
    """The definitions one engine process has parsed (owned by its :class:`Database`)."""

    def __init__(self, *, executions: int = 2048, versions: int = 256) -> None:
        self._executions: OrderedDict[str, PipelineDefinition] = OrderedDict()
        self._versions: OrderedDict[tuple[str, int], tuple[PipelineDefinition, dict[str, Any]]]
        self._versions = OrderedDict()
        self._current: OrderedDict[str, int] = OrderedDict()
        self._max_executions = executions
        self._max_versions = versions

    def execution(self, execution_id: str) -> PipelineDefinition | None:
        """The parsed definition of an execution, if at hand."""
        return self._executions.get(execution_id)

    def remember(self, execution_id: str, defn: PipelineDefinition) -> None:
        """Keep an execution's definition (least recently added dropped first)."""
        self._executions[execution_id] = defn
        if len(self._executions) > self._max_executions:
            self._executions.popitem(last=False)

    def parse(self, execution_id: str, data: Mapping[str, Any]) -> PipelineDefinition:
        """The parsed definition of an execution stored as ``data`` (parsed once)."""
        cached = self._executions.get(execution_id)
        if cached is not None:
            self._executions.move_to_end(execution_id)
            return cached
        defn = PipelineDefinition.model_validate(data)
        self.remember(execution_id, defn)
        return defn

    def version(
        self, pipeline_id: str, version: int
    ) -> tuple[PipelineDefinition, dict[str, Any]] | None:
        """A pipeline version, parsed, and its JSON."""
        return self._versions.get((pipeline_id, version))

    def keep_version(self, pipeline_id: str, version: int, data: Mapping[str, Any]) -> None:
        """Parse and keep a pipeline version."""
        self._versions[(pipeline_id, version)] = (
            PipelineDefinition.model_validate(data),
            dict(data),
        )
        if len(self._versions) > self._max_versions:
            self._versions.popitem(last=False)

    def current_version(self, pipeline_id: str) -> int | None:
        """The version of a pipeline that was current when this process last looked."""
        return self._current.get(pipeline_id)

    def pipeline_changed(self, pipeline_id: str, current: int | None) -> None:
        """A pipeline's current version is now ``current`` (``None``: it is gone or unknown)."""
        if current is None:
            self._current.pop(pipeline_id, None)
            return
        self._current[pipeline_id] = current
        self._current.move_to_end(pipeline_id)
        if len(self._current) > self._max_versions:
            self._current.popitem(last=False)
