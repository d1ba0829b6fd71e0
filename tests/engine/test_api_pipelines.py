"""The pipelines API: create, list, get, versioned update, delete, validate, problem+json."""

from __future__ import annotations

import httpx

from .helpers import diamond

PROBLEM = "application/problem+json"


async def test_create_returns_id_and_definition_when_definition_is_valid(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/pipelines", json=diamond())
    assert response.status_code == 201
    body = response.json()
    assert body["id"]
    assert body["version"] == 1
    assert body["is_draft"] is False
    assert [s["id"] for s in body["definition"]["steps"]] == ["a", "b", "c", "d", "e"]
    got = await client.get(f"/v1/pipelines/{body['id']}")
    assert got.status_code == 200
    assert got.json()["definition"] == body["definition"]


async def test_create_accepts_yaml_when_content_type_is_yaml(client: httpx.AsyncClient) -> None:
    text = "name: from-yaml\nsteps:\n  - id: a\n    action: log\n    params: {message: hi}\n"
    response = await client.post(
        "/v1/pipelines", content=text, headers={"content-type": "application/yaml"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "from-yaml"


async def test_create_answers_422_with_every_pointer_when_definition_is_invalid(
    client: httpx.AsyncClient,
) -> None:
    bad = {
        "name": "bad",
        "steps": [
            {"id": "a", "action": "set_output", "depends_on": ["b"]},
            {"id": "b", "action": "set_output", "depends_on": ["a"]},
            {"id": "a", "action": "nope"},
            {"id": "c", "action": "log", "params": {"message": "{{ params.missing }}"}},
        ],
    }
    for path in ("/v1/pipelines", "/v1/pipelines/validate"):
        response = await client.post(path, json=bad)
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        pointers = {e["pointer"] for e in problem["errors"]}
        assert "/steps/2/action" in pointers
        assert "/steps/2/id" in pointers
        assert any("->" in e["message"] for e in problem["errors"])  # the cycle path
        assert any(p.startswith("/steps/3/params") for p in pointers)
    listed = await client.get("/v1/pipelines")
    assert listed.json()["total"] == 0


async def test_bad_parameter_name_is_a_422_problem_on_create_validate_and_inline_start(
    client: httpx.AsyncClient,
) -> None:
    bad = {**diamond(), "parameters": [{"name": ""}]}
    for path, body in (
        ("/v1/pipelines", bad),
        ("/v1/pipelines/validate", bad),
        ("/v1/executions", {"definition": bad}),
    ):
        response = await client.post(path, json=body)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == PROBLEM
        pointers = [e["pointer"] for e in response.json()["errors"]]
        assert pointers[0].endswith("/parameters/0/name"), (path, pointers)


async def test_validate_answers_200_when_definition_is_valid(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/pipelines/validate", json=diamond())
    assert response.status_code == 200
    assert response.json() == {"valid": True, "is_draft": False, "errors": []}


async def test_body_that_is_not_json_is_a_422_problem_when_posted(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/pipelines", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


async def test_update_creates_a_new_version_when_definition_changes(
    client: httpx.AsyncClient,
) -> None:
    created = (await client.post("/v1/pipelines", json=diamond())).json()
    changed = diamond()
    changed["description"] = "second"
    updated = await client.put(f"/v1/pipelines/{created['id']}", json=changed)
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    first = await client.get(f"/v1/pipelines/{created['id']}", params={"version": 1})
    assert first.json()["definition"]["description"] is None
    assert (await client.get(f"/v1/pipelines/{created['id']}")).json()["description"] == "second"


async def test_list_paginates_when_there_are_more_pipelines_than_a_page(
    client: httpx.AsyncClient,
) -> None:
    for index in range(5):
        await client.post("/v1/pipelines", json=diamond(f"p{index}"))
    page = (await client.get("/v1/pipelines", params={"page": 2, "page_size": 2})).json()
    assert page["total"] == 5
    assert page["page"] == 2
    assert len(page["items"]) == 2
    last = (await client.get("/v1/pipelines", params={"page": 3, "page_size": 2})).json()
    assert len(last["items"]) == 1


async def test_delete_removes_the_pipeline_when_it_exists(client: httpx.AsyncClient) -> None:
    created = (await client.post("/v1/pipelines", json=diamond())).json()
    assert (await client.delete(f"/v1/pipelines/{created['id']}")).status_code == 204
    missing = await client.get(f"/v1/pipelines/{created['id']}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    again = await client.delete(f"/v1/pipelines/{created['id']}")
    assert again.status_code == 404


async def test_draft_is_stored_but_cannot_run_when_it_has_no_steps(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/v1/pipelines", json={"name": "draft"})
    assert created.status_code == 201
    assert created.json()["is_draft"] is True
    run = await client.post("/v1/executions", json={"pipeline_id": created.json()["id"]})
    assert run.status_code == 422
    assert run.json()["errors"][0]["pointer"] == "/pipeline_id"


async def test_errors_are_problems_when_route_or_method_is_unknown(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/v1/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    wrong = await client.patch("/v1/pipelines")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == PROBLEM
    bad_query = await client.get("/v1/pipelines", params={"page": 0})
    assert bad_query.status_code == 422
    assert bad_query.json()["errors"][0]["pointer"] == "/query/page"
    odd_id = await client.get("/v1/pipelines/not-a-uuid")
    assert odd_id.status_code == 404


async def test_nul_characters_are_refused_with_422_when_sent(client: httpx.AsyncClient) -> None:
    definition = diamond("with\x00nul")
    response = await client.post("/v1/pipelines", json=definition)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/name"


async def test_secret_values_are_masked_when_a_definition_is_read(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "name": "secrets",
        "steps": [
            {
                "id": "call",
                "action": "log",
                "params": {"message": "hi", "level": "info"},
            }
        ],
        "parameters": [{"name": "api_token", "type": "string", "default": "s3cr3t"}],
    }
    created = (await client.post("/v1/pipelines", json=definition)).json()
    assert "s3cr3t" not in str(created)
    run = await client.post(
        "/v1/executions", json={"pipeline_id": created["id"], "params": {"api_token": "tok-1"}}
    )
    assert run.status_code == 201
    assert run.json()["params"]["api_token"] == "***"
