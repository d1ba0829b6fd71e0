"""The sandboxed template language of pipeline definitions.

Step parameters, conditions and pipeline outputs may hold ``{{ expression }}`` parts::

    "{{ params.region | upper }}"                      -> "EU"
    "{{ steps.fetch.outputs.items | length > 0 }}"     -> True
    "{{ steps.fetch.outputs.items }}"                  -> [1, 2, 3]   (keeps its type)
    "id-{{ execution.id }}"                            -> "id-42"
    "{{ params.n * 2 if params.double else params.n }}"

The language is written from scratch (no Python ``eval``, no Jinja): expressions only read
mapping keys and list indexes of the context, so ``__class__`` or ``__globals__`` reach
nothing (dunder names are refused at parse time), and there are no calls except the
whitelisted filters, no loops and no imports. Evaluation is bounded: template length, nesting
depth, a step and a time budget, and a size cap on every string or list it builds (see
:mod:`loom.engine.templates._eval`). Every failure is a :class:`TemplateError`.

Inside a larger string a value is written JSON-like: ``true``/``false``, ``null`` as nothing,
lists and objects as JSON. A missing key is *undefined*: ``| default(v)`` replaces it (and
``null``), ``is defined`` tests it, a condition reads it as false, and any other use is an
error. Step ids with dashes are read with brackets: ``steps["fetch-data"].outputs``.

The context has the shape ``{"params": {...}, "steps": {id: {"outputs": {...}, "status": ...,
"error": ...}}, "execution": {"id": ..., "pipeline": ..., "initiator": ...}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any, cast

from loom.engine.pointers import escape_pointer
from loom.engine.templates._ast import Attr, Const, Index, Name, Node
from loom.engine.templates._errors import TemplateError
from loom.engine.templates._eval import Evaluator
from loom.engine.templates._filters import FILTER_ARITY
from loom.engine.templates._parser import parse_expression, parse_template
from loom.engine.templates._values import MAX_OUTPUT_CHARS, Undefined, to_text

__all__ = [
    "FILTERS",
    "TemplateError",
    "Undefined",
    "as_template",
    "check_constants",
    "check_syntax",
    "evaluate_condition",
    "evaluate_expression",
    "find_references",
    "is_template",
    "iter_templates",
    "render",
]

logger = logging.getLogger(__name__)

MAX_VALUE_DEPTH = 200

FILTERS: tuple[str, ...] = tuple(sorted(FILTER_ARITY))
_FALSE_WORDS = frozenset({"", "false", "0", "no", "off", "null", "none"})


def is_template(value: object) -> bool:
    """Whether ``value`` is a string holding a ``{{ template }}``."""
    return isinstance(value, str) and "{{" in value


def as_template(condition: str | bool | None) -> str | bool | None:
    """A condition as a template: a bare expression ``a > 1`` becomes ``{{ a > 1 }}``."""
    if isinstance(condition, str) and "{{" not in condition:
        return "{{ " + condition + " }}"
    return condition


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every template inside ``value``.

    Dicts and lists are walked (keys are never rendered); a string that is exactly one
    ``{{ expression }}`` becomes the expression's value with its type; other strings with
    templates become strings; everything else is returned unchanged.

    Args:
        value: a parameter value, a dict of them, an output template...
        context: ``{"params": ..., "steps": ..., "execution": ...}``.

    Returns:
        The rendered value (new containers; ``value`` is not modified).

    Raises:
        TemplateError: a syntax error, an unknown name, a type error or an exceeded bound;
            ``pointer`` says where inside ``value`` it happened.
    """
    return _Renderer(context).render(value, "")


@contextmanager
def _guard(pointer: str) -> Generator[None]:
    """Every failure of a template becomes a :class:`TemplateError` located at ``pointer``.

    The evaluator raises ``TemplateError`` itself for every mistake it knows about; this is
    the safety net that keeps an unforeseen Python error (a bug here, never a user's way in)
    from surfacing as a 500 instead of a clear 4xx.
    """
    try:
        yield
    except TemplateError as exc:
        raise exc.at(pointer) from None
    except RecursionError:
        raise TemplateError("expression is nested too deeply", pointer=pointer) from None
    except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
        logger.debug("template evaluation failed unexpectedly", exc_info=True)
        raise TemplateError(f"cannot evaluate: {exc}", pointer=pointer) from None


class _Renderer:
    def __init__(self, context: Mapping[str, Any]) -> None:
        self.evaluator = Evaluator(context)
        self.produced = 0

    def render(self, value: object, pointer: str, depth: int = 0) -> object:
        if isinstance(value, str):
            if "{{" not in value:
                return value
            with _guard(pointer):
                return self.render_text(value)
        if depth >= MAX_VALUE_DEPTH and isinstance(value, Mapping | list | tuple):
            raise _too_deep(pointer)
        if isinstance(value, Mapping):
            mapping = cast("Mapping[str, object]", value)
            return {
                k: self.render(v, f"{pointer}/{escape_pointer(str(k))}", depth + 1)
                for k, v in mapping.items()
            }
        if isinstance(value, list | tuple):
            sequence = cast("list[object]", value)
            return [
                self.render(item, f"{pointer}/{i}", depth + 1) for i, item in enumerate(sequence)
            ]
        return value

    def render_text(self, source: str) -> object:
        template = parse_template(source)
        if template.single is not None:
            return self.evaluator.value(template.single)
        pieces: list[str] = []
        for part in template.parts:
            text = part if isinstance(part, str) else to_text(self.evaluator.value(part))
            self.produced += len(text)
            if self.produced > MAX_OUTPUT_CHARS:
                raise TemplateError(f"rendered output is larger than {MAX_OUTPUT_CHARS} characters")
            pieces.append(text)
        return "".join(pieces)


def evaluate_expression(expression: str, context: Mapping[str, Any]) -> Any:
    """The value of a bare expression (without ``{{ }}``).

    Raises:
        TemplateError: as :func:`render`.
    """
    with _guard(""):
        return Evaluator(context).value(parse_expression(expression))


def evaluate_condition(expr: str | bool | None, context: Mapping[str, Any]) -> bool:
    """A step condition read as a boolean.

    ``None`` (no condition) is true; a bool is itself; a string is a template
    (``"{{ params.x > 1 }}"``) or a bare expression (``"params.x > 1"``). The value is read
    as Python truth, except that an undefined value is false and so are the strings ``""``,
    ``false``, ``0``, ``no``, ``off``, ``null``, ``none`` (any case, surrounding spaces
    ignored), so that a flag given as text (``"false"``) means what it says.

    Raises:
        TemplateError: as :func:`render`.
    """
    if expr is None:
        return True
    if isinstance(expr, bool):
        return expr
    with _guard(""):
        evaluator = Evaluator(context)
        if "{{" in expr:
            template = parse_template(expr)
            if template.single is not None:
                value = evaluator.eval(template.single)
            else:
                value = _Renderer(context).render_text(expr)
        else:
            value = evaluator.eval(parse_expression(expr))
    if isinstance(value, Undefined):
        return False
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_WORDS
    return bool(value)


def _too_deep(pointer: str) -> TemplateError:
    return TemplateError(
        f"value is nested more than {MAX_VALUE_DEPTH} levels deep", pointer=pointer
    )


def iter_templates(
    value: object, pointer: str = "", *, _depth: int = 0
) -> Iterator[tuple[str, str]]:
    """Every string holding a template inside ``value``, as ``(pointer suffix, source)``.

    Raises:
        TemplateError: ``value`` is nested more than ``MAX_VALUE_DEPTH`` levels deep.
    """
    if isinstance(value, str):
        if "{{" in value:
            yield pointer, value
        return
    if _depth >= MAX_VALUE_DEPTH and isinstance(value, Mapping | list | tuple):
        raise _too_deep(pointer)
    if isinstance(value, Mapping):
        for key, item in cast("Mapping[str, object]", value).items():
            yield from iter_templates(
                item, f"{pointer}/{escape_pointer(str(key))}", _depth=_depth + 1
            )
    elif isinstance(value, list | tuple):
        for index, item in enumerate(cast("list[object]", value)):
            yield from iter_templates(item, f"{pointer}/{index}", _depth=_depth + 1)


def _safe_templates(value: object) -> list[tuple[str, str]]:
    """:func:`iter_templates` without the depth error (what :func:`check_syntax` reports)."""
    found: list[tuple[str, str]] = []
    with suppress(TemplateError):  # extend keeps what came before the error
        found.extend(iter_templates(value))
    return found


def check_syntax(value: Any) -> list[tuple[str, str]]:
    """Parse every template inside ``value``.

    Returns:
        ``(pointer suffix, message)`` for each template that does not parse (``""`` when
        ``value`` itself is the template).
    """
    problems: list[tuple[str, str]] = []
    try:
        templates = list(iter_templates(value))
    except TemplateError as exc:
        problems.append((exc.pointer, exc.message))
        templates = _safe_templates(value)
    for pointer, source in templates:
        try:
            parse_template(source)
        except TemplateError as exc:
            problems.append((pointer, exc.message))
        except RecursionError:
            problems.append((pointer, "expression is nested too deeply"))
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
            problems.append((pointer, f"cannot parse: {exc}"))
    return problems


def check_constants(value: Any) -> list[tuple[str, str]]:
    """Evaluate the parts of templates that read nothing from the context.

    ``{{ 'a' * 100000000 }}`` or ``{{ params.x ~ (1 / 0) }}`` can be known to fail before
    any execution: every largest sub-expression without a name is evaluated (within the
    usual bounds, one budget per template) and its error reported. Templates that do not
    parse are skipped (see :func:`check_syntax`).

    Returns:
        ``(pointer suffix, message)``, at most one per template.
    """
    problems: list[tuple[str, str]] = []
    for pointer, source in _safe_templates(value):
        try:
            template = parse_template(source)
        except (TemplateError, RecursionError):
            continue
        evaluator = Evaluator({})
        for part in template.parts:
            if isinstance(part, Node):
                message = _constant_error(part, evaluator)
                if message is not None:
                    problems.append((pointer, message))
                    break
    return problems


def _reads_context(node: Node) -> bool:
    return isinstance(node, Name) or any(_reads_context(c) for c in _children(node))


def _constant_error(node: Node, evaluator: Evaluator) -> str | None:
    if not _reads_context(node):
        try:
            with _guard(""):
                evaluator.eval(node)
        except TemplateError as exc:
            return exc.message
        return None
    for child in _children(node):
        message = _constant_error(child, evaluator)
        if message is not None:
            return message
    return None


def find_references(value: Any) -> list[tuple[str, ...]]:
    """The context paths that the templates inside ``value`` read.

    A path is made of the constant keys from the root: ``steps.a.outputs.items[0]`` gives
    ``("steps", "a", "outputs", "items")`` (integer indexes end the path) and
    ``params["key-with-dash"]`` gives ``("params", "key-with-dash")``. Templates that do not
    parse are ignored (see :func:`check_syntax`). Paths are unique, in order of appearance.

    Returns:
        The paths, each a tuple of strings.
    """
    found: list[tuple[str, ...]] = []
    for _, source in _safe_templates(value):
        try:
            template = parse_template(source)
        except (TemplateError, RecursionError):
            continue
        for part in template.parts:
            if isinstance(part, Node):
                _collect(part, found)
    unique: list[tuple[str, ...]] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def _path(node: Node) -> tuple[tuple[str, ...], bool] | None:
    """The constant path of a reference chain and whether it is complete, else ``None``."""
    if isinstance(node, Name):
        return (node.name,), True
    if isinstance(node, Attr):
        base = _path(node.obj)
        if base is None:
            return None
        path, complete = base
        return ((*path, node.key), True) if complete else (path, False)
    if isinstance(node, Index):
        base = _path(node.obj)
        if base is None:
            return None
        path, complete = base
        if complete and isinstance(node.index, Const) and isinstance(node.index.value, str):
            return (*path, node.index.value), True
        return path, False
    return None


def _collect(node: Node, found: list[tuple[str, ...]]) -> None:
    reference = _path(node)
    if reference is not None:
        found.append(reference[0])
        # Non-constant indexes inside the chain are expressions of their own.
        while isinstance(node, Attr | Index):
            if isinstance(node, Index) and not isinstance(node.index, Const):
                _collect(node.index, found)
            node = node.obj
        return
    for child in _children(node):
        _collect(child, found)


def _children(node: Node) -> Iterator[Node]:
    for name in getattr(node, "__slots__", ()):
        child: object = getattr(node, name)
        if isinstance(child, Node):
            yield child
        elif isinstance(child, tuple):
            for item in cast("tuple[object, ...]", child):
                if isinstance(item, Node):
                    yield item
                elif isinstance(item, tuple):
                    yield from (x for x in cast("tuple[object, ...]", item) if isinstance(x, Node))
