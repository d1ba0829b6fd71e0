"""The standing hostile-input suite: hypothesis puts hostile strings and shapes into every field
of every endpoint, over real HTTP, on SQLite and PostgreSQL.

Hostile: lone surrogates, NUL, bidi controls, byte-order marks, huge strings, deep nesting,
YAML alias bombs, extreme numbers (1e308, 2**64, 400-digit integers, NaN/Infinity literals)
and extreme dates. The invariant, checked after every request: no 5xx; and over the whole run:
no traceback or error in the log, ``/healthz`` answered promptly throughout (a prober thread),
every list and get still answers. The number of examples is bounded (``LOOM_HOSTILE_EXAMPLES``,
60 by default) so the suite takes seconds.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import diamond
from .test_hostile_input import LOOP_BOUND_SECONDS, alias_bomb

EXAMPLES = int(os.environ.get("LOOM_HOSTILE_EXAMPLES", "60"))

HOSTILE_TEXT = st.one_of(
    st.sampled_from(
        [
            "\udfff",
            "\ud800x",
            "a\x00b",
            "\u202eevil\u202c",
            "\u2066\u2069",
            "\ufeff",
            "\u0000",
            "x" * 300_000,
            "{{ params.x }}",
            "{{ 'x' * 100000000 }}",
            "../../etc/passwd",
            "'; DROP TABLE executions; --",
            "\n\r\t",
            "",
            " ",
        ]
    ),
    st.text(max_size=40),
)
EXTREME_NUMBERS = st.sampled_from(
    [0, -1, 2**63, 2**64, -(2**63) - 1, 1e308, -1e308, 5e-324, -0.0, 1.5, 10**40]
)
# Raw JSON number text that Python's json cannot build safely or that is not JSON at all.
RAW_NUMBERS = st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "1" * 5000])
EXTREME_DATES = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-10:00",
        "0000-00-00T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "99999-01-01T00:00:00Z",
        "1e9",
        "-1",
        "now",
    ]
)


def _nested(depth: int, leaf: Any = 1) -> Any:
    value: Any = leaf
    for _ in range(depth):
        value = [value]
    return value


# json.dumps cannot write 3,000 levels either: the marker is replaced in the body text.
DEEP = "__deep_3000__"
HOSTILE_VALUE = st.recursive(
    st.one_of(HOSTILE_TEXT, EXTREME_NUMBERS, st.booleans(), st.none()),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(HOSTILE_TEXT, children, max_size=3)
    ),
    max_leaves=6,
) | st.sampled_from([_nested(70), DEEP, {"a": _nested(65)}])


def _definition_with(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    defn: dict[str, Any] = {
        "name": "fuzz",
        "description": "d",
        "parameters": [{"name": "p", "type": "string", "default": "v"}],
        "settings": {"max_parallel_steps": 2},
        "steps": [{"id": "a", "action": "log", "params": {"message": "hi"}}],
        "outputs": {"o": "{{ steps.a.outputs.message }}"},
    }
    target: Any = defn
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return defn


DEFINITION_FIELDS: list[tuple[str | int, ...]] = [
    ("name",),
    ("description",),
    ("version",),
    ("parameters",),
    ("parameters", 0, "name"),
    ("parameters", 0, "default"),
    ("parameters", 0, "type"),
    ("settings",),
    ("settings", "max_parallel_steps"),
    ("settings", "timeout_seconds"),
    ("steps", 0, "id"),
    ("steps", 0, "action"),
    ("steps", 0, "params"),
    ("steps", 0, "params", "message"),
    ("steps", 0, "condition"),
    ("steps", 0, "depends_on"),
    ("steps", 0, "retry"),
    ("steps", 0, "weight"),
    ("steps", 0, "timeout_seconds"),
    ("outputs",),
    ("outputs", "o"),
]
EXECUTION_FIELDS = ["pipeline_id", "definition", "params", "initiator", "callback_topics"]


def _body(value: Any) -> bytes:
    # ensure_ascii: lone surrogates travel as \\u escapes, as a hostile client would send them.
    text = json.dumps(value, ensure_ascii=True, allow_nan=True)
    return text.replace(f'"{DEEP}"', "[" * 3000 + "]" * 3000).encode()


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """One hostile request: (method, path with {pipeline}/{execution} slots, httpx kwargs)."""
    kind = draw(st.integers(0, 9))
    json_type = {"content-type": "application/json"}
    if kind <= 2:  # a definition with one hostile field, on every definition endpoint
        path = draw(st.sampled_from(DEFINITION_FIELDS))
        value = draw(HOSTILE_VALUE)
        method, url = draw(
            st.sampled_from(
                [
                    ("POST", "/v1/pipelines"),
                    ("POST", "/v1/pipelines/validate"),
                    ("PUT", "/v1/pipelines/{pipeline}"),
                ]
            )
        )
        content = _body(_definition_with(path, value))
        return method, url, {"content": content, "headers": json_type}
    if kind == 3:  # a raw body: numbers JSON cannot hold, YAML bombs and deep YAML
        raw = draw(
            st.one_of(
                RAW_NUMBERS.map(lambda n: f'{{"name": "n", "version": {n}}}'),
                st.just(alias_bomb()),
                st.just("name: deep\noutputs: " + "[" * 50_000 + "]" * 50_000),
                st.just("name: !!binary aGVsbG8=\n"),
                st.just("name: x\ndescription: 2026-01-01\n"),
                st.just("? [a, b]\n: c\nname: k\n"),
                HOSTILE_TEXT,
            )
        )
        content_type = draw(st.sampled_from(["application/yaml", "application/json", "text/x"]))
        url = draw(st.sampled_from(["/v1/pipelines", "/v1/pipelines/validate"]))
        text = raw.encode("utf-8", "surrogatepass")
        return "POST", url, {"content": text, "headers": {"content-type": content_type}}
    if kind <= 5:  # an execution with one hostile field
        field = draw(st.sampled_from(EXECUTION_FIELDS))
        body: dict[str, Any] = {
            "definition": diamond(),
            "params": {},
            "initiator": "fuzz",
            "callback_topics": ["t"],
        }
        if field == "pipeline_id":
            del body["definition"]
        body[field] = draw(HOSTILE_VALUE)
        return "POST", "/v1/executions", {"content": _body(body), "headers": json_type}
    if kind <= 7:  # hostile query parameters on every list and get
        url = draw(
            st.sampled_from(
                [
                    "/v1/executions",
                    "/v1/pipelines",
                    "/v1/actions",
                    "/v1/pipelines/{pipeline}",
                    "/v1/executions/{execution}/steps",
                    "/v1/executions/{execution}/events",
                    "/v1/executions/{execution}",
                ]
            )
        )
        name = draw(
            st.sampled_from(
                [
                    "page",
                    "page_size",
                    "status",
                    "name",
                    "initiator",
                    "pipeline_id",
                    "created_after",
                    "created_before",
                    "version",
                    "wait_seconds",
                ]
            )
        )
        value = draw(st.one_of(HOSTILE_TEXT, EXTREME_NUMBERS.map(str), RAW_NUMBERS, EXTREME_DATES))
        query = urllib.parse.quote(value[:5000].encode("utf-8", "surrogatepass"), safe="")
        return "GET", f"{url}?{name}={query}", {}
    if kind == 8:  # hostile path segments
        segment = draw(HOSTILE_TEXT)[:200]
        url = draw(st.sampled_from(["/v1/pipelines/", "/v1/executions/", "/v1/executions/x/"]))
        quoted = urllib.parse.quote(segment.encode("utf-8", "surrogatepass"), safe="")
        return "GET", url + quoted, {}
    header = draw(st.sampled_from(["x-correlation-id", "if-match", "content-type"]))
    raw_header = draw(HOSTILE_TEXT)[:2000].encode("utf-8", "surrogatepass")
    # An HTTP client cannot send control characters in a header (h11 refuses them).
    headers = {header: bytes(b for b in raw_header if b >= 0x20 and b != 0x7F).strip() or b"x"}
    return "PUT", "/v1/pipelines/{pipeline}", {"content": _body(diamond()), "headers": headers}


class _Prober(threading.Thread):
    """Asks /healthz every 20 ms and keeps the slowest answer."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.slowest = 0.0
        self.answers = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10.0) as client:
            while not self.stop.is_set():
                started = time.monotonic()
                if client.get("/healthz").status_code == 200:
                    self.answers += 1
                self.slowest = max(self.slowest, time.monotonic() - started)
                self.stop.wait(0.02)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


@pytest.fixture
def watched(live_url: str) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """A client of the live engine, ids to aim at, and the run-wide invariants checked after."""
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    prober = _Prober(live_url)
    prober.start()
    with httpx.Client(base_url=live_url, timeout=30.0) as client:
        pipeline = client.post("/v1/pipelines", json=diamond()).json()["id"]
        execution = client.post("/v1/executions", json={"pipeline_id": pipeline}).json()["id"]
        try:
            yield client, {"pipeline": pipeline, "execution": execution}
        finally:
            prober.stop.set()
            prober.join()
            logging.getLogger().removeHandler(errors)
        assert not errors.records, [r.getMessage() for r in errors.records]
        assert prober.answers > 0
        assert prober.slowest < LOOP_BOUND_SECONDS, prober.slowest
        for path in ("/v1/pipelines", "/v1/executions", "/v1/actions"):
            assert client.get(path).status_code == 200, path
        for execution_item in client.get("/v1/executions").json()["items"]:
            for suffix in ("", "/steps", "/events", "/progress"):
                got = client.get(f"/v1/executions/{execution_item['id']}{suffix}")
                assert got.status_code == 200, (suffix, got.text)
        for pipeline_item in client.get("/v1/pipelines").json()["items"]:
            assert client.get(f"/v1/pipelines/{pipeline_item['id']}").status_code == 200


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(request=requests())
def test_no_hostile_request_gets_a_5xx_or_breaks_a_read(
    watched: tuple[httpx.Client, dict[str, str]], request: tuple[str, str, dict[str, Any]]
) -> None:
    client, ids = watched
    method, url, kwargs = request
    started = time.monotonic()
    response = client.request(method, url.format(**ids), **kwargs)
    if os.environ.get("LOOM_HOSTILE_TRACE"):
        took = time.monotonic() - started
        print(f"TRACE {took:.3f} {method} {url[:60]} {str(kwargs)[:150]!r}")
    assert response.status_code < 500, (method, url, response.status_code, response.text[:500])
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
