"""User code against a models-only package (components, no paths): models, unions, id types."""

from __future__ import annotations

from typing import assert_type

from models_only.models import Circle, Color, Point, Polygon, Shape
from models_only.types import ShapeId


def build() -> list[Shape]:
    circle = Circle(kind="Circle", center=Point(x=0, y=1.5), radius=2)
    polygon = Polygon(kind="Polygon", points=[Point(x=0, y=0), Point(x=1, y=0)], color=Color.RED)
    shapes: list[Shape] = [circle, polygon]
    key = ShapeId("s-1")
    assert_type(key, ShapeId)
    for shape in shapes:
        if isinstance(shape, Polygon):
            assert_type(shape.points, list[Point])
    return shapes


def mistakes() -> None:
    Point(x=0)  # expect-error: pyright=reportCallIssue mypy=call-arg
    Circle(kind="Square", center=Point(x=0, y=0), radius=1)  # expect-error: pyright=reportArgumentType mypy=arg-type
    Polygon(kind="Polygon", pointz=[])  # expect-error: pyright=reportCallIssue mypy=call-arg
