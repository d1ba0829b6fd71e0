"""Running one attempt of a claimed step: render its parameters, run its action within its
time limit, and turn what happened into an :data:`~loom.engine.scheduler.outcomes.Outcome`.

Nothing here writes to the database: the outcome goes to the committer.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, cast

from loom.engine.actions.base import (
    Action,
    ActionContext,
    ActionError,
    ActionRegistry,
    ActionResult,
    ActionSettings,
    Suspend,
)
from loom.engine.db.models import utcnow
from loom.engine.db.storable import storable_json, storable_text
from loom.engine.db.store import Database
from loom.engine.definitions import PipelineDefinition, StepDefinition
from loom.engine.scheduler.claims import Claim
from loom.engine.scheduler.outcomes import Completed, Failed, Outcome, Suspended
from loom.engine.templates import TemplateError, render

logger = logging.getLogger(__name__)


class StepExecutor:
    """Runs attempts of steps with the registered actions."""

    def __init__(
        self, database: Database, registry: ActionRegistry, settings: ActionSettings
    ) -> None:
        self._database = database
        self._registry = registry
        self._settings = settings

    async def definition(self, execution_id: str) -> PipelineDefinition:
        """The execution's parsed definition (read once per process)."""
        return await self._database.definition(execution_id)

    def resolve(
        self, defn: PipelineDefinition, claim: Claim
    ) -> tuple[StepDefinition, Action] | str:
        """The step and its action, or why the step cannot run."""
        step = defn.step(claim.step_id)
        action = self._registry.get(step.action) if step is not None else None
        if step is None or action is None:
            what = step.action if step is not None else claim.step_id
            return f"unknown action {what!r}"
        return step, action

    async def attempt(self, claim: Claim, step: StepDefinition, action: Action) -> Outcome:
        """One attempt: parameters rendered from the claim's context, the action run; what it
        produced made storable (:mod:`loom.engine.db.storable`)."""
        return storable_outcome(await self._attempt(claim, step, action))

    async def _attempt(self, claim: Claim, step: StepDefinition, action: Action) -> Outcome:
        try:
            params = render(step.params, claim.context)
        except TemplateError as exc:
            return Failed(f"the step parameters could not be rendered: {exc}", retryable=False)
        now = utcnow()
        timeout = _time_limit(step.timeout_seconds, claim.deadline_at, now)
        ctx = ActionContext(
            execution_id=claim.execution_id,
            step_id=claim.step_id,
            attempt=claim.attempt,
            params=cast("dict[str, Any]", params) if isinstance(params, dict) else {},
            logger=logging.getLogger(f"loom.engine.step.{action.name}"),
            settings=self._settings,
            resume_state=claim.resume_state,
            now=now,
        )
        try:
            result = await asyncio.wait_for(action.run(ctx), timeout=timeout)
        except TimeoutError:
            return Failed(f"the step timed out after {timeout:.3f} s")
        except ActionError as exc:
            return Failed(exc.message, retryable=exc.retryable)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("action %s raised %s", action.name, type(exc).__name__, exc_info=True)
            return Failed(f"action {action.name!r} raised {type(exc).__name__}: {exc}")
        return _outcome(action, result)


def _time_limit(
    step_timeout: float | None, deadline_at: datetime | None, now: datetime
) -> float | None:
    """The step's own time-out, shortened to what is left before the execution's deadline."""
    if deadline_at is None:
        return step_timeout
    left = max((deadline_at - now).total_seconds(), 0.001)
    return left if step_timeout is None else min(step_timeout, left)


def storable_outcome(outcome: Outcome) -> Outcome:
    """The outcome with its outputs, state and message made storable."""
    if isinstance(outcome, Completed):
        return Completed(storable_json(outcome.outputs), outcome.skip_steps)
    if isinstance(outcome, Suspended):
        return Suspended(outcome.resume_at, storable_json(outcome.state))
    if isinstance(outcome, Failed):
        return Failed(storable_text(outcome.message), outcome.retryable)
    return outcome


def _outcome(action: Action, result: object) -> Outcome:
    if isinstance(result, Suspend):
        return Suspended(result.resume_at, dict(result.state))
    if isinstance(result, ActionResult):
        return Completed(dict(result.outputs), frozenset(result.skip_steps))
    return Failed(f"action {action.name!r} returned {type(result).__name__}", retryable=False)
