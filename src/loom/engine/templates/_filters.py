"""The whitelisted filters (``x | name(args)``): the only calls the language has."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sized
from typing import Any, cast

from loom.engine.templates._errors import TemplateError
from loom.engine.templates._values import (
    MAX_INTEGER_BITS,
    as_list,
    check_int,
    check_items,
    check_text,
    dump_json,
    hash_key,
    to_text,
    type_name,
)

__all__ = ["FILTERS", "FILTER_ARITY"]

# Whitelisted filters: name -> (minimum, maximum) number of arguments.
FILTER_ARITY: dict[str, tuple[int, int]] = {
    "abs": (0, 0),
    "bool": (0, 0),
    "capitalize": (0, 0),
    "count": (0, 0),
    "default": (1, 2),
    "first": (0, 0),
    "float": (0, 0),
    "fromjson": (0, 0),
    "int": (0, 0),
    "join": (0, 1),
    "keys": (0, 0),
    "last": (0, 0),
    "length": (0, 0),
    "lower": (0, 0),
    "max": (0, 0),
    "min": (0, 0),
    "replace": (2, 2),
    "reverse": (0, 0),
    "round": (0, 1),
    "sort": (0, 1),
    "split": (0, 1),
    "string": (0, 0),
    "sum": (0, 0),
    "title": (0, 0),
    "tojson": (0, 0),
    "trim": (0, 0),
    "unique": (0, 0),
    "upper": (0, 0),
    "values": (0, 0),
}


def _need_text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TemplateError(f"filter {name!r} needs a string, got {type_name(value)}")
    return value


def _need_numbers(value: object, name: str) -> list[float]:
    items = as_list(value, name)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise TemplateError(f"filter {name!r} needs numbers, got {type_name(item)}")
    return cast("list[float]", items)


def _f_length(value: object, _args: list[object]) -> object:
    if isinstance(value, str | list | tuple | Mapping):
        return len(cast(Sized, value))
    raise TemplateError(f"filter 'length' needs a string, list or object, got {type_name(value)}")


def _f_join(value: object, args: list[object]) -> object:
    separator = to_text(args[0]) if args else ""
    parts = [to_text(item) for item in as_list(value, "join")]
    check_text(sum(len(p) for p in parts) + len(separator) * max(len(parts) - 1, 0))
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
        raise TemplateError(f"filter 'round' needs a number, got {type_name(value)}")
    if not args:
        return round(value)
    digits = args[0]
    if isinstance(digits, bool) or not isinstance(digits, int) or not -20 <= digits <= 20:
        raise TemplateError("filter 'round' takes a number of digits between -20 and 20")
    return round(value, digits)


def _f_keys(value: object, _args: list[object]) -> object:
    if not isinstance(value, Mapping):
        raise TemplateError(f"filter 'keys' needs an object, got {type_name(value)}")
    return list(cast("Mapping[object, object]", value).keys())


def _f_values(value: object, _args: list[object]) -> object:
    if not isinstance(value, Mapping):
        raise TemplateError(f"filter 'values' needs an object, got {type_name(value)}")
    return list(cast("Mapping[object, object]", value).values())


def _f_first(value: object, _args: list[object]) -> object:
    items = as_list(value, "first")
    return items[0] if items else None


def _f_last(value: object, _args: list[object]) -> object:
    items = as_list(value, "last")
    return items[-1] if items else None


def _f_sum(value: object, _args: list[object]) -> object:
    numbers = _need_numbers(value, "sum")
    if any(isinstance(n, float) for n in numbers):
        return check_int(math.fsum(numbers))
    return check_int(sum(numbers))


def _f_min(value: object, _args: list[object]) -> object:
    items = as_list(value, "min")
    if not items:
        return None
    try:
        return min(cast("list[Any]", items))
    except TypeError:
        raise TemplateError("filter 'min' needs items of one comparable type") from None


def _f_max(value: object, _args: list[object]) -> object:
    items = as_list(value, "max")
    if not items:
        return None
    try:
        return max(cast("list[Any]", items))
    except TypeError:
        raise TemplateError("filter 'max' needs items of one comparable type") from None


def _f_sort(value: object, args: list[object]) -> object:
    items = as_list(value, "sort")
    reverse = bool(args[0]) if args else False
    try:
        return sorted(cast("list[Any]", items), reverse=reverse)
    except TypeError:
        raise TemplateError("filter 'sort' needs items of one comparable type") from None


def _f_unique(value: object, _args: list[object]) -> object:
    seen: set[object] = set()
    result: list[object] = []
    for item in as_list(value, "unique"):
        key = hash_key(item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


def _f_replace(value: object, args: list[object]) -> object:
    text = _need_text(value, "replace")
    old, new = to_text(args[0]), to_text(args[1])
    if not old:
        raise TemplateError("filter 'replace' needs a non-empty string to replace")
    check_text(len(text) + text.count(old) * (len(new) - len(old)))
    return text.replace(old, new)


def _f_split(value: object, args: list[object]) -> object:
    text = _need_text(value, "split")
    separator = to_text(args[0]) if args and args[0] is not None else None
    if separator == "":
        raise TemplateError("filter 'split' needs a non-empty separator")
    parts = text.split(separator)
    check_items(len(parts))
    return parts


def _f_fromjson(value: object, _args: list[object]) -> object:
    try:
        return cast("object", json.loads(_need_text(value, "fromjson")))
    except json.JSONDecodeError as exc:
        raise TemplateError(f"filter 'fromjson': not JSON ({exc.msg})") from None


def _f_abs(value: object, _args: list[object]) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TemplateError(f"filter 'abs' needs a number, got {type_name(value)}")
    return abs(value)


def _f_reverse(value: object, _args: list[object]) -> object:
    if isinstance(value, str):
        return value[::-1]
    return as_list(value, "reverse")[::-1]


def _text_filter(
    name: str, function: Callable[[str], str]
) -> Callable[[object, list[object]], object]:
    def apply(value: object, _args: list[object]) -> object:
        return function(_need_text(value, name))

    return apply


FILTERS: dict[str, Callable[[object, list[object]], object]] = {
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
    "tojson": lambda value, _args: dump_json(value),
    "trim": _text_filter("trim", str.strip),
    "unique": _f_unique,
    "upper": _text_filter("upper", str.upper),
    "values": _f_values,
}
