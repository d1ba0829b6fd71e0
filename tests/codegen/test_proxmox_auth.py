"""Proxmox auth and tasks against a loopback server that logs in as PVE does.

The fake follows PVE's ``POST /access/ticket``: form ``username`` + ``password`` (or a valid
ticket as the password, to renew it) answer ``{"data": {"ticket", "CSRFPreventionToken",
"username"}}``; other calls need the ``PVEAuthCookie`` cookie of a live ticket, and writes the
matching ``CSRFPreventionToken`` header (401 otherwise, as PVE answers). A user with TOTP
(``TFA_USER``) first gets a half ticket with ``NeedTFA: 1``; the second ``POST /access/ticket``
sends it as ``tfa-challenge`` with ``password=totp:<code>`` (PVE 7.4+).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, quote

import jsonschema
import pytest

from tests.codegen.proxmox_schema import check_request
from tests.codegen.support import Recorded, RecordingServer, Reply

USER = "root@pam"
PASSWORD = "s3cret"
TFA_USER = "alice@pve"
TOTP = "123456"


class FakePve:
    """Tickets and tasks of a fake node, installed as routes of a recording server."""

    def __init__(self, server: RecordingServer) -> None:
        self.server = server
        self.tickets: dict[str, str] = {}  # live ticket -> its CSRF token
        self.counter = itertools.count(1)
        self.lock = threading.Lock()
        self.logins: list[dict[str, str]] = []
        self.challenges: set[str] = set()  # half tickets awaiting their second factor
        self.task_polls = 0
        self.task_exit = "OK"
        server.routes[("POST", "/access/ticket")] = self.login
        server.routes[("GET", "/nodes")] = self.authorized(
            lambda _: Reply(200, {"data": [{"node": "pve1", "status": "online"}]}), "/nodes"
        )
        upid = "UPID:pve1:0000ABCD:00000001:65000000:qmstart:100:root@pam:"
        server.routes[("POST", "/nodes/pve1/qemu/100/status/start")] = self.authorized(
            lambda _: Reply(200, {"data": upid}), "/nodes/{node}/qemu/{vmid}/status/start"
        )
        status = f"/nodes/pve1/tasks/{quote(upid, safe='')}/status"
        server.routes[("GET", status)] = self.authorized(
            self.task, "/nodes/{node}/tasks/{upid}/status"
        )

    def login(self, request: Recorded) -> Reply:
        form = dict(parse_qsl(request.body.decode()))
        time.sleep(0.05)  # a slow login makes concurrent first calls overlap
        with self.lock:
            self.logins.append(form)
            if form.get("username") == TFA_USER:
                return self.tfa_login(form)
            ok = form.get("username") == USER and (
                form.get("password") == PASSWORD or form.get("password") in self.tickets
            )
            if not ok:
                return Reply(401, {"data": None})
            n = next(self.counter)
            ticket, csrf = f"PVE:{USER}:TICKET{n}", f"CSRF{n}"
            self.tickets[ticket] = csrf
        return Reply(
            200, {"data": {"ticket": ticket, "CSRFPreventionToken": csrf, "username": USER}}
        )

    def tfa_login(self, form: dict[str, str]) -> Reply:
        challenge = form.get("tfa-challenge")
        if challenge is None:
            if form.get("password") != PASSWORD:
                return Reply(401, {"data": None})
            n = next(self.counter)
            half = f"PVE:!tfa!{TFA_USER}:CHALLENGE{n}"
            self.challenges.add(half)
            return Reply(200, {"data": {"ticket": half, "NeedTFA": 1, "username": TFA_USER}})
        if challenge not in self.challenges or form.get("password") != f"totp:{TOTP}":
            return Reply(401, {"data": None})
        self.challenges.discard(challenge)
        n = next(self.counter)
        ticket, csrf = f"PVE:{TFA_USER}:TICKET{n}", f"CSRF{n}"
        self.tickets[ticket] = csrf
        return Reply(
            200, {"data": {"ticket": ticket, "CSRFPreventionToken": csrf, "username": TFA_USER}}
        )

    def authorized(
        self, handler: Callable[[Recorded], Reply], template: str
    ) -> Callable[[Recorded], Reply]:
        """``handler`` behind PVE's ticket and CSRF checks and the schema's request checks."""

        def check(request: Recorded) -> Reply:
            try:
                check_request(request.method, template, request.body, request.query)
            except (AssertionError, jsonschema.ValidationError) as exc:
                return Reply(400, {"data": None, "errors": {"request": str(exc)[:200]}})
            cookie = request.headers.get("cookie", "")
            ticket = cookie.removeprefix("PVEAuthCookie=")
            csrf = self.tickets.get(ticket)
            if csrf is None:
                return Reply(401, {"data": None})
            if request.method != "GET" and request.headers.get("csrfpreventiontoken") != csrf:
                return Reply(401, {"data": None})
            return handler(request)

        return check

    def task(self, request: Recorded) -> Reply:
        self.task_polls += 1
        if self.task_polls < 3:
            return Reply(200, {"data": {"status": "running", "upid": "x"}})
        return Reply(200, {"data": {"status": "stopped", "exitstatus": self.task_exit}})


@pytest.fixture
def fake(server: RecordingServer) -> FakePve:
    return FakePve(server)


def ticket_client(pve: tuple[Path, ModuleType], server: RecordingServer, **kw: Any) -> Any:
    return pve[1].Client(base_url=server.url, user=USER, password=PASSWORD, **kw)


def test_ticket_login_sends_the_cookie_and_csrf_on_writes_only(
    pve: tuple[Path, ModuleType], server: RecordingServer, fake: FakePve
) -> None:
    client = ticket_client(pve, server)
    assert client.nodes.get()[0].node == "pve1"
    client.nodes("pve1").qemu(100).status.start.post()
    login, listing, start = server.requests
    assert dict(parse_qsl(login.body.decode())) == {"username": USER, "password": PASSWORD}
    assert "cookie" not in login.headers
    assert listing.headers["cookie"] == "PVEAuthCookie=PVE:root@pam:TICKET1"
    assert "csrfpreventiontoken" not in listing.headers
    assert start.headers["csrfpreventiontoken"] == "CSRF1"


def test_ticket_is_renewed_with_itself_when_it_is_near_expiry(
    pve: tuple[Path, ModuleType], server: RecordingServer, fake: FakePve
) -> None:
    client = ticket_client(pve, server, renew_after_seconds=0.2)
    client.nodes.get()
    time.sleep(0.3)
    client.nodes.get()
    assert [f["password"] for f in fake.logins] == [PASSWORD, "PVE:root@pam:TICKET1"]
    assert server.last.headers["cookie"] == "PVEAuthCookie=PVE:root@pam:TICKET2"


def test_concurrent_first_calls_share_one_login(
    pve: tuple[Path, ModuleType], server: RecordingServer, fake: FakePve
) -> None:
    client = ticket_client(pve, server)
    threads = [threading.Thread(target=client.nodes.get) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake.logins) == 1
    assert sum(r.path == "/nodes" for r in server.requests) == 8


def test_a_401_logs_in_again_once_and_repeats_the_call(
    pve: tuple[Path, ModuleType], server: RecordingServer, fake: FakePve
) -> None:
    client = ticket_client(pve, server)
    client.nodes.get()
    fake.tickets.clear()  # the node forgot every ticket (restart, expiry)
    assert client.nodes("pve1").qemu(100).status.start.post().startswith("UPID:")
    assert len(fake.logins) == 2
    assert [r.path for r in server.requests].count("/nodes/pve1/qemu/100/status/start") == 2


def test_wrong_password_is_an_authentication_error_after_one_try(
    pve: tuple[Path, ModuleType], server: RecordingServer, fake: FakePve
) -> None:
    client = pve[1].Client(base_url=server.url, user=USER, password="wrong")
    with pytest.raises(pve[1].AuthenticationError):
        client.nodes.get()
    assert len(fake.logins) == 1


def test_api_token_header_from_proxmox_environment_variables(
    pve: tuple[Path, ModuleType], server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    monkeypatch.setenv("PROXMOX_USER", USER)
    monkeypatch.setenv("PROXMOX_TOKEN_ID", "ci")
    monkeypatch.setenv("PROXMOX_TOKEN_SECRET", "0000-1111")
    client = pve[1].Client(host=host, port=int(port))
    assert client.base_url == f"https://{host}:{port}/api2/json"
    server.routes[("GET", "/nodes")] = Reply(200, {"data": []})
    plain = pve[1].Client(base_url=server.url)  # same variables, a plain-HTTP test server
    assert plain.nodes.get() == []
    assert server.last.headers["authorization"] == "PVEAPIToken=root@pam!ci=0000-1111"
    assert "cookie" not in server.last.headers


def test_half_a_token_is_a_configuration_error(pve: tuple[Path, ModuleType]) -> None:
    with pytest.raises(pve[1].ConfigurationError, match="token_id and token_secret"):
        pve[1].Client(base_url="https://pve:8006/api2/json", user=USER, token_id="ci")


def test_put_and_delete_are_not_retried_after_a_5xx(
    pve: tuple[Path, ModuleType], server: RecordingServer
) -> None:
    server.routes[("PUT", "/nodes/pve1/qemu/100/config")] = Reply(503, {"data": None})
    client = pve[1].Client(base_url=server.url, api_key="PVEAPIToken=a@pam!b=c", max_retries=3)
    with pytest.raises(pve[1].InternalServerError):
        client.nodes("pve1").qemu(100).config.put(cores=2)
    assert len(server.requests) == 1


def test_wait_task_polls_until_the_task_ends(
    pve: tuple[Path, ModuleType], server: RecordingServer, fake: FakePve
) -> None:
    client = ticket_client(pve, server)
    upid = client.nodes("pve1").qemu(100).status.start.post()
    status = client.wait_task(upid, timeout_seconds=5, poll_interval_seconds=0.01)
    assert status.ok
    assert status.exitstatus == "OK"
    assert fake.task_polls == 3


def test_wait_task_raises_a_typed_error_when_the_task_fails(
    pve: tuple[Path, ModuleType], server: RecordingServer, fake: FakePve
) -> None:
    from pve_sdk._runtime.proxmox import TaskFailedError  # pyright: ignore[reportMissingImports, reportUnknownVariableType]

    fake.task_exit = "start failed: QEMU exited with code 1"
    client = ticket_client(pve, server)
    upid = client.nodes("pve1").qemu(100).status.start.post()
    with pytest.raises(TaskFailedError, match="QEMU exited"):  # pyright: ignore[reportUnknownArgumentType]
        client.wait_task(upid, timeout_seconds=5, poll_interval_seconds=0.01)


def test_wait_task_gives_up_after_its_timeout(
    pve: tuple[Path, ModuleType], server: RecordingServer, fake: FakePve
) -> None:
    from pve_sdk._runtime.proxmox import TaskTimeoutError  # pyright: ignore[reportMissingImports, reportUnknownVariableType]

    client = ticket_client(pve, server)
    upid = client.nodes("pve1").qemu(100).status.start.post()
    with pytest.raises(TaskTimeoutError):  # pyright: ignore[reportUnknownArgumentType]
        client.wait_task(upid, timeout_seconds=0.01, poll_interval_seconds=0.05)


def test_async_client_logs_in_once_for_concurrent_calls_and_waits_for_tasks(
    pve: tuple[Path, ModuleType], server: RecordingServer, fake: FakePve
) -> None:
    async def main() -> Any:
        async with pve[1].AsyncClient(base_url=server.url, user=USER, password=PASSWORD) as c:
            await asyncio.gather(*(c.nodes.get() for _ in range(5)))
            upid = await c.nodes("pve1").qemu(100).status.start.post()
            return await c.wait_task(upid, timeout_seconds=5, poll_interval_seconds=0.01)

    status = asyncio.run(main())
    assert status.ok
    assert len(fake.logins) == 1


def test_totp_account_logs_in_with_a_second_step(
    pve: tuple[Path, ModuleType], server: RecordingServer, fake: FakePve
) -> None:
    client = pve[1].Client(base_url=server.url, user=TFA_USER, password=PASSWORD, otp=TOTP)
    assert client.nodes.get()[0].node == "pve1"
    first, second = fake.logins
    assert first == {"username": TFA_USER, "password": PASSWORD}
    assert second == {
        "username": TFA_USER,
        "tfa-challenge": "PVE:!tfa!alice@pve:CHALLENGE1",
        "password": f"totp:{TOTP}",
    }
    assert server.requests[-1].headers["cookie"] == "PVEAuthCookie=PVE:alice@pve:TICKET2"


def test_async_totp_account_logs_in_once_for_concurrent_calls(
    pve: tuple[Path, ModuleType], server: RecordingServer, fake: FakePve
) -> None:
    async def main() -> None:
        async with pve[1].AsyncClient(
            base_url=server.url, user=TFA_USER, password=PASSWORD, otp=TOTP
        ) as c:
            await asyncio.gather(*(c.nodes.get() for _ in range(3)))

    asyncio.run(main())
    assert [form.get("password") for form in fake.logins] == [PASSWORD, f"totp:{TOTP}"]
    assert fake.logins[1]["tfa-challenge"] == "PVE:!tfa!alice@pve:CHALLENGE1"


@pytest.mark.parametrize("use_async", [False, True])
def test_wrong_totp_code_is_an_authentication_error_after_one_try(
    pve: tuple[Path, ModuleType], server: RecordingServer, fake: FakePve, use_async: bool
) -> None:
    kw: dict[str, Any] = {
        "base_url": server.url,
        "user": TFA_USER,
        "password": PASSWORD,
        "otp": "000000",
    }
    if use_async:

        async def main() -> None:
            async with pve[1].AsyncClient(**kw) as c:
                await c.nodes.get()

        with pytest.raises(pve[1].AuthenticationError):
            asyncio.run(main())
    else:
        with pytest.raises(pve[1].AuthenticationError):
            pve[1].Client(**kw).nodes.get()
    assert [form.get("password") for form in fake.logins] == [PASSWORD, "totp:000000"]
