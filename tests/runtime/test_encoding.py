"""Parameter styles against the OpenAPI 3.1 §4.8.12.4 style table, and request bodies."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from loom.runtime.encoding import (
    encode_body,
    serialize_header,
    serialize_path,
    serialize_query,
    to_jsonable,
)
from loom.runtime.models import BaseModel
from loom.runtime.operation import Body, Encoding, Operation, Param, ParamLocation, ParamStyle

from .helpers import Client
from .loopback import LoopbackServer, Received, Reply, Script

Serve = Callable[[Script], LoopbackServer]

STRING = "blue"
ARRAY = ["blue", "black", "brown"]
OBJECT = {"R": 100, "G": 200, "B": 150}

# (style, explode, value, expected) rows of the specification's table, for `color`.
PATH_TABLE: list[tuple[ParamStyle, bool, object, str]] = [
    ("matrix", False, STRING, ";color=blue"),
    ("matrix", False, ARRAY, ";color=blue,black,brown"),
    ("matrix", False, OBJECT, ";color=R,100,G,200,B,150"),
    ("matrix", True, STRING, ";color=blue"),
    ("matrix", True, ARRAY, ";color=blue;color=black;color=brown"),
    ("matrix", True, OBJECT, ";R=100;G=200;B=150"),
    ("matrix", False, "", ";color"),
    ("label", False, STRING, ".blue"),
    ("label", False, ARRAY, ".blue,black,brown"),
    ("label", False, OBJECT, ".R,100,G,200,B,150"),
    ("label", True, STRING, ".blue"),
    ("label", True, ARRAY, ".blue.black.brown"),
    ("label", True, OBJECT, ".R=100.G=200.B=150"),
    ("label", False, "", "."),
    ("simple", False, STRING, "blue"),
    ("simple", False, ARRAY, "blue,black,brown"),
    ("simple", False, OBJECT, "R,100,G,200,B,150"),
    ("simple", True, STRING, "blue"),
    ("simple", True, ARRAY, "blue,black,brown"),
    ("simple", True, OBJECT, "R=100,G=200,B=150"),
]

QUERY_TABLE: list[tuple[ParamStyle, bool, object, str]] = [
    ("form", False, STRING, "color=blue"),
    ("form", False, ARRAY, "color=blue,black,brown"),
    ("form", False, OBJECT, "color=R,100,G,200,B,150"),
    ("form", False, None, "color="),
    ("form", True, STRING, "color=blue"),
    ("form", True, ARRAY, "color=blue&color=black&color=brown"),
    ("form", True, OBJECT, "R=100&G=200&B=150"),
    ("spaceDelimited", False, ARRAY, "color=blue%20black%20brown"),
    ("spaceDelimited", False, OBJECT, "color=R%20100%20G%20200%20B%20150"),
    ("pipeDelimited", False, ARRAY, "color=blue|black|brown"),
    ("pipeDelimited", False, OBJECT, "color=R|100|G|200|B|150"),
    ("deepObject", True, OBJECT, "color[R]=100&color[G]=200&color[B]=150"),
]


@pytest.mark.parametrize(("style", "explode", "value", "expected"), PATH_TABLE)
def test_path_style_matches_spec_table_when_serialised(
    style: ParamStyle, explode: bool, value: object, expected: str
) -> None:
    assert serialize_path(Param("color", "path", style, explode), value) == expected


@pytest.mark.parametrize(("style", "explode", "value", "expected"), QUERY_TABLE)
def test_query_style_matches_spec_table_when_serialised(
    style: ParamStyle, explode: bool, value: object, expected: str
) -> None:
    param = Param("color", "query", style, explode)
    assert "&".join(serialize_query(param, value)) == expected


def test_header_simple_style_matches_spec_when_array_or_object() -> None:
    assert serialize_header(Param("X-C", "header", "simple", False), ARRAY) == "blue,black,brown"
    assert serialize_header(Param("X-C", "header", "simple", True), OBJECT) == "R=100,G=200,B=150"


@pytest.mark.parametrize(
    ("style", "query", "text"),
    [
        ("spaceDelimited", "color=blue%20black%20brown", "blue black brown"),
        ("pipeDelimited", "color=blue|black|brown", "blue|black|brown"),
        ("tabDelimited", "color=blue%09black%09brown", "blue\tblack\tbrown"),
    ],
)
def test_delimited_styles_join_arrays_in_query_path_and_header_when_swagger_formats(
    style: ParamStyle, query: str, text: str
) -> None:
    # Swagger 2.0 collectionFormat ssv, pipes and tsv, wherever a 2.0 parameter may sit.
    assert serialize_query(Param("color", "query", style, False), ARRAY) == [query]
    assert serialize_path(Param("color", "path", style, False), ARRAY) == query.split("=", 1)[1]
    assert serialize_header(Param("color", "header", style, False), ARRAY) == text


def test_delimited_form_fields_are_one_value_when_encoding_says_explode_false() -> None:
    # Swagger 2.0 formData collectionFormat csv (the default), ssv and tsv after conversion.
    encoding = {
        "csv": Encoding(style="form", explode=False),
        "ssv": Encoding(style="spaceDelimited", explode=False),
        "tsv": Encoding(style="tabDelimited", explode=False),
    }
    spec = Body("application/x-www-form-urlencoded", encoding=encoding)
    body = {"csv": ["a", "b"], "ssv": ["c", "d"], "tsv": ["e", "f"], "multi": ["g", "h"]}
    encoded = encode_body(spec, body, None)
    assert encoded.content == b"csv=a,b&ssv=c%20d&tsv=e%09f&multi=g&multi=h"
    parts = encode_body(Body("multipart/form-data", encoding=encoding), body, None)
    assert parts.files is not None
    assert [(name, part[1]) for name, part in parts.files][:3] == [
        ("csv", b"a,b"),
        ("ssv", b"c d"),
        ("tsv", b"e\tf"),
    ]


def test_reserved_characters_are_escaped_unless_allow_reserved() -> None:
    plain = Param("q", "query", "form", True)
    reserved = Param("q", "query", "form", True, allow_reserved=True)
    assert serialize_query(plain, "a/b?c&d") == ["q=a%2Fb%3Fc%26d"]
    assert serialize_query(reserved, "a/b?c") == ["q=a/b?c"]
    assert serialize_path(Param("p", "path", "simple", False), "a/b c") == "a%2Fb%20c"


def test_scalars_are_rendered_as_json_text_when_boolean_or_enum() -> None:
    import enum

    class Color(enum.Enum):
        RED = "red"

    param = Param("x", "query", "form", True)
    assert serialize_query(param, True) == ["x=true"]
    assert serialize_query(param, Color.RED) == ["x=red"]
    assert serialize_query(param, [1, False]) == ["x=1", "x=false"]


def test_content_parameter_is_json_encoded_when_declared() -> None:
    param = Param("filter", "query", "form", True, content_type="application/json")
    assert serialize_query(param, {"a": 1}) == ["filter=%7B%22a%22%3A1%7D"]


def test_deep_object_nests_and_indexes_arrays_when_object_has_objects_and_arrays() -> None:
    # ``f[c]=1&f[c]=2`` reads back as ``c="2"`` in Rack-style parsers (Stripe's): arrays are
    # indexed, as Stripe's own clients send them.
    param = Param("f", "query", "deepObject", True)
    assert serialize_query(param, {"a": {"b": 1}, "c": [1, {"d": 2}]}) == [
        "f[a][b]=1",
        "f[c][0]=1",
        "f[c][1][d]=2",
    ]


def test_to_jsonable_drops_not_given_and_keeps_none() -> None:
    from loom.runtime.types import NOT_GIVEN

    assert to_jsonable({"a": NOT_GIVEN, "b": None, "c": (1, 2)}) == {"b": None, "c": [1, 2]}


def test_json_body_merges_extra_body_when_given() -> None:
    encoded = encode_body(Body("application/json"), {"a": 1}, {"b": 2})
    assert encoded.content == b'{"a":1,"b":2}'
    assert encoded.content_type == "application/json"


def test_json_bytes_are_sent_unchanged_when_already_encoded() -> None:
    assert encode_body(Body("application/json"), b'{"a": 1}', None).content == b'{"a": 1}'


def test_text_and_binary_bodies_are_sent_as_is_when_declared() -> None:
    text = encode_body(Body("text/plain"), "héllo", None)
    assert text.content == "héllo".encode()
    assert text.content_type == "text/plain; charset=utf-8"
    binary = encode_body(Body("application/octet-stream"), b"\x00\x01", None)
    assert binary.content == b"\x00\x01"
    stream = io.BytesIO(b"abc")
    assert encode_body(Body("application/octet-stream"), stream, None).stream is stream


def test_form_body_is_urlencoded_with_json_fields_when_declared() -> None:
    spec = Body("application/x-www-form-urlencoded", json_fields=frozenset({"meta"}))
    encoded = encode_body(spec, {"name": "a b", "tags": ["x", "y"], "meta": {"k": 1}}, None)
    assert encoded.content == b"name=a%20b&tags=x&tags=y&meta=%7B%22k%22%3A1%7D"


def test_body_of_wrong_type_gives_clear_error_when_binary_expected() -> None:
    with pytest.raises(TypeError, match="must be bytes, str or a binary file"):
        encode_body(Body("application/octet-stream"), 12, None)


class Upload(BaseModel):
    """A multipart body with files and an object field."""

    resources: list[tuple[str, bytes, str]]
    tenant_id: str | None = None
    metadata: dict[str, int] | None = None


def test_multipart_sends_two_files_and_json_field_when_posting(serve: Serve) -> None:
    received: list[Received] = []

    def script(req: Received) -> Reply:
        received.append(req)
        return Reply(json={"id": 1, "name": "ok"})

    server = serve(script)
    op = Operation[dict[str, object]](
        operation_id="createDeployment",
        method="POST",
        path="/deployments",
        body=Body(
            "multipart/form-data",
            required=True,
            file_fields=frozenset({"resources"}),
            json_fields=frozenset({"metadata"}),
        ),
        response=dict[str, object],
    )
    body = {
        "resources": [("a.bpmn", b"<a/>", "text/xml"), ("b.dmn", b"<b/>", "text/xml")],
        "tenantId": "t1",
        "metadata": {"k": 1},
    }
    with Client(base_url=server.url) as client:
        client.request(op, {}, body)
    req = received[0]
    assert req.headers["content-type"].startswith("multipart/form-data; boundary=")
    text = req.body.decode()
    assert 'name="resources"; filename="a.bpmn"' in text
    assert 'name="resources"; filename="b.dmn"' in text
    assert "<a/>" in text
    assert "<b/>" in text
    assert 'name="tenantId"\r\n\r\nt1' in text
    assert 'name="metadata"\r\nContent-Type: application/json\r\n\r\n{"k":1}' in text


WIRE_CASES: list[tuple[ParamLocation, ParamStyle, str, str, str | None]] = [
    ("path", "label", "/c/.blue,black,brown", "", None),
    ("query", "pipeDelimited", "/c", "color=blue|black|brown", None),
    ("header", "simple", "/c", "", "blue,black,brown"),
]


@pytest.mark.parametrize("case", WIRE_CASES)
def test_parameters_arrive_on_the_wire_when_sent_through_the_client(
    serve: Serve, case: tuple[ParamLocation, ParamStyle, str, str, str | None]
) -> None:
    location, style, expected_path, expected_query, header = case
    received: list[Received] = []

    def script(req: Received) -> Reply:
        received.append(req)
        return Reply(json={})

    server = serve(script)
    path = "/c/{color}" if location == "path" else "/c"
    op = Operation[dict[str, object]](
        operation_id="colors",
        method="GET",
        path=path,
        params=(Param("color", location, style, False, required=True),),
        response=dict[str, object],
    )
    with Client(base_url=server.url) as client:
        client.request(op, {"color": ARRAY})
    assert received[0].path == expected_path
    assert received[0].query == expected_query
    if header is not None:
        assert received[0].headers["color"] == header


def test_cookie_parameters_are_sent_in_one_cookie_header_when_given(serve: Serve) -> None:
    received: list[Received] = []

    def script(req: Received) -> Reply:
        received.append(req)
        return Reply(json={})

    server = serve(script)
    op = Operation[dict[str, object]](
        operation_id="c",
        method="GET",
        path="/c",
        params=(Param("a", "cookie", "form", True), Param("b", "cookie", "form", False)),
        response=dict[str, object],
    )
    with Client(base_url=server.url) as client:
        client.request(op, {"a": "1", "b": ["x", "y"]})
    assert received[0].headers["cookie"] == "a=1; b=x,y"
