"""Evaluation of parsed expressions, within a budget of steps, time and size.

Values are plain JSON data (``None``, ``bool``, ``int``, ``float``, ``str``, lists, mappings).
Only mapping keys and list indexes are ever read; nothing reaches a Python attribute, a
callable or a module. Every operation that can make something big (string and list
repetition and concatenation, ``join``, ``replace``, ``tojson``) checks the size of its result
*before* building it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence, Sized
from typing import Any, cast

from loom.engine.templates._errors import TemplateError
from loom.engine.templates._parser import (
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

__all__ = [
    "MAX_COLLECTION_ITEMS",
    "MAX_EVALUATION_SECONDS",
    "MAX_EVALUATION_STEPS",
    "MAX_OUTPUT_CHARS",
    "Evaluator",
    "Undefined",
    "to_text",
]

MAX_OUTPUT_CHARS = 1024 * 1024
MAX_COLLECTION_ITEMS = 100_000
MAX_EVALUATION_STEPS = 1_000_000
MAX_EVALUATION_SECONDS = 1.0
MAX_INTEGER_BITS = 1024


class Undefined:
    """A missing key: falsy, replaced by ``default``, an error anywhere else it is used."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self) -> TemplateError:
        """The error to raise when the missing value is used."""
        return TemplateError(f"{self.path!r} is undefined")


def _describe(node: Node) -> str:
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Attr):
        return f"{_describe(node.obj)}.{node.key}"
    if isinstance(node, Index) and isinstance(node.index, Const):
        return f"{_describe(node.obj)}[{node.index.value!r}]"
    return "value"


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return "value"


def _check_text(size: int) -> None:
    if size > MAX_OUTPUT_CHARS:
        raise TemplateError(f"result is too large ({size} characters, at most {MAX_OUTPUT_CHARS})")


def _check_items(size: int) -> None:
    if size > MAX_COLLECTION_ITEMS:
        raise TemplateError(f"result is too large ({size} items, at most {MAX_COLLECTION_ITEMS})")


def _check_int(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INTEGER_BITS:
            raise TemplateError("number is too large")
    elif isinstance(value, float) and not math.isfinite(value):
        raise TemplateError("number is too large (not finite)")
    return value


def to_text(value: object) -> str:
    """How a value appears inside a larger string (JSON-like: ``true``, ``null`` is empty)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Undefined):
        raise value.fail()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return _dump_json(value)


def _dump_json(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"value cannot be written as JSON: {exc}") from None
    _check_text(len(text))
    return text


def _as_list(value: object, filter_name: str) -> list[object]:
    if isinstance(value, str):
        return list(value)
    if isinstance(value, Mapping):
        return list(cast("Mapping[object, object]", value))
    if isinstance(value, list | tuple):
        return list(cast("Sequence[object]", value))
    raise TemplateError(f"filter {filter_name!r} needs a list, got {_type_name(value)}")


def _hash_key(item: object) -> object:
    try:
        hash(item)
    except TypeError:
        return json.dumps(item, sort_keys=True, default=str)
    return (type(item).__name__, item)


class Evaluator:
    """Evaluates one render call's expressions against one context, within a budget."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.context = context
        self.steps = 0
        self.deadline = time.monotonic() + MAX_EVALUATION_SECONDS

    def spend(self, amount: int = 1) -> None:
        """Count work; fail when the step budget or the time budget is used up."""
        self.steps += amount
        if self.steps > MAX_EVALUATION_STEPS:
            raise TemplateError("evaluation takes too many steps")
        if self.steps & 0x3FF == 0 and time.monotonic() > self.deadline:
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
            _check_items(len(node.items))
            return [self.value(item) for item in node.items]
        if isinstance(node, DictLit):
            result: dict[str, object] = {}
            for key_node, value_node in node.pairs:
                key = self.value(key_node)
                if not isinstance(key, str | int | float | bool) and key is not None:
                    raise TemplateError(f"object keys must be strings, got {_type_name(key)}")
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
            kind = _type_name(sequence)
            if isinstance(key, bool) or not isinstance(key, int):
                raise TemplateError(
                    f"{_describe(node)}: a {kind} is indexed by an integer, not {key!r}"
                )
            if -len(sequence) <= key < len(sequence):
                return sequence[key]
            return Undefined(_describe(node))
        raise TemplateError(f"{_describe(node)}: cannot read {key!r} of a {_type_name(container)}")

    def unary(self, node: Unary) -> object:
        operand = self.value(node.operand)
        if isinstance(operand, bool) or not isinstance(operand, int | float):
            raise TemplateError(f"unary {node.op!r} needs a number, got {_type_name(operand)}")
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
            _check_text(len(text_left) + len(text_right))
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
                raise TemplateError(f"'in <string>' needs a string, got {_type_name(item)}")
            return item in container
        if isinstance(container, Mapping | list | tuple):
            items = cast("Mapping[object, object] | Sequence[object]", container)
            self.spend(len(items))
            try:
                return item in items
            except TypeError:
                return False
        raise TemplateError(f"'in' needs a string, list or object, got {_type_name(container)}")

    def multiply(self, left: object, right: object) -> object:
        if _is_int(left) and _is_repeatable(right):
            return self.repeat(cast("str | list[object]", right), cast("int", left))
        if _is_repeatable(left) and _is_int(right):
            return self.repeat(cast("str | list[object]", left), cast("int", right))
        return self.numeric("*", left, right)

    def repeat(self, sequence: str | list[object], count: int) -> object:
        count = max(count, 0)
        if isinstance(sequence, str):
            _check_text(len(sequence) * count)
        else:
            _check_items(len(sequence) * count)
        self.spend(count // 64)
        return sequence * count

    def add(self, left: object, right: object) -> object:
        if isinstance(left, str) and isinstance(right, str):
            _check_text(len(left) + len(right))
            return left + right
        if _is_sequence(left) and _is_sequence(right):
            first = list(cast("Sequence[object]", left))
            second = list(cast("Sequence[object]", right))
            _check_items(len(first) + len(second))
            return first + second
        return self.numeric("+", left, right)

    def numeric(self, op: str, left: object, right: object) -> object:
        numbers_only = all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right)
        )
        if not numbers_only:
            raise TemplateError(
                f"cannot apply {op!r} to {_type_name(left)} and {_type_name(right)}"
            )
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
        return _check_int(result)

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
        implementation = _FILTERS[node.name]
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


# -- filters --------------------------------------------------------------------------------


def _need_text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TemplateError(f"filter {name!r} needs a string, got {_type_name(value)}")
    return value


def _need_numbers(value: object, name: str) -> list[float]:
    items = _as_list(value, name)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise TemplateError(f"filter {name!r} needs numbers, got {_type_name(item)}")
    return cast("list[float]", items)


def _f_length(value: object, _args: list[object]) -> object:
    if isinstance(value, str | list | tuple | Mapping):
        return len(cast(Sized, value))
    raise TemplateError(f"filter 'length' needs a string, list or object, got {_type_name(value)}")


def _f_join(value: object, args: list[object]) -> object:
    separator = to_text(args[0]) if args else ""
    parts = [to_text(item) for item in _as_list(value, "join")]
    _check_text(sum(len(p) for p in parts) + len(separator) * max(len(parts) - 1, 0))
    return separator.join(parts)


def _f_int(value: object, _args: list[object]) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TemplateError("filter 'int' needs a finite number")
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and len(value.strip()) <= MAX_INTEGER_BITS // 3:
        try:
            return int(value.strip())
        except ValueError:
            try:
                number = float(value.strip())
            except ValueError:
                pass
            else:
                if math.isfinite(number):
                    return int(number)
    raise TemplateError(f"filter 'int' cannot convert {to_text(value)[:50]!r}")


def _f_float(value: object, _args: list[object]) -> object:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and len(value) <= 400:
        try:
            number = float(value.strip())
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    raise TemplateError(f"filter 'float' cannot convert {to_text(value)[:50]!r}")


def _f_round(value: object, args: list[object]) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TemplateError(f"filter 'round' needs a number, got {_type_name(value)}")
    if not args:
        return round(value)
    digits = args[0]
    if isinstance(digits, bool) or not isinstance(digits, int) or not -20 <= digits <= 20:
        raise TemplateError("filter 'round' takes a number of digits between -20 and 20")
    return round(value, digits)


def _f_keys(value: object, _args: list[object]) -> object:
    if not isinstance(value, Mapping):
        raise TemplateError(f"filter 'keys' needs an object, got {_type_name(value)}")
    return list(cast("Mapping[object, object]", value).keys())


def _f_values(value: object, _args: list[object]) -> object:
    if not isinstance(value, Mapping):
        raise TemplateError(f"filter 'values' needs an object, got {_type_name(value)}")
    return list(cast("Mapping[object, object]", value).values())


def _f_first(value: object, _args: list[object]) -> object:
    items = _as_list(value, "first")
    return items[0] if items else None


def _f_last(value: object, _args: list[object]) -> object:
    items = _as_list(value, "last")
    return items[-1] if items else None


def _f_sum(value: object, _args: list[object]) -> object:
    numbers = _need_numbers(value, "sum")
    if any(isinstance(n, float) for n in numbers):
        return _check_int(math.fsum(numbers))
    return _check_int(sum(numbers))


def _f_min(value: object, _args: list[object]) -> object:
    items = _as_list(value, "min")
    if not items:
        return None
    try:
        return min(cast("list[Any]", items))
    except TypeError:
        raise TemplateError("filter 'min' needs items of one comparable type") from None


def _f_max(value: object, _args: list[object]) -> object:
    items = _as_list(value, "max")
    if not items:
        return None
    try:
        return max(cast("list[Any]", items))
    except TypeError:
        raise TemplateError("filter 'max' needs items of one comparable type") from None


def _f_sort(value: object, args: list[object]) -> object:
    items = _as_list(value, "sort")
    reverse = bool(args[0]) if args else False
    try:
        return sorted(cast("list[Any]", items), reverse=reverse)
    except TypeError:
        raise TemplateError("filter 'sort' needs items of one comparable type") from None


def _f_unique(value: object, _args: list[object]) -> object:
    seen: set[object] = set()
    result: list[object] = []
    for item in _as_list(value, "unique"):
        key = _hash_key(item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


def _f_replace(value: object, args: list[object]) -> object:
    text = _need_text(value, "replace")
    old, new = to_text(args[0]), to_text(args[1])
    if not old:
        raise TemplateError("filter 'replace' needs a non-empty string to replace")
    _check_text(len(text) + text.count(old) * (len(new) - len(old)))
    return text.replace(old, new)


def _f_split(value: object, args: list[object]) -> object:
    text = _need_text(value, "split")
    separator = to_text(args[0]) if args and args[0] is not None else None
    if separator == "":
        raise TemplateError("filter 'split' needs a non-empty separator")
    parts = text.split(separator)
    _check_items(len(parts))
    return parts


def _f_fromjson(value: object, _args: list[object]) -> object:
    try:
        return cast("object", json.loads(_need_text(value, "fromjson")))
    except json.JSONDecodeError as exc:
        raise TemplateError(f"filter 'fromjson': not JSON ({exc.msg})") from None


def _f_abs(value: object, _args: list[object]) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TemplateError(f"filter 'abs' needs a number, got {_type_name(value)}")
    return abs(value)


def _f_reverse(value: object, _args: list[object]) -> object:
    if isinstance(value, str):
        return value[::-1]
    return _as_list(value, "reverse")[::-1]


def _text_filter(
    name: str, function: Callable[[str], str]
) -> Callable[[object, list[object]], object]:
    def apply(value: object, _args: list[object]) -> object:
        return function(_need_text(value, name))

    return apply


_FILTERS: dict[str, Callable[[object, list[object]], object]] = {
    "abs": _f_abs,
    "bool": lambda value, _args: bool(value),
    "capitalize": _text_filter("capitalize", str.capitalize),
    "count": _f_length,
    "first": _f_first,
    "float": _f_float,
    "fromjson": _f_fromjson,
    "int": _f_int,
    "join": _f_join,
    "keys": _f_keys,
    "last": _f_last,
    "length": _f_length,
    "lower": _text_filter("lower", str.lower),
    "max": _f_max,
    "min": _f_min,
    "replace": _f_replace,
    "reverse": _f_reverse,
    "round": _f_round,
    "sort": _f_sort,
    "split": _f_split,
    "string": lambda value, _args: to_text(value),
    "sum": _f_sum,
    "title": _text_filter("title", str.title),
    "tojson": lambda value, _args: _dump_json(value),
    "trim": _text_filter("trim", str.strip),
    "unique": _f_unique,
    "upper": _text_filter("upper", str.upper),
    "values": _f_values,
}
