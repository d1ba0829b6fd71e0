"""schemathesis over ``/openapi.json``: no 5xx, and every answer matches the document.

The engine runs under uvicorn in a thread (real HTTP on loopback), on SQLite and PostgreSQL;
the number of examples per operation is small so the whole run stays well under a minute.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error  # pyright: ignore[reportUnknownVariableType]  # Case is generic
from schemathesis.specs.openapi.checks import (  # pyright: ignore[reportUnknownVariableType]  # same
    content_type_conformance,  # pyright: ignore[reportUnknownVariableType]
    response_schema_conformance,  # pyright: ignore[reportUnknownVariableType]
    status_code_conformance,  # pyright: ignore[reportUnknownVariableType]
)

from loom.engine.app import create_app

from .conftest import drop_pg_database, engine_settings, fresh_pg_database
from .helpers import test_registry

MAX_EXAMPLES = int(os.environ.get("LOOM_SCHEMATHESIS_EXAMPLES", "6"))


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the thread is not the main thread
        return


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
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the engine did not start")
        time.sleep(0.02)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
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
    case.call_and_validate(
        base_url=live_engine,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
