"""Unit tests of ``prism.verdict``: Prism's refusals versus mocked error responses."""

from __future__ import annotations

import json

from tests.e2e.prism import verdict

_PROBLEM = b'{"type":"about:blank","title":"Bad Request","status":400}'


def _violations(*entries: tuple[list[str], str]) -> dict[str, str]:
    return {
        "sl-violations": json.dumps(
            [
                {"location": loc, "severity": sev, "code": "pattern", "message": "m"}
                for loc, sev in entries
            ]
        )
    }


def test_request_is_rejected_when_sl_violations_name_the_request() -> None:
    seen = verdict(400, _violations((["request", "body", "jobKey"], "Error")), _PROBLEM)
    assert seen.rejected
    assert seen.reasons == ("request.body.jobKey: pattern: m",)


def test_request_is_accepted_when_only_the_mocked_response_breaks_the_schema() -> None:
    seen = verdict(200, _violations((["response", "body", "key"], "Error")), b"{}")
    assert not seen.rejected
    assert seen.response_violations == ("response.body.key: pattern: m",)


def test_request_is_accepted_when_a_request_violation_is_only_a_warning() -> None:
    assert not verdict(200, _violations((["request", "query"], "Warning")), b"{}").rejected


def test_request_is_accepted_when_the_schema_error_response_is_mocked() -> None:
    # A 404 that Prism mocks from the schema's own example is not a refusal.
    assert not verdict(404, {"content-type": "application/problem+json"}, _PROBLEM).rejected


def test_request_is_rejected_when_prism_answers_with_its_own_problem_type() -> None:
    body = json.dumps(
        {
            "type": "https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY",
            "title": "Invalid request",
            "status": 422,
            "detail": "Your request is not valid",
            "validation": [
                {"location": ["path", "key"], "severity": "Error", "code": "oneOf", "message": "x"}
            ],
        }
    ).encode()
    seen = verdict(422, {}, body)
    assert seen.rejected
    assert seen.reasons == (
        "422 UNPROCESSABLE_ENTITY: Your request is not valid",
        "path.key: oneOf: x",
    )


def test_request_is_rejected_when_prism_cannot_negotiate_the_media_type() -> None:
    body = b'{"type":"https://stoplight.io/prism/errors#NOT_ACCEPTABLE","title":"t","status":406}'
    assert verdict(406, {}, body).reasons == ("406 NOT_ACCEPTABLE: t",)
