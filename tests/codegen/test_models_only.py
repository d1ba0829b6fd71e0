"""A document with components and no paths generates a models-only package."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.codegen.support import generate_sdk

FIXTURE = Path(__file__).parent.parent / "fixtures" / "codegen" / "models_only.json"


def test_models_only_package_has_models_and_no_client_when_document_has_no_paths(
    tmp_path: Path,
) -> None:
    result, sdk = generate_sdk(FIXTURE, tmp_path, package="geometry")
    pkg = tmp_path / "geometry"
    assert not (pkg / "_client.py").exists()
    assert not (pkg / "resources").exists()
    assert sorted(p.name for p in (pkg / "_runtime").iterdir() if p.suffix == ".py") == [
        "__init__.py",
        "models.py",
        "types.py",
    ]
    assert "httpx" not in (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    assert [d.code for d in result.diagnostics] == ["no-paths"]
    point = sdk.models.Point.model_validate({"x": 1, "y": 2})
    assert point.model_dump(exclude_unset=True) == {"x": 1.0, "y": 2.0}
    shape = sdk.models.Polygon(kind="Polygon", points=[point])
    assert shape.points[0].x == 1.0
    with pytest.raises(AttributeError):
        _ = sdk.Client
