"""What one attempt of a step produced."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loom.engine.limits import MAX_OUTPUTS_BYTES, clip, json_size, storable


@dataclass(frozen=True, slots=True)
class Completed:
    """The action finished."""

    outputs: dict[str, Any]
    skip_steps: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Suspended:
    """The action asked to be called again at ``resume_at``."""

    resume_at: datetime
    state: dict[str, Any] = field(default_factory=dict[str, Any])


@dataclass(frozen=True, slots=True)
class Failed:
    """The attempt failed; ``retryable`` lets the step's retry policy try again."""

    message: str
    retryable: bool = True

    def __post_init__(self) -> None:
        # Errors end up in a text column and in event messages: bounded and storable.
        object.__setattr__(self, "message", storable(clip(self.message)))


@dataclass(frozen=True, slots=True)
class LeaseExpired:
    """The engine that ran the step stopped (its lease expired)."""

    owner: str | None


Outcome = Completed | Suspended | Failed | LeaseExpired


def completed_outcome(
    action_name: str, outputs: Mapping[str, Any], skip_steps: Iterable[str]
) -> Outcome:
    """What a finished action produced, made storable (see :func:`loom.engine.limits.storable`).

    Outputs over :data:`~loom.engine.limits.MAX_OUTPUTS_BYTES` fail the step (not retried: the
    same inputs give the same outputs) instead of being written.
    """
    kept: dict[str, Any] = storable(dict(outputs))
    size = json_size(kept)
    if size > MAX_OUTPUTS_BYTES:
        return Failed(
            f"the outputs of {action_name!r} are {size} bytes as JSON; "
            f"a step's outputs are at most {MAX_OUTPUTS_BYTES}",
            retryable=False,
        )
    return Completed(kept, frozenset(skip_steps))
