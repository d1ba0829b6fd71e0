"""The scheduler's pure rules on rows in memory: ``advance``, ``apply_outcome`` and the claim
admission rule (no database, no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loom.engine.actions.base import ActionRegistry
from loom.engine.db.rows import ExecutionRow, NewEvent, StepRow
from loom.engine.definitions import PipelineDefinition
from loom.engine.domain import EventKind, ExecutionStatus, SkipReason, StepStatus
from loom.engine.scheduler.claims import claim_in_transaction
from loom.engine.scheduler.dag import advance
from loom.engine.scheduler.outcomes import Completed, Failed, LeaseExpired, Suspended
from loom.engine.scheduler.transitions import apply_outcome

from .helpers import test_registry

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def definition(
    *steps: dict[str, Any], outputs: dict[str, Any] | None = None, **settings: Any
) -> PipelineDefinition:
    return PipelineDefinition.model_validate(
        {"name": "p", "steps": list(steps), "settings": settings, "outputs": outputs or {}}
    )


def rows_of(
    defn: PipelineDefinition, params: dict[str, Any] | None = None
) -> tuple[ExecutionRow, list[StepRow]]:
    execution = ExecutionRow(
        id="x",
        pipeline_id=None,
        pipeline_version=None,
        pipeline_name=defn.name,
        params=params or {},
        initiator=None,
        callback_topics=[],
        status=ExecutionStatus.PENDING,
        outputs=None,
        error=None,
        progress_percent=0.0,
        max_parallel_steps=defn.settings.max_parallel_steps,
        correlation_id=None,
        created_at=NOW,
    )
    runs = [
        StepRow(
            id=f"r-{step.id}",
            execution_id="x",
            step_id=step.id,
            position=index,
            action=step.action,
            weight=step.weight,
        )
        for index, step in enumerate(defn.steps)
    ]
    return execution, runs


def by_id(runs: list[StepRow]) -> dict[str, StepRow]:
    return {run.step_id: run for run in runs}


def finish(run: StepRow, status: StepStatus = StepStatus.COMPLETED, **outputs: Any) -> None:
    run.status = status
    run.outputs = dict(outputs) if status == StepStatus.COMPLETED else None
    run.error = None if status == StepStatus.COMPLETED else "boom"
    run.started_at = NOW
    run.finished_at = NOW


def kinds(events: list[NewEvent]) -> list[EventKind]:
    return [event.kind for event in events]


DIAMOND = definition(
    {"id": "a", "action": "log"},
    {"id": "b", "action": "log", "depends_on": ["a"]},
    {"id": "c", "action": "log", "depends_on": ["a"]},
    {"id": "d", "action": "log", "depends_on": ["b", "c"]},
    outputs={"result": "{{ steps.d.outputs.value }}"},
)


# --- advance ---------------------------------------------------------------------------------


def test_advance_makes_only_roots_runnable_when_nothing_ran() -> None:
    execution, runs = rows_of(DIAMOND)
    events: list[NewEvent] = []
    ready = advance(execution, DIAMOND, runs, now=NOW, events=events)
    assert [run.step_id for run in ready] == ["a"]
    assert ready[0].ready_at == NOW
    assert ready[0].runnable_since == NOW
    assert execution.status == ExecutionStatus.PENDING
    assert events == []


def test_advance_waits_for_every_dependency_of_a_join() -> None:
    execution, runs = rows_of(DIAMOND)
    advance(execution, DIAMOND, runs, now=NOW, events=[])
    steps = by_id(runs)
    finish(steps["a"])
    ready = advance(execution, DIAMOND, runs, now=NOW, events=[])
    assert sorted(run.step_id for run in ready) == ["b", "c"]
    finish(steps["b"])
    assert advance(execution, DIAMOND, runs, now=NOW, events=[]) == []
    finish(steps["c"])
    assert [run.step_id for run in advance(execution, DIAMOND, runs, now=NOW, events=[])] == ["d"]


def test_advance_completes_with_resolved_outputs_when_every_step_finished() -> None:
    execution, runs = rows_of(DIAMOND)
    for run in runs:
        finish(run, value=7)
    events: list[NewEvent] = []
    assert advance(execution, DIAMOND, runs, now=NOW, events=events) == []
    assert execution.status == ExecutionStatus.COMPLETED
    assert execution.outputs == {"result": 7}
    assert execution.progress_percent == 100.0
    assert execution.finished_at == NOW
    assert kinds(events) == [EventKind.EXECUTION_COMPLETED]


def test_advance_fails_the_execution_when_outputs_cannot_be_resolved() -> None:
    defn = definition({"id": "a", "action": "log"}, outputs={"v": "{{ steps.a.outputs | nope }}"})
    execution, runs = rows_of(defn)
    finish(runs[0])
    advance(execution, defn, runs, now=NOW, events=[])
    assert execution.status == ExecutionStatus.FAILED
    assert execution.error is not None
    assert "outputs could not be resolved" in execution.error


def test_advance_fail_fast_cancels_running_and_skips_waiting_steps() -> None:
    execution, runs = rows_of(DIAMOND)
    steps = by_id(runs)
    finish(steps["a"])
    steps["b"].status = StepStatus.RUNNING
    finish(steps["c"], StepStatus.FAILED)
    events: list[NewEvent] = []
    assert advance(execution, DIAMOND, runs, now=NOW, events=events) == []
    assert execution.status == ExecutionStatus.FAILED
    assert execution.error == "step 'c' failed: boom"
    assert steps["b"].status == StepStatus.CANCELLED
    assert steps["d"].status == StepStatus.SKIPPED
    assert steps["d"].skip_reason == SkipReason.FAIL_FAST
    assert EventKind.EXECUTION_FAILED in kinds(events)


def test_advance_without_fail_fast_skips_dependants_and_fails_at_the_end() -> None:
    defn = definition(*DIAMOND.model_dump()["steps"], fail_fast=False)
    execution, runs = rows_of(defn)
    steps = by_id(runs)
    finish(steps["a"])
    finish(steps["b"], StepStatus.FAILED)
    steps["c"].status = StepStatus.RUNNING
    advance(execution, defn, runs, now=NOW, events=[])
    assert steps["c"].status == StepStatus.RUNNING  # left to finish
    assert execution.status == ExecutionStatus.PENDING
    finish(steps["c"])
    advance(execution, defn, runs, now=NOW, events=[])
    assert steps["d"].status == StepStatus.SKIPPED
    assert steps["d"].skip_reason == SkipReason.DEPENDENCY
    assert execution.status == ExecutionStatus.FAILED
    assert execution.error == "step 'b' failed: boom"


def test_advance_treats_a_failure_with_on_failure_continue_as_done() -> None:
    defn = definition(
        {"id": "a", "action": "fail", "on_failure": "continue"},
        {"id": "b", "action": "log", "depends_on": ["a"]},
    )
    execution, runs = rows_of(defn)
    finish(runs[0], StepStatus.FAILED)
    ready = advance(execution, defn, runs, now=NOW, events=[])
    assert [run.step_id for run in ready] == ["b"]
    finish(runs[1])
    advance(execution, defn, runs, now=NOW, events=[])
    assert execution.status == ExecutionStatus.COMPLETED


def test_advance_skips_a_step_whose_condition_is_false_and_runs_its_dependants() -> None:
    defn = definition(
        {"id": "a", "action": "log", "condition": "{{ params.go }}"},
        {"id": "b", "action": "log", "condition": "{{ not params.go }}"},
    )
    execution, runs = rows_of(defn, {"go": False})
    events: list[NewEvent] = []
    ready = advance(execution, defn, runs, now=NOW, events=events)
    assert [run.step_id for run in ready] == ["b"]
    assert runs[0].status == StepStatus.SKIPPED
    assert runs[0].skip_reason == SkipReason.CONDITION
    assert kinds(events) == [EventKind.STEP_SKIPPED]


def test_advance_fails_a_step_whose_condition_cannot_be_evaluated() -> None:
    defn = definition({"id": "a", "action": "log", "condition": "{{ 1 + }}"})
    execution, runs = rows_of(defn)
    events: list[NewEvent] = []
    advance(execution, defn, runs, now=NOW, events=events)
    assert runs[0].status == StepStatus.FAILED
    assert runs[0].error is not None
    assert "condition could not be evaluated" in runs[0].error
    assert execution.status == ExecutionStatus.FAILED


def test_advance_leaves_a_finished_execution_alone() -> None:
    execution, runs = rows_of(DIAMOND)
    execution.status = ExecutionStatus.CANCELLED
    assert advance(execution, DIAMOND, runs, now=NOW, events=[]) == []
    assert all(run.ready_at is None for run in runs)


def test_advance_raises_progress_by_weight_and_never_lowers_it() -> None:
    defn = definition(
        {"id": "a", "action": "log", "weight": 3},
        {"id": "b", "action": "log", "weight": 1, "depends_on": ["a"]},
    )
    execution, runs = rows_of(defn)
    finish(runs[0])
    advance(execution, defn, runs, now=NOW, events=[])
    assert execution.progress_percent == 75.0
    runs[0].status = StepStatus.PENDING  # as a retry would
    runs[0].ready_at = None
    advance(execution, defn, runs, now=NOW, events=[])
    assert execution.progress_percent == 75.0


# --- apply_outcome ---------------------------------------------------------------------------


@pytest.fixture
def registry() -> ActionRegistry:
    return test_registry()


def running(
    defn: PipelineDefinition, step_id: str, attempt: int = 1
) -> tuple[StepRow, list[StepRow]]:
    _, runs = rows_of(defn)
    run = by_id(runs)[step_id]
    run.status = StepStatus.RUNNING
    run.attempt = attempt
    run.lease_owner = "me"
    run.lease_expires_at = NOW + timedelta(seconds=30)
    run.started_at = NOW
    return run, runs


def test_apply_completed_stores_outputs_and_skips_branches_not_taken(
    registry: ActionRegistry,
) -> None:
    defn = definition(
        {"id": "a", "action": "conditional"},
        {"id": "yes", "action": "log", "depends_on": ["a"]},
        {"id": "no", "action": "log", "depends_on": ["a"]},
    )
    run, runs = running(defn, "a")
    events: list[NewEvent] = []
    apply_outcome(
        run, runs, defn, Completed({"branch": "yes"}, frozenset({"no"})), NOW, events,
        registry=registry,
    )  # fmt: skip
    assert run.status == StepStatus.COMPLETED
    assert run.outputs == {"branch": "yes"}
    assert run.lease_owner is None
    assert run.lease_expires_at is None
    no = by_id(runs)["no"]
    assert no.status == StepStatus.SKIPPED
    assert no.skip_reason == SkipReason.BRANCH
    assert kinds(events) == [EventKind.STEP_COMPLETED, EventKind.STEP_SKIPPED]


def test_apply_suspended_puts_the_step_back_with_its_resume_time_and_state(
    registry: ActionRegistry,
) -> None:
    defn = definition({"id": "wait", "action": "delay"})
    run, runs = running(defn, "wait")
    later = NOW + timedelta(seconds=60)
    events: list[NewEvent] = []
    apply_outcome(run, runs, defn, Suspended(later, {"n": 1}), NOW, events, registry=registry)
    assert run.status == StepStatus.PENDING
    assert run.ready_at == later
    assert run.runnable_since == later
    assert run.resume_state == {"n": 1}
    assert run.lease_owner is None
    assert kinds(events) == [EventKind.STEP_SUSPENDED]


def test_apply_failed_retries_with_back_off_while_the_policy_allows(
    registry: ActionRegistry,
) -> None:
    retry = {"max_attempts": 3, "backoff_seconds": 2, "backoff_multiplier": 3}
    defn = definition({"id": "a", "action": "flaky", "retry": retry})
    run, runs = running(defn, "a", attempt=2)
    events: list[NewEvent] = []
    apply_outcome(run, runs, defn, Failed("nope"), NOW, events, registry=registry)
    assert run.status == StepStatus.PENDING
    assert run.ready_at == NOW + timedelta(seconds=6)  # 2 * 3 ** (2 - 1)
    assert run.error == "nope"
    assert kinds(events) == [EventKind.STEP_RETRYING]
    assert events[0].data == {"attempt": 2, "delay_seconds": 6.0}


def test_apply_failed_fails_the_step_when_attempts_are_used_up(registry: ActionRegistry) -> None:
    defn = definition({"id": "a", "action": "flaky", "retry": {"max_attempts": 2}})
    run, runs = running(defn, "a", attempt=2)
    events: list[NewEvent] = []
    apply_outcome(run, runs, defn, Failed("nope"), NOW, events, registry=registry)
    assert run.status == StepStatus.FAILED
    assert run.finished_at == NOW
    assert kinds(events) == [EventKind.STEP_FAILED]


def test_apply_failed_not_retryable_fails_at_once_despite_the_policy(
    registry: ActionRegistry,
) -> None:
    defn = definition({"id": "a", "action": "flaky", "on_failure": "retry"})
    run, runs = running(defn, "a")
    apply_outcome(run, runs, defn, Failed("bad", retryable=False), NOW, [], registry=registry)
    assert run.status == StepStatus.FAILED
    assert run.error == "bad"


def test_apply_lease_expired_reruns_an_idempotent_action(registry: ActionRegistry) -> None:
    defn = definition({"id": "a", "action": "log"})
    run, runs = running(defn, "a")
    events: list[NewEvent] = []
    apply_outcome(run, runs, defn, LeaseExpired("dead"), NOW, events, registry=registry)
    assert run.status == StepStatus.PENDING
    assert run.ready_at == NOW
    assert kinds(events) == [EventKind.STEP_RECOVERED]
    assert "'dead'" in events[0].message


def test_apply_lease_expired_fails_a_non_idempotent_action(registry: ActionRegistry) -> None:
    defn = definition({"id": "a", "action": "charge", "on_failure": "retry"})
    run, runs = running(defn, "a")
    apply_outcome(run, runs, defn, LeaseExpired("dead"), NOW, [], registry=registry)
    assert run.status == StepStatus.FAILED
    assert run.error is not None
    assert "not idempotent" in run.error


# --- claim admission -------------------------------------------------------------------------


def claimable(n: int, max_parallel: int) -> tuple[ExecutionRow, list[StepRow], list[StepRow]]:
    defn = definition(
        *({"id": f"s{i}", "action": "log"} for i in range(n)), max_parallel_steps=max_parallel
    )
    execution, runs = rows_of(defn)
    ready = advance(execution, defn, runs, now=NOW, events=[])
    return execution, runs, ready


def claim(
    execution: ExecutionRow,
    runs: list[StepRow],
    ready: list[StepRow],
    events: list[NewEvent],
    capacity: int = 100,
) -> list[str]:
    made = claim_in_transaction(
        execution, runs, ready, NOW, events, owner="me", lease_seconds=30.0, capacity=capacity
    )
    return [c.step_id for c in made]


def test_claim_takes_ready_steps_up_to_the_execution_parallelism() -> None:
    execution, runs, ready = claimable(5, max_parallel=2)
    events: list[NewEvent] = []
    assert claim(execution, runs, ready, events) == ["s0", "s1"]
    s0 = runs[0]
    assert s0.status == StepStatus.RUNNING
    assert s0.attempt == 1
    assert s0.lease_owner == "me"
    assert s0.lease_expires_at == NOW + timedelta(seconds=30)
    assert runs[2].status == StepStatus.PENDING
    assert execution.status == ExecutionStatus.RUNNING
    assert execution.started_at == NOW
    assert kinds(events) == [
        EventKind.STEP_STARTED,
        EventKind.STEP_STARTED,
        EventKind.EXECUTION_STARTED,
    ]


def test_claim_counts_steps_already_running_against_the_parallelism() -> None:
    execution, runs, ready = claimable(3, max_parallel=2)
    runs[0].status = StepStatus.RUNNING
    execution.status = ExecutionStatus.RUNNING
    events: list[NewEvent] = []
    assert claim(execution, runs, ready[1:], events) == ["s1"]
    assert kinds(events) == [EventKind.STEP_STARTED]  # the execution had started already


def test_claim_takes_nothing_without_capacity_in_this_process() -> None:
    execution, runs, ready = claimable(3, max_parallel=4)
    events: list[NewEvent] = []
    assert claim(execution, runs, ready, events, capacity=0) == []
    assert events == []
    assert execution.status == ExecutionStatus.PENDING
    assert claim(execution, runs, ready, events, capacity=1) == ["s0"]


def test_claim_of_a_resumed_step_keeps_its_attempt_and_says_it_resumes() -> None:
    execution, runs, ready = claimable(1, max_parallel=1)
    ready[0].attempt = 1
    ready[0].resume_state = {"until": "later"}
    events: list[NewEvent] = []
    [made] = claim_in_transaction(
        execution, runs, ready, NOW, events, owner="me", lease_seconds=1.0, capacity=1
    )
    assert made.attempt == 1
    assert made.resume_state == {"until": "later"}
    assert events[0].message == "step started (attempt 1) resuming"


def test_claim_gives_each_step_the_template_context_of_its_execution() -> None:
    execution, runs, ready = claimable(1, max_parallel=1)
    execution.params = {"who": "world"}
    [made] = claim_in_transaction(
        execution, runs, ready, NOW, [], owner="me", lease_seconds=1.0, capacity=1
    )
    assert made.context["params"] == {"who": "world"}
    assert made.context["steps"]["s0"]["status"] == StepStatus.RUNNING
