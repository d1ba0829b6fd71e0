"""Executions through the API: DAG semantics, retries, timeouts, cancel, retry, progress."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from .helpers import diamond, run_inline, steps_by_id, wait_for


def step(step_id: str, action: str = "set_output", **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "action": action, **fields}


async def test_diamond_completes_with_outputs_when_started_from_a_stored_pipeline(
    client: httpx.AsyncClient,
) -> None:
    definition = diamond()
    definition["parameters"] = [{"name": "n", "type": "integer", "required": True}]
    definition["steps"][0]["params"] = {"values": {"n": "{{ params.n }}"}}
    definition["steps"][1]["params"] = {"key": "double", "value": "{{ steps.a.outputs.n * 2 }}"}
    definition["outputs"] = {"double": "{{ steps.b.outputs.double }}", "label": "n={{ params.n }}"}
    pipeline = (await client.post("/v1/pipelines", json=definition)).json()
    started = await client.post(
        "/v1/executions",
        json={
            "pipeline_id": pipeline["id"],
            "params": {"n": 21},
            "initiator": "alice",
            "callback_topics": ["done"],
        },
    )
    assert started.status_code == 201
    assert started.json()["status"] in {"pending", "running", "completed"}
    done = await wait_for(client, started.json()["id"])
    assert done["status"] == "completed", done
    assert done["outputs"] == {"double": 42, "label": "n=21"}
    assert done["callback_topics"] == ["done"]
    assert done["pipeline_version"] == 1
    steps = await steps_by_id(client, done["id"])
    assert all(s["status"] == "completed" and s["attempt"] == 1 for s in steps.values())
    assert steps["e"]["started_at"] >= max(steps[x]["finished_at"] for x in "bcd")
    page = (
        await client.get(f"/v1/executions/{done['id']}/steps", params={"page_size": 2, "page": 3})
    ).json()
    assert page["total"] == 5
    assert [x["step_id"] for x in page["items"]] == ["e"]


async def test_parameters_are_checked_when_an_execution_starts(client: httpx.AsyncClient) -> None:
    definition = diamond()
    definition["parameters"] = [{"name": "n", "type": "integer", "required": True}]
    response = await client.post(
        "/v1/executions", json={"definition": definition, "params": {"n": "x", "zzz": 1}}
    )
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert pointers == {"/params/n", "/params/zzz"}
    missing = await client.post(
        "/v1/executions", json={"pipeline_id": "7f29520c-ba31-4ff5-a643-9cfc0358208e"}
    )
    assert missing.status_code == 404
    both = await client.post("/v1/executions", json={})
    assert both.status_code == 422


async def test_execution_keeps_its_version_when_the_pipeline_is_updated(
    client: httpx.AsyncClient,
) -> None:
    definition = {"name": "v", "steps": [step("a", "delay", params={"seconds": 0.3})]}
    pipeline = (await client.post("/v1/pipelines", json=definition)).json()
    first = (await client.post("/v1/executions", json={"pipeline_id": pipeline["id"]})).json()
    definition["steps"] = [step("z")]
    await client.put(f"/v1/pipelines/{pipeline['id']}", json=definition)
    done = await wait_for(client, first["id"])
    assert done["pipeline_version"] == 1
    assert done["status"] == "completed"
    assert list(await steps_by_id(client, first["id"])) == ["a"]


async def test_new_execution_runs_the_current_version_when_the_pipeline_was_updated(
    client: httpx.AsyncClient,
) -> None:
    definition = {"name": "v", "steps": [step("one")]}
    pipeline = (await client.post("/v1/pipelines", json=definition)).json()
    body = {"pipeline_id": pipeline["id"]}
    first = (await client.post("/v1/executions?wait_seconds=10", json=body)).json()
    definition["steps"] = [step("two")]
    await client.put(f"/v1/pipelines/{pipeline['id']}", json=definition)
    second = (await client.post("/v1/executions?wait_seconds=10", json=body)).json()
    assert (first["pipeline_version"], second["pipeline_version"]) == (1, 2)
    assert list(await steps_by_id(client, second["id"])) == ["two"]
    await client.delete(f"/v1/pipelines/{pipeline['id']}")
    gone = await client.post("/v1/executions", json=body)
    assert gone.status_code == 404, gone.text


async def test_false_condition_skips_the_step_and_its_dependents_when_evaluated(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "name": "cond",
        "parameters": [{"name": "go", "type": "boolean", "default": False}],
        "steps": [
            step("a"),
            step("b", depends_on=["a"], condition="{{ params.go }}"),
            step("c", depends_on=["b"]),
            step("d", depends_on=["a"], condition="{{ not params.go }}"),
        ],
    }
    done = await run_inline(client, definition)
    assert done["status"] == "completed"
    steps = await steps_by_id(client, done["id"])
    assert {k: v["status"] for k, v in steps.items()} == {
        "a": "completed",
        "b": "skipped",
        "c": "skipped",
        "d": "completed",
    }


async def test_conditional_action_skips_the_branch_not_taken_when_it_runs(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "name": "branch",
        "parameters": [{"name": "size", "type": "integer", "default": 10}],
        "steps": [
            step(
                "choose",
                "conditional",
                params={"condition": "{{ params.size > 5 }}", "then": ["big"], "else": ["small"]},
            ),
            step("big", depends_on=["choose"]),
            step("small", depends_on=["choose"]),
        ],
    }
    done = await run_inline(client, definition)
    steps = await steps_by_id(client, done["id"])
    assert steps["big"]["status"] == "completed"
    assert steps["small"]["status"] == "skipped"
    assert steps["small"]["skip_reason"] == "branch"


async def test_step_is_retried_with_backoff_when_its_action_fails(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "name": "retry",
        "steps": [
            step(
                "f",
                "flaky",
                params={"failures": 2},
                retry={"max_attempts": 3, "backoff_seconds": 0.05, "backoff_multiplier": 2},
            )
        ],
    }
    done = await run_inline(client, definition)
    assert done["status"] == "completed"
    steps = await steps_by_id(client, done["id"])
    assert steps["f"]["attempt"] == 3
    assert steps["f"]["outputs"] == {"calls": 3}
    events = (await client.get(f"/v1/executions/{done['id']}/events")).json()["items"]
    assert [e["kind"] for e in events].count("step_retrying") == 2


async def test_execution_fails_fast_when_a_step_fails(client: httpx.AsyncClient) -> None:
    definition = {
        "name": "ff",
        "settings": {"max_parallel_steps": 4},
        "steps": [
            step("boom", "fail", params={"message": "broken"}),
            step("slow", "sleep", params={"seconds": 5}),
            step("after", depends_on=["boom"]),
        ],
    }
    done = await run_inline(client, definition)
    assert done["status"] == "failed"
    assert "broken" in done["error"]
    steps = await steps_by_id(client, done["id"])
    assert steps["boom"]["status"] == "failed"
    assert steps["after"]["status"] == "skipped"
    assert steps["slow"]["status"] in {"cancelled", "skipped"}


async def test_other_branches_finish_when_fail_fast_is_off(client: httpx.AsyncClient) -> None:
    definition = {
        "name": "no-ff",
        "settings": {"fail_fast": False},
        "steps": [
            step("boom", "fail", params={"message": "broken"}),
            step("after", depends_on=["boom"]),
            step("other"),
            step("tolerant", "fail", params={"message": "meh"}, on_failure="continue"),
            step("next", depends_on=["tolerant"]),
        ],
    }
    done = await run_inline(client, definition)
    assert done["status"] == "failed"
    steps = await steps_by_id(client, done["id"])
    assert steps["other"]["status"] == "completed"
    assert steps["after"]["status"] == "skipped"
    assert steps["tolerant"]["status"] == "failed"
    assert steps["next"]["status"] == "completed"


async def test_step_fails_when_it_exceeds_its_timeout(client: httpx.AsyncClient) -> None:
    definition = {
        "name": "t",
        "steps": [step("s", "sleep", params={"seconds": 5}, timeout_seconds=0.2)],
    }
    done = await run_inline(client, definition)
    assert done["status"] == "failed"
    assert "timed out" in (await steps_by_id(client, done["id"]))["s"]["error"]


async def test_execution_fails_when_it_exceeds_its_timeout(client: httpx.AsyncClient) -> None:
    definition = {
        "name": "t",
        "settings": {"timeout_seconds": 0.5},
        "steps": [step("w", "delay", params={"seconds": 30})],
    }
    done = await run_inline(client, definition)
    assert done["status"] == "failed"
    assert "timed out" in done["error"]


async def test_cancel_stops_running_steps_and_skips_pending_ones_when_requested(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "name": "c",
        "steps": [step("s", "sleep", params={"seconds": 10}), step("after", depends_on=["s"])],
    }
    started = (await client.post("/v1/executions", json={"definition": definition})).json()
    await wait_for(client, started["id"], {"running"})
    for _ in range(100):
        if (await steps_by_id(client, started["id"]))["s"]["status"] == "running":
            break
        await asyncio.sleep(0.02)
    cancelled = await client.post(f"/v1/executions/{started['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    steps = await steps_by_id(client, started["id"])
    assert steps["s"]["status"] == "cancelled"
    assert steps["after"]["status"] == "skipped"
    again = await client.post(f"/v1/executions/{started['id']}/cancel")
    assert again.status_code == 409


async def test_retry_reruns_failed_steps_and_keeps_completed_outputs_when_requested(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "name": "r",
        "steps": [
            step("first", params={"values": {"v": 1}}),
            step("flaky", "flaky", depends_on=["first"], params={"failures": 1}),
            step("last", depends_on=["flaky"]),
        ],
    }
    failed = await run_inline(client, definition)
    assert failed["status"] == "failed"
    before = await steps_by_id(client, failed["id"])
    retried = await client.post(f"/v1/executions/{failed['id']}/retry")
    assert retried.status_code == 200
    done = await wait_for(client, failed["id"])
    assert done["status"] == "completed"
    after = await steps_by_id(client, failed["id"])
    assert after["first"]["finished_at"] == before["first"]["finished_at"]
    assert after["flaky"]["outputs"] == {"calls": 2}
    assert after["last"]["status"] == "completed"
    assert (await client.post(f"/v1/executions/{failed['id']}/retry")).status_code == 409


async def test_progress_is_weighted_and_never_decreases_while_running(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "name": "p",
        "steps": [
            step("light", weight=1),
            step("heavy", "delay", depends_on=["light"], params={"seconds": 0.4}, weight=3),
        ],
    }
    started = (await client.post("/v1/executions", json={"definition": definition})).json()
    seen: list[float] = []
    for _ in range(200):
        progress = (await client.get(f"/v1/executions/{started['id']}/progress")).json()
        seen.append(progress["percent"])
        if progress["status"] == "completed":
            break
        await asyncio.sleep(0.01)
    assert seen == sorted(seen)
    assert 25.0 in seen
    assert seen[-1] == 100.0


async def test_list_filters_by_status_initiator_and_pipeline_when_asked(
    client: httpx.AsyncClient,
) -> None:
    pipeline = (await client.post("/v1/pipelines", json=diamond())).json()
    ids: list[str] = []
    for who in ("ann", "bob", "bob"):
        started = await client.post(
            "/v1/executions", json={"pipeline_id": pipeline["id"], "initiator": who}
        )
        ids.append(started.json()["id"])
    failing = {"name": "f", "steps": [step("x", "fail", params={"message": "no"})]}
    failed = await run_inline(client, failing, initiator="bob")
    for eid in ids:
        await wait_for(client, eid)
    by_bob = (await client.get("/v1/executions", params={"initiator": "bob"})).json()
    assert by_bob["total"] == 3
    done = (
        await client.get(
            "/v1/executions", params={"status": "completed", "pipeline_id": pipeline["id"]}
        )
    ).json()
    assert done["total"] == 3
    failed_list = (await client.get("/v1/executions", params={"status": "failed"})).json()
    assert [e["id"] for e in failed_list["items"]] == [failed["id"]]
    later = (
        await client.get("/v1/executions", params={"created_after": "2999-01-01T00:00:00Z"})
    ).json()
    assert later["total"] == 0


async def test_events_are_paginated_oldest_first_when_listed(client: httpx.AsyncClient) -> None:
    done = await run_inline(client, diamond())
    everything = (await client.get(f"/v1/executions/{done['id']}/events")).json()
    assert everything["items"][0]["kind"] == "execution_created"
    assert everything["items"][-1]["kind"] == "execution_completed"
    first = (
        await client.get(f"/v1/executions/{done['id']}/events", params={"page": 1, "page_size": 3})
    ).json()
    assert first["total"] == everything["total"]
    assert len(first["items"]) == 3
    assert first["items"] == everything["items"][:3]


async def test_sandbox_escapes_are_refused_and_the_engine_keeps_running_when_submitted(
    client: httpx.AsyncClient,
) -> None:
    attempts = [
        "{{ ().__class__ }}",
        "{{ params.__class__.__mro__ }}",
        "{{ params.x.__globals__ }}",
        "{{ ''.__class__.__subclasses__() }}",
        "{{ 'a' * 1000000000 }}",
        "{{ " + "(" * 500 + "1" + ")" * 500 + " }}",
    ]
    for attempt in attempts:
        definition = {
            "name": "evil",
            "parameters": [{"name": "x", "type": "string", "default": "x"}],
            "steps": [step("a", "log", params={"message": attempt})],
        }
        for path in ("/v1/pipelines", "/v1/pipelines/validate"):
            response = await client.post(path, json=definition)
            assert response.status_code == 422, (attempt, response.text)
            assert response.json()["errors"][0]["pointer"].startswith("/steps/0/params")
        inline = await client.post("/v1/executions", json={"definition": definition})
        assert inline.status_code == 422, attempt
    # Only known at run time (the size depends on a parameter): the step fails, cleanly.
    huge = {
        "name": "huge",
        "parameters": [{"name": "s", "type": "string", "default": "abcdefgh"}],
        "steps": [step("a", "log", params={"message": "{{ params.s * 100000000 }}"})],
    }
    done = await run_inline(client, huge)
    assert done["status"] == "failed"
    assert "too large" in (await steps_by_id(client, done["id"]))["a"]["error"]
    assert (await client.get("/healthz")).status_code == 200
    assert (await run_inline(client, diamond()))["status"] == "completed"


async def test_actions_catalog_lists_builtins_with_schemas_when_requested(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/v1/actions")).json()
    catalog = page["items"]
    assert page["total"] == len(catalog)
    second = (await client.get("/v1/actions", params={"page": 2, "page_size": 2})).json()
    assert [a["name"] for a in second["items"]] == [a["name"] for a in catalog[2:4]]
    names = {a["name"] for a in catalog}
    assert {
        "log",
        "set_output",
        "transform",
        "aggregate",
        "conditional",
        "fail",
        "delay",
        "wait_until",
        "http_request",
    } <= names
    assert all("properties" in a["params_schema"] or a["params_schema"] for a in catalog)


async def test_health_readiness_and_metrics_answer_when_the_engine_runs(
    client: httpx.AsyncClient,
) -> None:
    await run_inline(client, diamond())
    assert (await client.get("/healthz")).json() == {"status": "ok", "detail": None}
    assert (await client.get("/readyz")).status_code == 200
    text = (await client.get("/metrics")).text
    assert 'loom_executions_finished_total{outcome="completed"}' in text
    assert "loom_step_duration_seconds_bucket" in text
    assert "loom_runnable_steps" in text
    response = await client.get("/healthz", headers={"x-correlation-id": "abc"})
    assert response.headers["x-correlation-id"] == "abc"


async def test_retry_resumes_a_cancelled_execution_when_requested(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "name": "c-r",
        "steps": [
            step("first"),
            step("wait", "delay", depends_on=["first"], params={"seconds": 0.3}),
            step("last", depends_on=["wait"]),
        ],
    }
    started = (await client.post("/v1/executions", json={"definition": definition})).json()
    await wait_for(client, started["id"], {"running"})
    assert (await client.post(f"/v1/executions/{started['id']}/cancel")).status_code == 200
    retried = await client.post(f"/v1/executions/{started['id']}/retry")
    assert retried.status_code == 200
    done = await wait_for(client, started["id"])
    assert done["status"] == "completed"
    steps = await steps_by_id(client, started["id"])
    assert [steps[s]["status"] for s in ("first", "wait", "last")] == ["completed"] * 3


async def test_start_and_wait_answers_the_ended_execution_in_one_request(
    client: httpx.AsyncClient,
) -> None:
    started = await client.post(
        "/v1/executions", params={"wait_seconds": 10}, json={"definition": diamond()}
    )
    assert started.status_code == 201
    assert started.json()["status"] == "completed"
    assert started.json()["finished_at"] is not None


async def test_start_and_wait_answers_the_running_execution_when_the_wait_ends(
    client: httpx.AsyncClient,
) -> None:
    slow = {"name": "slow", "steps": [step("s", "sleep", params={"seconds": 2})]}
    started = await client.post(
        "/v1/executions", params={"wait_seconds": 0.2}, json={"definition": slow}
    )
    assert started.status_code == 201
    assert started.json()["status"] in {"pending", "running"}
    assert (await wait_for(client, started.json()["id"]))["status"] == "completed"


async def test_start_and_wait_refuses_a_wait_over_a_minute_with_a_422(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(
        "/v1/executions", params={"wait_seconds": 61}, json={"definition": diamond()}
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/executions")).json()["total"] == 0  # nothing was started
