"""schemathesis over ``/openapi.json`` with every check: no 5xx, every answer matches the
document, invalid data is rejected, unsupported methods answer 405 with Allow; and a stateful
run that follows the document's links (create a pipeline or an execution, then call the
operations on its id).

The engine runs under uvicorn in a thread (real HTTP on loopback), on SQLite and PostgreSQL;
the number of examples per operation is small so the whole run stays well under a minute.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import (  # pyright: ignore[reportUnknownVariableType]  # Case is generic
    negative_data_rejection,
    positive_data_acceptance,
)

from loom.engine.app import create_app

from .conftest import drop_pg_database, engine_settings, fresh_pg_database
from .helpers import test_registry
from .live import serve

MAX_EXAMPLES = int(os.environ.get("LOOM_SCHEMATHESIS_EXAMPLES", "6"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The engine served by uvicorn on a free loopback port, in a thread (one per module).

    PostgreSQL gets a database of its own, so the per-test schema resets of the other test
    modules on this worker cannot pull the floor from under the running server.
    """
    pg_name: str | None = None
    if request.param == "sqlite":
        database_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('st') / 'engine.db'}"
    else:
        pg_name = f"{request.getfixturevalue('pg_database')}_st"
        database_url = fresh_pg_database(pg_name)
    app = create_app(engine_settings(database_url), registry=test_registry())
    try:
        with serve(app) as url:
            yield url
    finally:
        if pg_name is not None:
            drop_pg_database(pg_name)


# The document does not depend on the database: build it once from an app that never starts.
schema = schemathesis.openapi.from_dict(
    create_app(engine_settings("sqlite+aiosqlite:///unused.db"), registry=test_registry()).openapi()
)


@schema.parametrize()  # pyright: ignore[reportUnknownMemberType, reportUntypedFunctionDecorator]  # untyped upstream
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@pytest.mark.xdist_group("schemathesis")
def test_api_answers_conform_to_openapi_when_fuzzed(case: Any, live_engine: str) -> None:
    case.call_and_validate(base_url=live_engine, excluded_checks=EXCLUDED)


# positive_data_acceptance: a definition that fits the schema can still be refused with a 422
# for what no JSON Schema expresses (a cycle, an unknown action, a template reading an
# undeclared parameter); the other checks all run.
EXCLUDED = [positive_data_acceptance]


# In the stateful run schemathesis 4.32 has reported a request it generated as a *positive* case
# as "Schema-violating request accepted" (ST201, "Invalid component: positive test case"); the
# parametrized run above keeps negative_data_rejection on every operation.
LINKED_EXCLUDED = [*EXCLUDED, negative_data_rejection]


_StateMachine: Any = schema.as_state_machine()
LINKED_SETTINGS = settings(
    max_examples=MAX_EXAMPLES * 3,
    stateful_step_count=6,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@pytest.mark.xdist_group("schemathesis")
def test_linked_operations_conform_when_followed_statefully(live_engine: str) -> None:
    class Linked(_StateMachine):
        """Follows the links from createPipeline and createExecution to the operations on ids."""

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": live_engine}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=LINKED_EXCLUDED)

    run_state_machine_as_test(Linked, settings=LINKED_SETTINGS)
