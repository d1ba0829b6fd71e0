"""Defaults are rendered as typed literals or named in a diagnostic (issue 17, item 8)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from loom.codegen.config import GeneratorConfig
from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.ir.build import build_api
from loom.codegen.sources import load_document
from tests.codegen.support import generate_sdk

FIXTURE = Path(__file__).parent.parent / "fixtures" / "codegen" / "defaults.yaml"


def test_every_default_is_a_literal_or_a_diagnostic_when_building_the_ir() -> None:
    sink = DiagnosticSink()
    api = build_api(load_document(FIXTURE, sink=sink).document, GeneratorConfig(), sink)
    report = next(m for m in api.models if m.name == "Report")
    rendered = {f.wire: f.default or f.default_factory for f in report.fields}
    assert rendered == {
        "day": "_dt.date(2024, 1, 2)",
        "at": "_dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=_dt.UTC)",
        "local_at": (
            "_dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=_dt.timezone(_dt.timedelta(seconds=7200)))"
        ),
        "clock": "_dt.time(12, 30)",
        "ref": 'UUID("123e4567-e89b-12d3-a456-426614174000")',
        "currency": '"usd"',
        "level": "Level.HIGH",
        "tags": 'lambda: ["a", "b"]',
        "limits": 'lambda: {"daily": 10}',
        "flag": None,
        "bad_day": None,
        "bad_level": None,
    }
    named = sorted(
        d.pointer.rsplit("/", 2)[1] for d in sink.sorted() if d.code == "invalid-default"
    )
    assert named == ["bad_day", "bad_level", "flag"]


def test_generated_model_carries_typed_defaults_when_fields_are_left_out(tmp_path: Path) -> None:
    _, sdk = generate_sdk(FIXTURE, tmp_path, package="defaults_sdk")
    report = sdk.models.Report()
    assert report.day == dt.date(2024, 1, 2)
    assert report.at == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert report.ref == uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
    assert report.level == sdk.models.Level.HIGH
    assert report.tags == ["a", "b"]
    assert report.tags is not sdk.models.Report().tags  # a fresh list per instance
    assert report.flag is None
