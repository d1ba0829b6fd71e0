"""Built-in actions, the registry, and http_request against a real loopback server."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from loom.engine.actions import (
    ActionContext,
    ActionError,
    ActionRegistry,
    ActionResult,
    ActionSettings,
    Suspend,
)
from loom.engine.actions.builtin import parse_datetime
from loom.engine.actions.http import is_public_address
from loom.engine.masking import is_secret_key, mask_secrets, mask_url_credentials

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
REGISTRY = ActionRegistry.default(entry_points=False)
LOGGER = logging.getLogger("tests.engine.actions")


def _ctx(
    params: Mapping[str, Any],
    *,
    allow_private: bool = False,
    resume_state: Mapping[str, Any] | None = None,
    now: datetime = NOW,
    max_bytes: int = 1024 * 1024,
) -> ActionContext:
    return ActionContext(
        execution_id="exec-1",
        step_id="step-1",
        attempt=1,
        params=params,
        logger=LOGGER,
        settings=ActionSettings(
            allow_private_networks=allow_private,
            http_timeout_seconds=5.0,
            http_max_response_bytes=max_bytes,
        ),
        resume_state=resume_state,
        now=now,
    )


async def _run(name: str, params: Mapping[str, Any], **kwargs: Any) -> ActionResult | Suspend:
    action = REGISTRY.get(name)
    assert action is not None
    return await action.run(_ctx(params, **kwargs))


async def _outputs(name: str, params: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    result = await _run(name, params, **kwargs)
    assert isinstance(result, ActionResult)
    return result.outputs


# -- registry --------------------------------------------------------------------------------


def test_catalog_lists_every_builtin_with_schemas_when_asked() -> None:
    catalog = REGISTRY.catalog()
    names = [entry["name"] for entry in catalog]
    assert names == [
        "aggregate", "conditional", "delay", "fail", "http_request", "log", "set_output",
        "transform", "wait_until",
    ]  # fmt: skip
    for entry in catalog:
        assert entry["description"]
        assert entry["params_schema"]["type"] == "object"
        assert isinstance(entry["outputs_schema"], dict)
        assert isinstance(entry["idempotent"], bool)
    http = next(e for e in catalog if e["name"] == "http_request")
    assert http["idempotent"] is False


def test_registering_twice_fails_when_replace_is_not_asked() -> None:
    registry = ActionRegistry.default(entry_points=False)
    log = registry.get("log")
    assert log is not None
    with pytest.raises(ValueError, match="already registered"):
        registry.register(log)
    registry.register(log, replace=True)
    assert "log" in registry


def test_registering_a_non_action_fails_when_attributes_are_missing() -> None:
    with pytest.raises(ValueError, match="not an action"):
        ActionRegistry().register(object())  # pyright: ignore[reportArgumentType] -- on purpose


def test_validate_params_skips_templates_but_requires_keys_when_checking() -> None:
    assert REGISTRY.validate_params("delay", {"seconds": "{{ params.s }}"}) == []
    assert REGISTRY.validate_params("delay", {}) == [("/seconds", "required parameter is missing")]
    assert REGISTRY.validate_params("delay", {"seconds": "soon"}) == [
        ("/seconds", "expected number, got string")
    ]
    assert REGISTRY.validate_params("nope", {}) == [("", "unknown action 'nope'")]


PLUGIN_SOURCE = """
from loom.engine.actions import ActionResult


class Shout:
    name = "shout"
    description = "upper-cases text"
    params_schema = {"type": "object", "properties": {"text": {"type": "string"}}}
    outputs_schema = {"type": "object"}
    idempotent = True

    async def run(self, ctx):
        return ActionResult(outputs={"text": str(ctx.params["text"]).upper()})


def broken():
    raise RuntimeError("plug-in exploded")
"""


@pytest.fixture
def plugin_path(tmp_path: Path) -> Iterator[Path]:
    """A directory on sys.path holding a plug-in module and its dist-info entry points."""
    (tmp_path / "loom_test_plugin.py").write_text(PLUGIN_SOURCE)
    dist_info = tmp_path / "loom_test_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: loom-test-plugin\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[loom.actions]\nshout = loom_test_plugin:Shout\nbroken = loom_test_plugin:broken\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("loom_test_plugin", None)


async def test_entry_point_action_is_registered_when_a_plugin_is_installed(
    plugin_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert plugin_path.exists()
    with caplog.at_level(logging.ERROR):
        registry = ActionRegistry.default()
    action = registry.get("shout")
    assert action is not None
    result = await action.run(_ctx({"text": "hi"}))
    assert isinstance(result, ActionResult)
    assert result.outputs == {"text": "HI"}
    assert "broken" not in registry
    assert "plug-in exploded" in caplog.text or "broken failed to load" in caplog.text


# -- simple built-ins ------------------------------------------------------------------------


async def test_log_writes_the_message_when_run(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="tests.engine.actions"):
        outputs = await _outputs("log", {"message": {"a": 1}, "level": "warning"})
    assert outputs == {"message": {"a": 1}}
    assert any(
        r.levelno == logging.WARNING and '{"a": 1}' in r.getMessage() for r in caplog.records
    )


async def test_set_output_publishes_values_when_given_values_and_key() -> None:
    outputs = await _outputs("set_output", {"values": {"a": 1, "b": [2]}, "key": "c", "value": 3})
    assert outputs == {"a": 1, "b": [2], "c": 3}


async def test_set_output_fails_when_value_has_no_key() -> None:
    with pytest.raises(ActionError, match="needs a `key`"):
        await _run("set_output", {"value": 3})


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"input": [3, 1, 2], "operation": "sort"}, [1, 2, 3]),
        ({"input": [{"n": 2}, {"n": 1}], "operation": "sort", "field": "n"}, [{"n": 1}, {"n": 2}]),
        ({"input": "Ab", "operation": "upper"}, "AB"),
        ({"input": [1, [2, 3]], "operation": "flatten"}, [1, 2, 3]),
        ({"input": [1, 1, {"a": 1}, {"a": 1}], "operation": "unique"}, [1, {"a": 1}]),
        ({"input": '{"a": 1}', "operation": "parse_json"}, {"a": 1}),
        ({"input": {"a": 1, "b": 2}, "operation": "pick", "fields": ["a"]}, {"a": 1}),
        ({"input": {"a": 1, "b": 2}, "operation": "omit", "fields": ["a"]}, {"b": 2}),
        ({"input": [{"id": 1}, {"id": 2}], "operation": "pluck", "field": "id"}, [1, 2]),
        ({"input": [{"a": 1}, {"b": 2}], "operation": "merge"}, {"a": 1, "b": 2}),
        ({"input": {"x": 1}}, {"x": 1}),
    ],
)
async def test_transform_computes_result_when_operation_is_given(
    params: dict[str, Any], expected: object
) -> None:
    assert (await _outputs("transform", params))["result"] == expected


@pytest.mark.parametrize(
    ("name", "params", "fragment"),
    [
        ("delay", {"seconds": "5"}, "/seconds expected number, got string"),
        ("delay", {}, "/seconds required parameter is missing"),
        ("transform", {"input": 1, "operation": "explode"}, "/operation must be one of"),
        ("log", {"message": "x", "volume": 11}, "/volume unknown parameter"),
    ],
)
async def test_action_fails_without_retry_when_rendered_params_break_its_schema(
    name: str, params: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ActionError, match=fragment) as caught:
        await _run(name, params)
    assert caught.value.retryable is False


async def test_transform_fails_without_retry_when_input_has_wrong_type() -> None:
    with pytest.raises(ActionError) as caught:
        await _run("transform", {"input": 5, "operation": "keys"})
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"inputs": [1, 2]}, [1, 2]),
        ({"inputs": {"a": [1], "b": [2, 3]}, "operation": "concat"}, [1, 2, 3]),
        ({"inputs": [{"a": 1}, {"b": 2}], "operation": "merge"}, {"a": 1, "b": 2}),
        ({"inputs": [1, 2, 3], "operation": "sum"}, 6),
        ({"inputs": [1, 2, 3], "operation": "avg"}, 2),
        ({"inputs": [4, 2, 8], "operation": "min"}, 2),
        ({"inputs": [4, 2, 8], "operation": "max"}, 8),
        ({"inputs": [], "operation": "max"}, None),
        ({"inputs": ["x", "y"], "operation": "count"}, 2),
    ],
)
async def test_aggregate_combines_inputs_when_operation_is_given(
    params: dict[str, Any], expected: object
) -> None:
    assert (await _outputs("aggregate", params))["result"] == expected


@pytest.mark.parametrize(
    ("params", "branch", "skipped"),
    [
        ({"condition": True, "then": ["a"], "else": ["b"]}, "then", {"b"}),
        ({"condition": "false", "then": ["a"], "else": ["b"]}, "else", {"a"}),
        (
            {
                "branches": [
                    {"name": "small", "when": False, "steps": ["s"]},
                    {"name": "large", "when": True, "steps": ["l"]},
                ],
                "otherwise": ["o"],
            },
            "large",
            {"s", "o"},
        ),
        ({"branches": [{"when": 0, "steps": ["s"]}], "otherwise": ["o"]}, "else", {"s"}),
        ({"condition": True, "then": ["a", "b"], "else": ["b", "c"]}, "then", {"c"}),
    ],
)
async def test_conditional_skips_the_branches_not_taken_when_run(
    params: dict[str, Any], branch: str, skipped: set[str]
) -> None:
    result = await _run("conditional", params)
    assert isinstance(result, ActionResult)
    assert result.outputs["branch"] == branch
    assert result.skip_steps == frozenset(skipped)
    assert result.outputs["skipped"] == sorted(skipped)


async def test_fail_raises_a_non_retryable_error_when_run() -> None:
    with pytest.raises(ActionError, match="boom") as caught:
        await _run("fail", {"message": "boom"})
    assert caught.value.retryable is False
    with pytest.raises(ActionError) as retryable:
        await _run("fail", {"retryable": True})
    assert retryable.value.retryable is True


# -- durable waits ---------------------------------------------------------------------------


async def test_delay_suspends_then_completes_when_resumed_after_the_wake_up_time() -> None:
    first = await _run("delay", {"seconds": 30})
    assert isinstance(first, Suspend)
    assert first.resume_at == NOW + timedelta(seconds=30)
    assert first.resume_at.tzinfo is not None
    state = json.loads(json.dumps(first.state))  # the scheduler stores it as JSON
    early = await _run(
        "delay", {"seconds": 30}, resume_state=state, now=NOW + timedelta(seconds=10)
    )
    assert isinstance(early, Suspend)
    assert early.resume_at == first.resume_at  # the wake-up time does not drift
    done = await _run("delay", {"seconds": 30}, resume_state=state, now=first.resume_at)
    assert isinstance(done, ActionResult)
    assert done.outputs["delayed_seconds"] == 30.0


async def test_delay_completes_at_once_when_seconds_is_zero() -> None:
    assert isinstance(await _run("delay", {"seconds": 0}), ActionResult)


async def test_wait_until_suspends_then_completes_when_resumed_at_the_moment() -> None:
    until = "2026-01-01T13:00:00+01:00"  # that is 12:00 UTC
    result = await _run("wait_until", {"until": until}, now=NOW - timedelta(minutes=5))
    assert isinstance(result, Suspend)
    assert result.resume_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    done = await _run("wait_until", {"until": until}, resume_state=result.state, now=NOW)
    assert isinstance(done, ActionResult)
    assert done.outputs["until"] == "2026-01-01T12:00:00+00:00"


async def test_wait_until_fails_when_the_timestamp_is_not_iso() -> None:
    with pytest.raises(ActionError, match="ISO-8601") as caught:
        await _run("wait_until", {"until": "next tuesday"})
    assert caught.value.retryable is False


def test_naive_timestamp_is_read_as_utc_when_parsed() -> None:
    assert parse_datetime("2026-01-01T00:00:00") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_datetime("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)


# -- http_request ----------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (the timeout test)

    def _route(self, method: str) -> None:
        _Handler.hits.append(f"{method} {self.path}")
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if parts.path == "/echo":
            payload = {
                "method": method,
                "query": parse_qs(parts.query),
                "body": body.decode(),
                "x_token": self.headers.get("X-Token"),
                "host": self.headers.get("Host"),
            }
            self._send(200, json.dumps(payload).encode())
        elif parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/echo?from=redirect")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/to-private":
            self.send_response(302)
            self.send_header("Location", "http://10.0.0.1/secret")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/loop":
            self.send_response(307)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/big":
            self._send(200, b"x" * 5000, "text/plain")
        elif parts.path == "/slow":
            time.sleep(2.0)
            self._send(200, b"{}")
        elif parts.path.startswith("/status/"):
            self._send(int(parts.path.rsplit("/", 1)[1]), b'{"error": "nope"}')
        else:
            self._send(404, b"{}")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A real HTTP server on a free loopback port; yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_http_request_returns_status_headers_and_json_when_target_answers(
    server: str,
) -> None:
    outputs = await _outputs(
        "http_request",
        {
            "url": f"{server}/echo",
            "method": "post",
            "json": {"a": 1},
            "query": {"q": ["x", "y"], "flag": True},
            "headers": {"X-Token": "t0k"},
        },
        allow_private=True,
    )
    assert outputs["status_code"] == 200
    assert outputs["headers"]["content-type"] == "application/json"
    assert outputs["json"] == {
        "method": "POST",
        "query": {"q": ["x", "y"], "flag": ["true"]},
        "body": '{"a": 1}',
        "x_token": "t0k",
        "host": server.removeprefix("http://"),
    }
    assert outputs["elapsed_seconds"] >= 0


async def test_http_request_follows_redirects_when_allowed(server: str) -> None:
    outputs = await _outputs("http_request", {"url": f"{server}/redirect"}, allow_private=True)
    assert outputs["json"]["query"] == {"from": ["redirect"]}
    assert outputs["url"].endswith("/echo?from=redirect")


async def test_http_request_stops_when_redirects_loop(server: str) -> None:
    with pytest.raises(ActionError, match="redirects"):
        await _run("http_request", {"url": f"{server}/loop"}, allow_private=True)


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (404, False)]
)
async def test_http_request_fails_when_status_is_an_error(
    server: str, status: int, retryable: bool
) -> None:
    with pytest.raises(ActionError, match=f"answered {status}") as caught:
        await _run("http_request", {"url": f"{server}/status/{status}"}, allow_private=True)
    assert caught.value.retryable is retryable


async def test_http_request_accepts_error_status_when_it_is_expected(server: str) -> None:
    outputs = await _outputs(
        "http_request",
        {"url": f"{server}/status/404", "expected_status": [404]},
        allow_private=True,
    )
    assert outputs["status_code"] == 404


async def test_http_request_fails_when_the_body_is_too_large(server: str) -> None:
    with pytest.raises(ActionError, match="larger than 1000 bytes"):
        await _run("http_request", {"url": f"{server}/big"}, allow_private=True, max_bytes=1000)


async def test_http_request_times_out_when_the_server_is_slow(server: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ActionError, match="timed out") as caught:
        await _run(
            "http_request", {"url": f"{server}/slow", "timeout_seconds": 0.3}, allow_private=True
        )
    assert caught.value.retryable is True
    assert time.perf_counter() - started < 1.5


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/echo",
        "http://localhost:{port}/echo",
        "http://[::1]:{port}/echo",
        "http://[::ffff:127.0.0.1]:{port}/echo",
        "http://0.0.0.0:{port}/echo",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
    ],
)
async def test_http_request_refuses_non_public_targets_when_private_networks_are_off(
    server: str, url: str
) -> None:
    port = server.rsplit(":", 1)[1]
    _Handler.hits.clear()
    with pytest.raises(ActionError, match="refused to reach") as caught:
        await _run("http_request", {"url": url.format(port=port)})
    assert caught.value.retryable is False
    assert _Handler.hits == []  # refused before any connection


@pytest.fixture
def loopback_counts_as_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat 127.0.0.1 (only) as public, so the checked path can be exercised offline."""
    from loom.engine.actions import http

    original = http.is_public_address

    def is_public(address: str | http.IPAddress) -> bool:
        return str(address) == "127.0.0.1" or original(address)

    monkeypatch.setattr(http, "is_public_address", is_public)


@pytest.mark.usefixtures("loopback_counts_as_public")
async def test_http_request_goes_to_the_checked_address_when_private_networks_are_off(
    server: str,
) -> None:
    outputs = await _outputs("http_request", {"url": f"{server}/echo"})
    assert outputs["json"]["host"] == server.removeprefix("http://")
    assert outputs["url"] == f"{server}/echo"


@pytest.mark.usefixtures("loopback_counts_as_public")
async def test_http_request_refuses_a_redirect_when_it_points_to_a_private_address(
    server: str,
) -> None:
    _Handler.hits.clear()
    with pytest.raises(ActionError, match=r"refused to reach '10\.0\.0\.1'") as caught:
        await _run("http_request", {"url": f"{server}/to-private"})
    assert caught.value.retryable is False
    assert _Handler.hits == ["GET /to-private"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"headers": {"X-Name": "\u00e9"}}, "invalid request"),
        ({"headers": {"bad name": "x"}}, "Illegal header name"),
        ({"timeout_seconds": "soon"}, "/timeout_seconds expected number"),
        ({"max_response_bytes": -1}, "/max_response_bytes must be at least 0"),
        ({"method": "BREW"}, "/method must be one of"),
        ({"json": float("nan")}, "cannot be sent as JSON"),
    ],
)
async def test_http_request_fails_without_retry_when_rendered_params_are_bad(
    server: str, params: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ActionError, match=fragment) as caught:
        await _run("http_request", {"url": f"{server}/echo", **params}, allow_private=True)
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "http://127.0.0.1:99999/", "not a url", "/relative", ""]
)
async def test_http_request_fails_clearly_when_url_is_not_http(url: str) -> None:
    with pytest.raises(ActionError, match="url") as caught:
        await _run("http_request", {"url": url}, allow_private=True)
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_address_is_classified_when_checked_for_public_reachability(
    address: str, public: bool
) -> None:
    assert is_public_address(address) is public


# -- masking ---------------------------------------------------------------------------------


def test_secret_values_are_masked_recursively_when_keys_look_secret() -> None:
    value = {
        "user": "ada",
        "password": "hunter2",
        "nested": [{"api_key": "k", "Authorization": "Bearer x", "count": 1}],
        "config": {"client_secret": {"deep": "s"}, "dsn": "postgresql://u:pw@h/db"},
        "url": "https://bob:pa55@example.com/x",
        "author": "not a secret",
        "empty_token": None,
    }
    masked = mask_secrets(value)
    assert masked == {
        "user": "ada",
        "password": "***",
        "nested": [{"api_key": "***", "Authorization": "***", "count": 1}],
        "config": {"client_secret": "***", "dsn": "***"},
        "url": "https://bob:***@example.com/x",
        "author": "not a secret",
        "empty_token": None,
    }
    assert value["password"] == "hunter2"  # the input is not modified


def test_custom_patterns_replace_defaults_when_given() -> None:
    assert mask_secrets({"pin": 1, "password": 2}, patterns=[r"^pin$"]) == {
        "pin": "***",
        "password": 2,
    }
    assert is_secret_key("X-Api-Key")
    assert not is_secret_key("monkey")
    assert mask_url_credentials("no url here") == "no url here"
