"""HTTP semantics of the API over real HTTP on both databases: versions, ETag/If-Match,
Location, repeated filters, and the bound of every input (413/422 saying which)."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from loom.engine.actions.base import ActionRegistry
from loom.engine.app import create_app
from loom.engine.db.session import create_engine, migrate

from .conftest import engine_settings
from .helpers import diamond, wait_for
from .live import serve
from .test_hostile_input import assert_problem, assert_reads_work


async def test_get_with_version_shows_that_versions_name_and_description(
    http: httpx.AsyncClient,
) -> None:
    created = await http.post("/v1/pipelines", json={**diamond("first"), "description": "one"})
    pid = created.json()["id"]
    updated = await http.put(
        f"/v1/pipelines/{pid}", json={"name": "second", "description": "two", "steps": []}
    )
    assert updated.status_code == 200, updated.text
    old = (await http.get(f"/v1/pipelines/{pid}", params={"version": 1})).json()
    assert (old["name"], old["version"], old["description"], old["is_draft"]) == (
        "first",
        1,
        "one",
        False,
    )
    assert old["definition"]["name"] == "first"
    current = (await http.get(f"/v1/pipelines/{pid}")).json()
    assert (current["name"], current["version"], current["is_draft"]) == ("second", 2, True)


async def test_put_answers_412_when_if_match_names_an_older_version(
    http: httpx.AsyncClient,
) -> None:
    created = await http.post("/v1/pipelines", json=diamond("p"))
    assert created.headers["location"] == f"/v1/pipelines/{created.json()['id']}"
    url = created.headers["location"]
    read = await http.get(url)
    tag = read.headers["etag"]
    assert tag == created.headers["etag"]
    first = await http.put(url, json=diamond("p", max_parallel_steps=2), headers={"if-match": tag})
    assert first.status_code == 200, first.text
    assert first.headers["etag"] != tag
    stale = await http.put(url, json=diamond("p", max_parallel_steps=3), headers={"if-match": tag})
    assert_problem(stale, 412)
    assert "version 2" in stale.json()["detail"]
    assert (await http.get(url)).json()["version"] == 2
    fresh = await http.put(
        url, json=diamond("p", max_parallel_steps=3), headers={"if-match": first.headers["etag"]}
    )
    assert fresh.status_code == 200
    anything = await http.put(url, json=diamond("p"), headers={"if-match": "*"})
    assert anything.json()["version"] == 4
    unconditional = await http.put(url, json=diamond("p"))
    assert unconditional.json()["version"] == 5


async def test_execution_201_carries_location_and_status_filter_takes_several(
    http: httpx.AsyncClient,
) -> None:
    ok = await http.post("/v1/executions", json={"definition": diamond()})
    assert ok.status_code == 201
    assert ok.headers["location"] == f"/v1/executions/{ok.json()['id']}"
    failing = {"name": "f", "steps": [{"id": "x", "action": "fail", "params": {"message": "no"}}]}
    bad = await http.post("/v1/executions", json={"definition": failing})
    await wait_for(http, ok.json()["id"])
    await wait_for(http, bad.json()["id"])
    both = await http.get("/v1/executions", params=[("status", "completed"), ("status", "failed")])
    assert both.json()["total"] == 2
    one = await http.get("/v1/executions", params={"status": "failed"})
    assert [e["id"] for e in one.json()["items"]] == [bad.json()["id"]]


async def test_every_input_has_a_bound_and_the_answer_says_which(
    http: httpx.AsyncClient,
) -> None:
    big = "x" * (3 * 1024 * 1024)
    body = await http.post("/v1/executions", content=b"{" + b" " * (20 * 1024 * 1024) + b"}")
    assert body.status_code == 413, body.text
    assert body.headers["content-type"] == "application/problem+json"
    inline = await http.post(
        "/v1/executions", json={"definition": {**diamond(), "description": big}}
    )
    assert inline.status_code == 413
    stored = await http.post("/v1/pipelines", json={**diamond(), "description": "y" * 1_100_000})
    assert_problem(stored, 413)
    assert "1048576" in stored.json()["detail"]
    pointers = assert_problem(
        await http.post(
            "/v1/executions",
            json={"definition": {**diamond(), "description": "z" * 1_100_000}},
        ),
        422,
        "too_large",
    )
    assert pointers == ["/definition"]
    defn = {**diamond(), "parameters": [{"name": "p", "type": "string"}]}
    params = await http.post(
        "/v1/executions", json={"definition": defn, "params": {"p": "p" * 300_000}}
    )
    assert assert_problem(params, 422, "too_large") == ["/params"]
    topic = await http.post(
        "/v1/executions", json={"definition": diamond(), "callback_topics": ["t" * 300]}
    )
    assert assert_problem(topic, 422) == ["/callback_topics/0"]
    await assert_reads_work(http)


async def test_step_outputs_over_the_bound_fail_the_step_instead_of_being_stored(
    http: httpx.AsyncClient,
) -> None:
    steps = [
        {
            "id": f"s{i}",
            "action": "set_output",
            "params": {"key": "v", "value": "{{ 'x' * 1000000 }}"},
        }
        for i in range(3)
    ]
    response = await http.post(
        "/v1/executions", json={"definition": {"name": "big", "steps": steps}}
    )
    execution = await wait_for(http, response.json()["id"])
    assert execution["status"] == "failed"
    listed = (await http.get(f"/v1/executions/{execution['id']}/steps")).json()["items"]
    failed = [s for s in listed if s["status"] == "failed"]
    assert failed
    assert "at most 262144" in failed[0]["error"]
    assert all(s["outputs"] in (None, {}) for s in listed)
    await assert_reads_work(http)


async def test_unmigrated_database_is_503_saying_to_upgrade_and_not_ready(
    database_url: str, registry: ActionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(engine_settings(database_url, auto_migrate=False), registry=registry)
    caplog.set_level(logging.INFO, logger="loom.engine")
    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            created = await http.post("/v1/pipelines", json=diamond())
            assert_problem(created, 503)
            assert "loom db upgrade" in created.json()["detail"]
            assert created.headers["retry-after"]
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert "loom db upgrade" in ready.json()["detail"]
            assert (await http.get("/healthz")).status_code == 200
            messages = [r.getMessage() for r in caplog.records]
            assert not any(" ready in " in m for m in messages), messages
            assert any("not ready" in m for m in messages), messages
            engine = create_engine(database_url)
            try:
                await migrate(engine)
            finally:
                await engine.dispose()
            await asyncio.sleep(1.1)  # the gate looks again at most once a second
            assert (await http.get("/readyz")).status_code == 200
            execution = await http.post("/v1/executions", json={"definition": diamond()})
            assert execution.status_code == 201, execution.text
            assert (await wait_for(http, execution.json()["id"]))["status"] == "completed"
