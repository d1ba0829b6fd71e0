"""Hostile input through real HTTP, on SQLite and PostgreSQL: each case answers a 4xx (or is
stored safely) and the engine keeps answering every list and get afterwards.

Each test reproduces one attack of issue 11 (alias bombs, deep documents, lone surrogates,
extreme dates, oversized values).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import httpx

from .helpers import wait_for

PROBLEM = "application/problem+json"
YAML = {"content-type": "application/yaml"}
# Before the fix the alias bomb held the event loop for 15-20 s; on an idle machine the 422 now
# comes in ~15 ms and /healthz stays under 10 ms. The bound is far above that and far below the
# stall, so that a loaded machine (two cores, many test processes) cannot make the tests flaky.
LOOP_BOUND_SECONDS = 2.0


def alias_bomb(levels: int = 8, width: int = 9) -> str:
    """About 300 bytes of YAML that expand to ``width ** levels`` (43 million) values."""
    names = "abcdefghijklmnop"[:levels]
    lines = [f"{names[0]}: &{names[0]} [" + ", ".join(["x"] * width) + "]"]
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * width) + "]")
    return "\n".join([*lines, "name: bomb"])


def nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


async def assert_reads_work(http: httpx.AsyncClient) -> None:
    """Every list answers 200 (a poisoned row would make them 500 for every caller)."""
    for path in ("/v1/pipelines", "/v1/executions", "/v1/actions", "/healthz"):
        response = await http.get(path)
        assert response.status_code == 200, (path, response.text)
    for execution in (await http.get("/v1/executions")).json()["items"]:
        for suffix in ("", "/steps", "/events", "/progress"):
            response = await http.get(f"/v1/executions/{execution['id']}{suffix}")
            assert response.status_code == 200, (suffix, response.text)


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> list[str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    errors: list[dict[str, Any]] = response.json().get("errors") or []
    if code is not None:
        assert code in {e["code"] for e in errors}, response.text
    return [e["pointer"] for e in errors]


async def test_alias_bomb_is_refused_at_once_and_the_loop_keeps_answering(
    http: httpx.AsyncClient,
) -> None:
    warm = await http.post("/v1/pipelines", content="name: warm\n", headers=YAML)
    assert warm.status_code == 201, warm.text
    latencies: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            started = time.monotonic()
            assert (await http.get("/healthz")).status_code == 200
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.005)

    prober = asyncio.create_task(probe())
    started = time.monotonic()
    response = await http.post("/v1/pipelines", content=alias_bomb(), headers=YAML)
    elapsed = time.monotonic() - started
    done.set()
    await prober
    assert_problem(response, 422, "too_large")
    assert "alias" in response.json()["detail"]
    assert elapsed < LOOP_BOUND_SECONDS
    assert latencies
    assert max(latencies) < LOOP_BOUND_SECONDS
    await assert_reads_work(http)


async def test_deep_documents_are_422_when_json_or_yaml_nests_too_deep(
    http: httpx.AsyncClient,
) -> None:
    deep_json = '{"name": "deep", "outputs": {"x": ' + nested_json(3000) + "}}"
    deep_yaml = "name: deep\noutputs: " + nested_json(50_000)
    json_type = {"content-type": "application/json"}
    for path in ("/v1/pipelines", "/v1/pipelines/validate"):
        assert_problem(await http.post(path, content=deep_json, headers=json_type), 422, "depth")
        assert_problem(await http.post(path, content=deep_yaml, headers=YAML), 422, "depth")
    just_too_deep = '{"pipeline_id": "x", "params": {"p": ' + nested_json(70) + "}}"
    execution = await http.post("/v1/executions", content=just_too_deep, headers=json_type)
    pointers = assert_problem(execution, 422, "depth")
    assert pointers[0].startswith("/params/p/0/0")
    await assert_reads_work(http)


SURROGATE = "\udfff"


def _inline(**extra: Any) -> dict[str, Any]:
    return {
        "name": "s",
        "parameters": [{"name": "p", "type": "string"}],
        "steps": [{"id": "a", "action": "set_output", "params": {"values": {"v": 1}}}],
        **extra,
    }


async def test_lone_surrogates_from_clients_are_422_and_nothing_is_stored(
    http: httpx.AsyncClient,
) -> None:
    # httpx would refuse to encode a lone surrogate: the body is written as JSON escapes.
    json_type = {"content-type": "application/json"}
    bodies = {
        "params": '{"definition": %s, "params": {"p": "\\udfff"}}',
        "callback_topics": '{"definition": %s, "callback_topics": ["t\\udfff"]}',
        "description": '{"definition": %s}',
    }
    definition = json.dumps(_inline())
    described = json.dumps(_inline(description="d")).replace('"d"', '"\\udfff"')
    for field, template in bodies.items():
        body = template % (described if field == "description" else definition)
        response = await http.post("/v1/executions", content=body, headers=json_type)
        assert_problem(response, 422, "surrogate")
    stored = await http.post("/v1/pipelines", content=described, headers=json_type)
    assert_problem(stored, 422, "surrogate")
    yaml_text = 'name: y\ndescription: "\\udfff"\n'
    assert_problem(await http.post("/v1/pipelines", content=yaml_text, headers=YAML), 422)
    assert (await http.get("/v1/executions")).json()["total"] == 0
    assert (await http.get("/v1/pipelines")).json()["total"] == 0


async def test_lone_surrogates_made_by_steps_are_stored_as_replacement_characters(
    http: httpx.AsyncClient,
) -> None:
    definition = {
        "name": "made",
        "steps": [
            {
                "id": "parse",
                "action": "transform",
                "params": {"input": '"\\udfff"', "operation": "parse_json"},
            },
            {
                "id": "template",
                "action": "set_output",
                "params": {"values": {"v": "{{ '\"\\\\udfff\"' | fromjson }}"}},
            },
        ],
        "outputs": {"joined": "{{ '\"\\\\ud800\"' | fromjson }}"},
    }
    response = await http.post("/v1/executions", json={"definition": definition})
    assert response.status_code == 201, response.text
    execution = await wait_for(http, response.json()["id"])
    assert execution["status"] == "completed", execution
    assert execution["outputs"] == {"joined": "\ufffd"}
    steps = {
        s["step_id"]: s
        for s in (await http.get(f"/v1/executions/{execution['id']}/steps")).json()["items"]
    }
    assert steps["parse"]["outputs"] == {"result": "\ufffd"}
    assert steps["template"]["outputs"] == {"v": "\ufffd"}
    await assert_reads_work(http)


async def test_extreme_dates_in_filters_are_422_when_utc_leaves_the_calendar(
    http: httpx.AsyncClient,
) -> None:
    for name, value in (
        ("created_after", "0001-01-01T00:00:00+14:00"),
        ("created_before", "9999-12-31T23:59:59-10:00"),
    ):
        pointers = assert_problem(await http.get("/v1/executions", params={name: value}), 422)
        assert pointers == [f"/query/{name}"]
    fine = await http.get("/v1/executions", params={"created_after": "0001-01-02T00:00:00+14:00"})
    assert fine.status_code == 200, fine.text
