"""Evaluation of parsed expressions, within a budget of steps, time and size.

Values are plain JSON data (``None``, ``bool``, ``int``, ``float``, ``str``, lists, mappings).
Only mapping keys and list indexes are ever read; nothing reaches a Python attribute, a
callable or a module. Every operation that can make something big (string and list
repetition and concatenation, ``join``, ``replace``, ``tojson``) checks the size of its result
*before* building it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence, Sized
from typing import Any, cast

from loom.engine.templates._ast import (
    Attr,
    Binary,
    BoolOp,
    Cond,
    Const,
    DictLit,
    Filter,
    Index,
    ListLit,
    Name,
    Node,
    Not,
    Test,
    Unary,
)
from loom.engine.templates._errors import TemplateError
from loom.engine.templates._filters import FILTERS
from loom.engine.templates._values import (
    MAX_COLLECTION_ITEMS,
    MAX_EVALUATION_SECONDS,
    MAX_EVALUATION_STEPS,
    MAX_INTEGER_BITS,
    MAX_OUTPUT_CHARS,
    Undefined,
    check_int,
    check_items,
    check_text,
    to_text,
    type_name,
)

__all__ = [
    "MAX_COLLECTION_ITEMS",
    "MAX_EVALUATION_SECONDS",
    "MAX_EVALUATION_STEPS",
    "MAX_OUTPUT_CHARS",
    "Evaluator",
    "Undefined",
    "to_text",
]


def _describe(node: Node) -> str:
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Attr):
        return f"{_describe(node.obj)}.{node.key}"
    if isinstance(node, Index) and isinstance(node.index, Const):
        return f"{_describe(node.obj)}[{node.index.value!r}]"
    return "value"


class Evaluator:
    """Evaluates one render call's expressions against one context, within a budget."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.context = context
        self.steps = 0
        self.next_clock_check = 1024
        self.deadline = time.monotonic() + MAX_EVALUATION_SECONDS

    def spend(self, amount: int = 1) -> None:
        """Count work; fail when the step budget or the time budget is used up."""
        self.steps += amount
        if self.steps > MAX_EVALUATION_STEPS:
            raise TemplateError("evaluation takes too many steps")
        if self.steps >= self.next_clock_check:  # reading the clock every step costs too much
            self.next_clock_check = self.steps + 1024
            if time.monotonic() > self.deadline:
                raise TemplateError(f"evaluation takes longer than {MAX_EVALUATION_SECONDS} s")

    def value(self, node: Node) -> object:
        """The value of ``node``; an ``Undefined`` is an error."""
        result = self.eval(node)
        if isinstance(result, Undefined):
            raise result.fail()
        return result

    def truth(self, node: Node) -> bool:
        """``node`` read as a boolean; ``Undefined`` is false."""
        result = self.eval(node)
        return not isinstance(result, Undefined) and bool(result)

    def eval(self, node: Node) -> object:
        """The value of ``node``, possibly ``Undefined``."""
        self.spend()
        if isinstance(node, Const):
            return node.value
        if isinstance(node, Name):
            if node.name not in self.context:
                known = ", ".join(sorted(self.context))
                raise TemplateError(f"unknown name {node.name!r} (known: {known})")
            return self.context[node.name]
        if isinstance(node, Attr):
            return self.lookup(self.eval(node.obj), node.key, node)
        if isinstance(node, Index):
            return self.lookup(self.eval(node.obj), self.value(node.index), node)
        if isinstance(node, ListLit):
            check_items(len(node.items))
            return [self.value(item) for item in node.items]
        if isinstance(node, DictLit):
            result: dict[str, object] = {}
            for key_node, value_node in node.pairs:
                key = self.value(key_node)
                if not isinstance(key, str | int | float | bool) and key is not None:
                    raise TemplateError(f"object keys must be strings, got {type_name(key)}")
                result[to_text(key)] = self.value(value_node)
            return result
        if isinstance(node, Not):
            return not self.truth(node.operand)
        if isinstance(node, BoolOp):
            left = self.eval(node.left)
            left_true = not isinstance(left, Undefined) and bool(left)
            if node.op == "and":
                return self.eval(node.right) if left_true else left
            return left if left_true else self.eval(node.right)
        if isinstance(node, Cond):
            return self.eval(node.then) if self.truth(node.test) else self.eval(node.otherwise)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Filter):
            return self.filter(node)
        if isinstance(node, Test):
            return self.test(node)
        raise TemplateError(f"unsupported expression {type(node).__name__}")

    def lookup(self, container: object, key: object, node: Node) -> object:
        """``container[key]`` for mappings, lists and strings; never an attribute."""
        if isinstance(container, Undefined):
            return Undefined(_describe(node))
        if isinstance(container, Mapping):
            mapping = cast("Mapping[object, object]", container)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise TemplateError(f"{_describe(node)}: an object key must be a string")
            if key in mapping:
                return mapping[key]
            return Undefined(_describe(node))
        if isinstance(container, list | tuple | str):
            sequence = cast("Sequence[object]", container)
            kind = type_name(sequence)
            if isinstance(key, bool) or not isinstance(key, int):
                raise TemplateError(
                    f"{_describe(node)}: a {kind} is indexed by an integer, not {key!r}"
                )
            if -len(sequence) <= key < len(sequence):
                return sequence[key]
            return Undefined(_describe(node))
        raise TemplateError(f"{_describe(node)}: cannot read {key!r} of a {type_name(container)}")

    def unary(self, node: Unary) -> object:
        operand = self.value(node.operand)
        if isinstance(operand, bool) or not isinstance(operand, int | float):
            raise TemplateError(f"unary {node.op!r} needs a number, got {type_name(operand)}")
        return -operand if node.op == "-" else operand

    def binary(self, node: Binary) -> object:
        """Arithmetic, concatenation, comparison and membership."""
        left = self.eval(node.left)
        right = self.eval(node.right)
        op = node.op
        if op in ("==", "!="):
            if isinstance(left, Undefined) or isinstance(right, Undefined):
                return op == "!="
            return (left == right) == (op == "==")
        if isinstance(left, Undefined):
            raise left.fail()
        if isinstance(right, Undefined):
            raise right.fail()
        if op == "~":
            text_left, text_right = to_text(left), to_text(right)
            check_text(len(text_left) + len(text_right))
            return text_left + text_right
        if op in ("in", "not in"):
            return self.contains(right, left) == (op == "in")
        if op == "*":
            return self.multiply(left, right)
        if op == "+":
            return self.add(left, right)
        return self.numeric(op, left, right)

    def contains(self, container: object, item: object) -> bool:
        if isinstance(container, str):
            if not isinstance(item, str):
                raise TemplateError(f"'in <string>' needs a string, got {type_name(item)}")
            return item in container
        if isinstance(container, Mapping | list | tuple):
            items = cast("Mapping[object, object] | Sequence[object]", container)
            self.spend(len(items))
            try:
                return item in items
            except TypeError:
                return False
        raise TemplateError(f"'in' needs a string, list or object, got {type_name(container)}")

    def multiply(self, left: object, right: object) -> object:
        if _is_int(left) and _is_repeatable(right):
            return self.repeat(cast("str | list[object]", right), cast("int", left))
        if _is_repeatable(left) and _is_int(right):
            return self.repeat(cast("str | list[object]", left), cast("int", right))
        return self.numeric("*", left, right)

    def repeat(self, sequence: str | list[object], count: int) -> object:
        count = max(count, 0)
        if isinstance(sequence, str):
            check_text(len(sequence) * count)
        else:
            check_items(len(sequence) * count)
        self.spend(count // 64)
        return sequence * count

    def add(self, left: object, right: object) -> object:
        if isinstance(left, str) and isinstance(right, str):
            check_text(len(left) + len(right))
            return left + right
        if _is_sequence(left) and _is_sequence(right):
            first = list(cast("Sequence[object]", left))
            second = list(cast("Sequence[object]", right))
            check_items(len(first) + len(second))
            return first + second
        return self.numeric("+", left, right)

    def numeric(self, op: str, left: object, right: object) -> object:
        numbers_only = all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right)
        )
        if not numbers_only:
            raise TemplateError(f"cannot apply {op!r} to {type_name(left)} and {type_name(right)}")
        a = cast("float", left)
        b = cast("float", right)
        if op in ("<", "<=", ">", ">="):
            return _compare(op, a, b)
        if (
            op == "*"
            and isinstance(a, int)
            and isinstance(b, int)
            and a.bit_length() + b.bit_length() > MAX_INTEGER_BITS
        ):
            raise TemplateError("number is too large")
        try:
            result: object
            if op == "+":
                result = a + b
            elif op == "-":
                result = a - b
            elif op == "*":
                result = a * b
            elif op == "/":
                result = a / b
            elif op == "//":
                result = a // b
            else:
                result = a % b
        except ZeroDivisionError:
            raise TemplateError("division by zero") from None
        except OverflowError:
            raise TemplateError("number is too large") from None
        return check_int(result)

    def test(self, node: Test) -> bool:
        value = self.eval(node.obj)
        name = node.name
        if name in ("defined", "undefined"):
            result = not isinstance(value, Undefined)
            if name == "undefined":
                result = not result
        elif isinstance(value, Undefined):
            result = False
        elif name == "none":
            result = value is None
        elif name == "number":
            result = isinstance(value, int | float) and not isinstance(value, bool)
        elif name == "string":
            result = isinstance(value, str)
        elif name == "mapping":
            result = isinstance(value, Mapping)
        else:
            result = isinstance(value, list | tuple)
        return result != node.negated

    def filter(self, node: Filter) -> object:
        if node.name == "default":
            fallback, *flags = node.args
            value = self.eval(node.obj)
            replace_falsy = bool(flags) and self.truth(flags[0])
            if isinstance(value, Undefined) or value is None or (replace_falsy and not value):
                return self.value(fallback)
            return value
        value = self.value(node.obj)
        args = [self.value(arg) for arg in node.args]
        implementation = FILTERS[node.name]
        self.spend(_size(value) // 16 + 1)
        return implementation(value, args)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_repeatable(value: object) -> bool:
    return isinstance(value, str | list)


def _is_sequence(value: object) -> bool:
    return isinstance(value, list | tuple)


def _size(value: object) -> int:
    if isinstance(value, str | list | tuple | Mapping):
        return len(cast(Sized, value))
    return 0


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b
