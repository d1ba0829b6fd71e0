"""The Proxmox VE 9.1 SDK in the ``paths`` layout, against a loopback server answering as PVE does.

The server records what the SDK sends and answers ``{"data": …}`` envelopes shaped like the
converted schema's ``returns``; PVE itself cannot run here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

import jsonschema
import pytest

from tests.codegen.proxmox_schema import check_request
from tests.codegen.support import RecordingServer, Reply


def client(pve: tuple[Path, ModuleType], server: RecordingServer) -> Any:
    return pve[1].Client(
        base_url=server.url, api_key="PVEAPIToken=root@pam!ci=secret", max_retries=2
    )


def form(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode(), keep_blank_values=True)


def test_navigation_reaches_start_and_sends_path_values_from_the_path_only(
    pve: tuple[Path, ModuleType], server: RecordingServer
) -> None:
    server.routes[("POST", "/nodes/pve1/qemu/100/status/start")] = Reply(
        200, {"data": "UPID:pve1:00001234:00000001:65000000:qmstart:100:root@pam:"}
    )
    upid = client(pve, server).nodes("pve1").qemu(100).status.start.post(timeout=60, skiplock=True)
    assert upid.startswith("UPID:pve1:")
    sent = server.last
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form(sent.body) == [("skiplock", "1"), ("timeout", "60")]  # 1/0, not true/false
    check_request("POST", "/nodes/{node}/qemu/{vmid}/status/start", sent.body, sent.query)


def test_property_strings_indexed_parameters_and_comma_lists_on_the_wire(
    pve: tuple[Path, ModuleType], server: RecordingServer
) -> None:
    from pve_sdk.models import QemuNet  # pyright: ignore[reportMissingImports, reportUnknownVariableType]

    server.routes[("POST", "/nodes/pve1/qemu")] = Reply(
        200, {"data": "UPID:pve1:1:2:3:qmcreate:101:root@pam:"}
    )
    client(pve, server).nodes("pve1").qemu.post(
        vmid=101,
        net={0: QemuNet(model="virtio", bridge="vmbr0", firewall=True), 1: "e1000,bridge=vmbr1"},
        tags=["web", "prod"],
        onboot=False,
    )
    fields = dict(form(server.last.body))
    check_request("POST", "/nodes/{node}/qemu", server.last.body, server.last.query)
    assert fields["net0"] == "bridge=vmbr0,firewall=1,model=virtio"
    assert fields["net1"] == "e1000,bridge=vmbr1"
    assert fields["tags"] == "web,prod"
    assert fields["onboot"] == "0"
    assert fields["vmid"] == "101"
    assert "node" not in fields


def test_the_request_checker_refuses_what_pve_would_refuse() -> None:
    with pytest.raises(AssertionError, match="1 or 0"):
        check_request("POST", "/nodes/{node}/qemu/{vmid}/status/start", b"skiplock=true", [])
    with pytest.raises(AssertionError, match="no parameter 'vmid'"):
        check_request("POST", "/nodes/{node}/qemu/{vmid}/status/start", b"vmid=100", [])
    with pytest.raises(jsonschema.ValidationError):
        check_request("POST", "/nodes/{node}/qemu", b"vmid=100&net0=model%3Dnope", [])


def test_get_returns_the_unwrapped_data_parsed_into_models(
    pve: tuple[Path, ModuleType], server: RecordingServer
) -> None:
    server.routes[("GET", "/nodes")] = Reply(
        200, {"data": [{"node": "pve1", "status": "online", "cpu": 0.1, "maxmem": 1024}]}
    )
    nodes = client(pve, server).nodes.get()
    assert nodes[0].node == "pve1"
    assert nodes[0].maxmem == 1024
    assert server.last.headers["authorization"] == "PVEAPIToken=root@pam!ci=secret"


def test_a_body_that_does_not_match_returns_is_a_validation_error(
    pve: tuple[Path, ModuleType], server: RecordingServer
) -> None:
    server.routes[("GET", "/nodes")] = Reply(200, {"data": [{"status": "online"}]})
    with pytest.raises(pve[1].errors.APIResponseValidationError):
        client(pve, server).nodes.get()


def test_data_null_error_body_is_a_typed_error_and_a_post_is_not_retried(
    pve: tuple[Path, ModuleType], server: RecordingServer
) -> None:
    server.routes[("POST", "/nodes/pve1/qemu/100/status/start")] = Reply(
        500, {"data": None}, headers={"Connection": "close"}
    )
    with pytest.raises(pve[1].InternalServerError) as caught:
        client(pve, server).nodes("pve1").qemu(100).status.start.post()
    assert caught.value.status_code == 500
    assert len(server.requests) == 1  # a non-idempotent POST is sent once


def test_async_twin_navigates_the_same_way(
    pve: tuple[Path, ModuleType], server: RecordingServer
) -> None:
    import asyncio

    server.routes[("GET", "/nodes/pve1/qemu")] = Reply(
        200, {"data": [{"vmid": 100, "status": "running", "name": "web"}]}
    )

    async def main() -> Any:
        async with pve[1].AsyncClient(base_url=server.url, api_key="PVEAPIToken=a@pam!b=c") as c:
            return await c.nodes("pve1").qemu.get(full=True)

    vms = asyncio.run(main())
    assert vms[0].vmid == 100
    assert server.last.raw_query == "full=1"
    check_request("GET", "/nodes/{node}/qemu", server.last.body, server.last.query)


def test_import_and_client_load_no_path_module_and_a_navigation_only_its_own_and_no_model(
    pve: tuple[Path, ModuleType],
) -> None:
    code = (
        "import sys, pve_sdk\n"
        "c = pve_sdk.Client(base_url='https://pve:8006/api2/json', api_key='x')\n"
        "before = sorted(m for m in sys.modules if m.startswith('pve_sdk.paths.'))\n"
        "c.nodes('pve1').qemu(100).status.start\n"
        "after = sorted(m for m in sys.modules if m.startswith('pve_sdk.paths.'))\n"
        "models = [m for m in sys.modules if m.startswith('pve_sdk.models.')]\n"
        "print(before, len(after), 'pve_sdk.paths.cluster' in after, len(models))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=pve[0], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["[]", "6", "False", "0"]  # walking a path imports no model
