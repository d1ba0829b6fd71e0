"""docs/engine.md stays true: its worked example validates, its custom action runs."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from typing import Any

import yaml

from loom.engine.actions.base import ActionContext, ActionRegistry, ActionSettings
from loom.engine.validation import validate_definition

from .conftest import REPO_ROOT

DOC = (REPO_ROOT / "docs" / "engine.md").read_text()


def test_worked_example_is_a_valid_pipeline_when_validated() -> None:
    block = re.search(r"```yaml\n(name: nightly-report.*?)```", DOC, re.S)
    assert block is not None
    result = validate_definition(
        yaml.safe_load(block.group(1)), registry=ActionRegistry.default(entry_points=False)
    )
    assert result.errors == []


def test_custom_action_example_runs_when_registered() -> None:
    block = re.search(r"```python\n(from typing import Any.*?)```", DOC, re.S)
    assert block is not None
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), "docs/engine.md", "exec"), namespace)  # our own docs
    action = namespace["GreetAction"]()
    registry = ActionRegistry.default(entry_points=False)
    registry.register(action)
    ctx = ActionContext(
        execution_id="e",
        step_id="s",
        attempt=1,
        params={"who": "loom"},
        logger=logging.getLogger("test"),
        settings=ActionSettings(),
        resume_state=None,
        now=datetime.now(UTC),
    )
    result = asyncio.run(action.run(ctx))
    assert result.outputs == {"greeting": "hello loom"}
    assert "greet" in {entry["name"] for entry in registry.catalog()}
