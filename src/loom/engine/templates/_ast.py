"""The syntax tree of template expressions (frozen, hashable, cached with the parse)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Attr",
    "Binary",
    "BoolOp",
    "Cond",
    "Const",
    "DictLit",
    "Filter",
    "Index",
    "ListLit",
    "Name",
    "Node",
    "Not",
    "Template",
    "Test",
    "Unary",
]


@dataclass(frozen=True, slots=True)
class Node:
    """Base of the expression nodes; ``depth`` is the height of the subtree."""

    depth: int


@dataclass(frozen=True, slots=True)
class Const(Node):
    value: object


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Attr(Node):
    obj: Node
    key: str


@dataclass(frozen=True, slots=True)
class Index(Node):
    obj: Node
    index: Node


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class DictLit(Node):
    pairs: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class BoolOp(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Cond(Node):
    test: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Filter(Node):
    obj: Node
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Test(Node):
    obj: Node
    name: str
    negated: bool


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal text and expressions, in order.

    Attributes:
        parts: ``str`` for literal text, :class:`Node` for a ``{{ expression }}``.
        single: the template is exactly one expression (surrounding whitespace aside), so
            rendering it keeps the expression's type.
    """

    parts: tuple[str | Node, ...]
    single: Node | None
