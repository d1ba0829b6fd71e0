"""The engine's vocabulary: the statuses of executions and steps, skip reasons, event kinds.

Every module that writes or reads a status (rows, the scheduler's rules, services, the API
schemas) takes it from here. The members are ``StrEnum``s: a value read back from the
database as a plain string compares and hashes equal to its member, and a member is stored
and serialised as its value.
"""

from __future__ import annotations

from enum import StrEnum


class ExecutionStatus(StrEnum):
    """Where an execution is."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    """Where one step of an execution is, as stored.

    A ``pending`` step with ``ready_at`` in the past is runnable; one with ``ready_at`` in the
    future is waiting (a ``delay``, or the back-off before a retry): the API shows it as
    ``StepState.WAITING``.
    """

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class StepState(StrEnum):
    """A step's status as the API shows it: the stored status, and ``waiting`` for a pending
    step whose time has not come (``services.executions.step_state``)."""

    PENDING = "pending"
    WAITING = "waiting"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class SkipReason(StrEnum):
    """Why a step was skipped."""

    DEPENDENCY = "dependency"
    CONDITION = "condition"
    BRANCH = "branch"
    CANCELLED = "cancelled"
    FAIL_FAST = "fail_fast"
    TIMEOUT = "timeout"


class EventKind(StrEnum):
    """The kinds of timeline entries."""

    EXECUTION_CREATED = "execution_created"
    EXECUTION_STARTED = "execution_started"
    EXECUTION_COMPLETED = "execution_completed"
    EXECUTION_FAILED = "execution_failed"
    EXECUTION_CANCELLED = "execution_cancelled"
    EXECUTION_RETRIED = "execution_retried"
    STEP_STARTED = "step_started"
    STEP_COMPLETED = "step_completed"
    STEP_FAILED = "step_failed"
    STEP_SKIPPED = "step_skipped"
    STEP_CANCELLED = "step_cancelled"
    STEP_SUSPENDED = "step_suspended"
    STEP_RETRYING = "step_retrying"
    STEP_RECOVERED = "step_recovered"


# The statuses of an execution that can still run steps.
ACTIVE_EXECUTION = frozenset({ExecutionStatus.PENDING, ExecutionStatus.RUNNING})
TERMINAL_EXECUTION = frozenset(
    {ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
)
RETRYABLE_EXECUTION = frozenset({ExecutionStatus.FAILED, ExecutionStatus.CANCELLED})
TERMINAL_STEP = frozenset(
    {StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED}
)
# Skips that a retry undoes: they were caused by a failure, a cancel or a timeout, not by the
# pipeline's own logic (a false condition, a branch not taken).
RETRYABLE_SKIPS = frozenset(
    {SkipReason.DEPENDENCY, SkipReason.CANCELLED, SkipReason.FAIL_FAST, SkipReason.TIMEOUT}
)
# Skips that are the pipeline's own choice: the step counts as done for progress.
CHOSEN_SKIPS = frozenset({SkipReason.CONDITION, SkipReason.BRANCH})

FINISHED_EVENT = {
    ExecutionStatus.COMPLETED: EventKind.EXECUTION_COMPLETED,
    ExecutionStatus.FAILED: EventKind.EXECUTION_FAILED,
    ExecutionStatus.CANCELLED: EventKind.EXECUTION_CANCELLED,
}
