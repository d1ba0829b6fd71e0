"""A generated Camunda SDK configured only through CAMUNDA_* variables reaches a loopback server
with OAuth, and sends the same token request as camunda-orchestration-sdk 10.0.1 does with the
same variables (when its peer virtualenv from ``python -m bench.peers`` is present).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .loopback import LoopbackServer, Received, Reply, Script, TokenServer

ROOT = Path(__file__).resolve().parents[2]
CAMUNDA_PEER_PYTHON = ROOT / "build" / "peers" / "camunda" / "bin" / "python"
SEARCH_RESULT: dict[str, object] = {
    "items": [],
    "page": {"totalItems": 0, "hasMoreTotalItems": False, "startCursor": None, "endCursor": None},
}

LOOM_SCRIPT = """
import json, sys
sys.path.insert(0, {sdk_dir!r})
from camunda_sdk import Client
with Client() as client:
    result = client.process_instance.search()
    print(json.dumps({{"items": len(result.items), "base_url": client.base_url}}))
"""

PEER_SCRIPT = """
import json
from camunda_orchestration_sdk import CamundaClient
client = CamundaClient()
result = client.search_process_instances()
print(json.dumps({"items": len(result.items)}))
"""


PAGING_SCRIPT = """
import asyncio, json, sys
sys.path.insert(0, {sdk_dir!r})
from camunda_sdk import AsyncClient, Client
with Client() as client:
    keys = [p.process_instance_key for p in client.process_instance.search_all(
        page={{"limit": 2}})]

async def main():
    async with AsyncClient() as client:
        return [p.process_instance_key async for p in client.process_instance.search_all(
            page={{"limit": 2}})]

print(json.dumps({{"sync": keys, "async": asyncio.run(main())}}))
"""


def process_instance(key: int) -> dict[str, object]:
    return {
        "processDefinitionId": "order",
        "processDefinitionName": None,
        "processDefinitionVersion": 1,
        "processDefinitionVersionTag": None,
        "startDate": "2026-01-01T00:00:00Z",
        "endDate": None,
        "state": "ACTIVE",
        "suspendedDate": None,
        "hasIncident": False,
        "tenantId": "<default>",
        "processInstanceKey": str(key),
        "processDefinitionKey": "9",
        "parentProcessInstanceKey": None,
        "parentElementInstanceKey": None,
        "rootProcessInstanceKey": None,
        "tags": [],
        "businessId": None,
    }


@pytest.fixture(scope="module")
def camunda_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generate the Camunda SDK once for this module."""
    out = tmp_path_factory.mktemp("camunda")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "loom",
            "generate",
            str(ROOT / "examples/camunda/rest-api.bundle.json"),
            "-o",
            str(out),
            "--config",
            str(ROOT / "examples/camunda/loom.toml"),
            "-q",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture
def camunda_server() -> Iterator[TokenServer]:
    server = TokenServer()
    server.api_body = SEARCH_RESULT
    server.server.start()
    yield server
    server.server.stop()


def camunda_env(server: TokenServer, cache_dir: Path) -> dict[str, str]:
    """Only CAMUNDA_* variables (plus what a process needs to start)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(cache_dir),
        "CAMUNDA_REST_ADDRESS": f"{server.server.url}/v2",
        "CAMUNDA_OAUTH_URL": server.token_url,
        "CAMUNDA_CLIENT_ID": "orchestration",
        "CAMUNDA_CLIENT_SECRET": "s3cret-value",
        "CAMUNDA_TOKEN_AUDIENCE": "orchestration-api",
        "CAMUNDA_TOKEN_CACHE_DIR": str(cache_dir / "tokens"),
    }


def run(python: Path | str, code: str, env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_generated_sdk_uses_oauth_from_camunda_variables_when_only_env_is_set(
    camunda_sdk: Path, camunda_server: TokenServer, tmp_path: Path
) -> None:
    env = camunda_env(camunda_server, tmp_path)
    out = run(sys.executable, textwrap.dedent(LOOM_SCRIPT.format(sdk_dir=str(camunda_sdk))), env)
    assert out == {"items": 0, "base_url": f"{camunda_server.server.url}/v2"}
    assert camunda_server.token_requests == 1
    assert camunda_server.api_tokens == ["tok-1"]
    assert camunda_server.api_paths == ["/v2/process-instances/search"]
    assert camunda_server.forms[0] == {
        "grant_type": "client_credentials",
        "client_id": "orchestration",
        "client_secret": "s3cret-value",
        "audience": "orchestration-api",
    }
    cached = list((tmp_path / "tokens").iterdir())
    assert [f.name for f in cached] == [
        "oauth-token-orchestration-orchestration-api-127.0.0.1.json"
    ]


def test_generated_sdk_matches_camunda_sdk_token_request_when_same_variables(
    camunda_sdk: Path, camunda_server: TokenServer, tmp_path: Path
) -> None:
    if not CAMUNDA_PEER_PYTHON.exists():
        if os.environ.get("CI"):
            pytest.fail("camunda-orchestration-sdk peer missing: `make test` installs it")
        pytest.skip("camunda-orchestration-sdk peer missing: run `python -m bench.peers`")
    peer_out = run(CAMUNDA_PEER_PYTHON, PEER_SCRIPT, camunda_env(camunda_server, tmp_path / "a"))
    loom_code = textwrap.dedent(LOOM_SCRIPT.format(sdk_dir=str(camunda_sdk)))
    loom_out = run(sys.executable, loom_code, camunda_env(camunda_server, tmp_path / "b"))
    assert peer_out["items"] == loom_out["items"] == 0
    peer_form, loom_form = camunda_server.forms
    assert loom_form == peer_form
    assert camunda_server.api_paths == ["/v2/process-instances/search"] * 2
    assert camunda_server.api_tokens == ["tok-1", "tok-2"]
    # Both SDKs name their token cache file the same way, so they can share a directory.
    peer_files = sorted(f.name for f in (tmp_path / "a" / "tokens").iterdir())
    loom_files = sorted(f.name for f in (tmp_path / "b" / "tokens").iterdir())
    assert loom_files == peer_files


def test_generated_search_all_pages_through_cursor_when_sync_and_async(
    camunda_sdk: Path, serve: Callable[[Script], LoopbackServer], tmp_path: Path
) -> None:
    def script(req: Received) -> Reply:
        page = req.json()["page"]
        start = int(page.get("after") or 0)
        keys = range(start, min(start + page["limit"], 5))
        return Reply(
            json={
                "items": [process_instance(k) for k in keys],
                "page": {
                    "totalItems": 5,
                    "hasMoreTotalItems": False,
                    "startCursor": str(start),
                    "endCursor": str(start + len(keys)),
                },
            }
        )

    server = serve(script)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    env["CAMUNDA_REST_ADDRESS"] = f"{server.url}/v2"
    out = run(sys.executable, textwrap.dedent(PAGING_SCRIPT.format(sdk_dir=str(camunda_sdk))), env)
    assert out == {"sync": ["0", "1", "2", "3", "4"], "async": ["0", "1", "2", "3", "4"]}
    assert server.count() == 6  # three pages, twice
