"""What one attempt of a step produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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


@dataclass(frozen=True, slots=True)
class LeaseExpired:
    """The engine that ran the step stopped (its lease expired)."""

    owner: str | None


Outcome = Completed | Suspended | Failed | LeaseExpired
