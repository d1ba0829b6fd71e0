"""The committer's kept rows: what is kept, what is dropped, and the row bound."""

from __future__ import annotations

from datetime import UTC, datetime

from loom.engine.db.committed import CommittedRows
from loom.engine.db.rows import ExecutionRow, StepRow
from loom.engine.domain import ExecutionStatus


def _execution(execution_id: str, steps: int) -> tuple[ExecutionRow, list[StepRow]]:
    execution = ExecutionRow(
        id=execution_id,
        pipeline_id=None,
        pipeline_version=None,
        pipeline_name="p",
        params={},
        initiator=None,
        callback_topics=[],
        status=ExecutionStatus.RUNNING,
        outputs=None,
        error=None,
        progress_percent=0.0,
        max_parallel_steps=4,
        correlation_id=None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    runs = [
        StepRow(
            id=f"{execution_id}-{n}",
            execution_id=execution_id,
            step_id=f"s{n}",
            position=n,
            action="log",
            weight=1.0,
        )
        for n in range(steps)
    ]
    return execution, runs


def test_kept_rows_are_the_same_objects_until_forgotten() -> None:
    kept = CommittedRows()
    execution, runs = _execution("x", 3)
    kept.keep(execution, runs)
    executions, runs_of = kept.get(["x", "unknown"])
    assert executions == {"x": execution}
    assert runs_of["x"] is runs
    assert "x" in kept
    assert kept.row_count == 3
    kept.forget(["x", "unknown"])
    assert kept.get(["x"]) == ({}, {})
    assert len(kept) == 0
    assert kept.row_count == 0


def test_least_recently_kept_executions_go_first_when_over_the_row_bound() -> None:
    kept = CommittedRows(max_rows=10)
    for name in "abc":
        kept.keep(*_execution(name, 4))  # 12 rows > 10: a goes
    assert ("a" in kept, "b" in kept, "c" in kept) == (False, True, True)
    kept.keep(*_execution("b", 4))  # b kept again: now the most recent, counted once
    kept.keep(*_execution("d", 4))  # c goes, not b
    assert ("b" in kept, "c" in kept, "d" in kept) == (True, False, True)
    assert kept.row_count == 8


def test_an_execution_larger_than_the_bound_is_not_kept() -> None:
    kept = CommittedRows(max_rows=10)
    kept.keep(*_execution("small", 2))
    kept.keep(*_execution("huge", 11))
    assert "huge" not in kept
    assert "small" in kept
    assert kept.row_count == 2
