"""Validation of pipeline definitions: every problem, each with its JSON pointer.

:func:`validate_definition` reports shape errors (from pydantic) and the semantic ones:
duplicate step or parameter ids, unknown or self dependencies, cycles (with the cycle's
path), unknown actions, action parameters that break the action's schema, template syntax
errors, templates that read undeclared parameters, unknown steps or steps that are not
ancestors, and ``conditional`` targets that are not downstream of their step. When the shape
is partly wrong, the semantic checks still run over the parts that parse, so one answer lists
as many problems as possible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import ValidationError

from loom.engine.actions.base import ActionRegistry, is_templated
from loom.engine.definitions import (
    DefinitionParseError,
    ParameterDefinition,
    PipelineDefinition,
    StepDefinition,
    load_definition_data,
    type_matches,
)
from loom.engine.pointers import join_pointer
from loom.engine.templates import (
    TemplateError,
    as_template,
    check_constants,
    check_syntax,
    find_references,
    iter_templates,
)

__all__ = [
    "STEP_FIELDS",
    "CycleError",
    "ValidationIssue",
    "ValidationResult",
    "ancestors",
    "find_cycles",
    "topological_order",
    "validate_definition",
]

# What a template may read under ``steps.<id>``.
STEP_FIELDS = frozenset({"outputs", "status", "error"})
CONTEXT_ROOTS = frozenset({"params", "steps", "execution"})
_MAX_ISSUES = 200


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem of a definition.

    Attributes:
        pointer: RFC 6901 pointer into the definition (``/steps/2/depends_on/0``).
        message: one sentence a user can act on.
        code: a stable identifier (``cycle``, ``unknown_action``, ``schema``...).
    """

    pointer: str
    message: str
    code: str


@dataclass(slots=True)
class ValidationResult:
    """The outcome of :func:`validate_definition`.

    Attributes:
        definition: the parsed definition, or ``None`` when its shape is wrong.
        errors: every problem found (empty when the definition is valid).
        is_draft: the definition has no steps (it may be stored but not run).
    """

    definition: PipelineDefinition | None
    errors: list[ValidationIssue] = field(default_factory=list[ValidationIssue])
    is_draft: bool = False

    @property
    def ok(self) -> bool:
        """No errors and a parsed definition."""
        return self.definition is not None and not self.errors


class CycleError(ValueError):
    """The steps' dependencies form a cycle."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__(f"dependency cycle: {' -> '.join(cycle)}")


def validate_definition(
    raw: object, *, registry: ActionRegistry, allow_draft: bool = True
) -> ValidationResult:
    """Check a definition and report every problem.

    Args:
        raw: JSON/YAML text, bytes, a mapping or a :class:`PipelineDefinition`.
        registry: the actions the engine knows.
        allow_draft: accept a definition without steps (stored, but not runnable).

    Returns:
        The result; ``result.definition`` is set when the shape is valid, even if semantic
        errors were found (check ``result.errors``).
    """
    if isinstance(raw, PipelineDefinition):
        data: object = raw.model_dump(mode="json", exclude_unset=True)
    else:
        try:
            data = load_definition_data(raw)
        except DefinitionParseError as exc:
            return ValidationResult(None, [ValidationIssue("", str(exc), "parse_error")])
    if not isinstance(data, Mapping):
        message = "a pipeline definition must be an object with at least `name`"
        return ValidationResult(None, [ValidationIssue("", message, "type")])
    mapping = cast("Mapping[str, Any]", data)
    issues: list[ValidationIssue] = []
    definition: PipelineDefinition | None
    try:
        definition = PipelineDefinition.model_validate(mapping)
    except ValidationError as exc:
        definition = None
        issues.extend(_shape_issues(exc, mapping))
        steps, parameters, extra_steps = _partial(mapping)
        outputs = mapping.get("outputs")
        partial_outputs = cast("dict[str, Any]", outputs) if isinstance(outputs, dict) else {}
    else:
        steps = list(enumerate(definition.steps))
        parameters = list(enumerate(definition.parameters))
        extra_steps = dict[str, list[str]]()
        partial_outputs = definition.outputs
    checker = _Checker(registry, steps, parameters, extra_steps)
    issues.extend(checker.check(partial_outputs))
    is_draft = not mapping.get("steps")
    if is_draft and not allow_draft:
        issues.append(
            ValidationIssue(
                "/steps", "the pipeline has no steps: a draft can be stored but not run", "draft"
            )
        )
    return ValidationResult(definition, issues[:_MAX_ISSUES], is_draft)


def _shape_issues(exc: ValidationError, data: Mapping[str, Any]) -> list[ValidationIssue]:
    """Pydantic errors as issues; union branches at one place are merged into one message."""
    by_pointer: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        location: list[object] = []
        node: object = data
        for part in error["loc"]:
            if isinstance(node, Mapping) and part in node:
                node = cast("Mapping[object, object]", node)[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):  # pyright: ignore[reportUnknownArgumentType] -- JSON data
                node = cast("list[object]", node)[part]
            elif error["type"] == "missing" and part == error["loc"][-1]:
                pass  # the missing key itself belongs in the pointer
            else:
                break  # a union branch tag (``str``, ``int``...), not a place in the document
            location.append(part)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "missing":
            message = "required field is missing"
        elif error["type"] == "string_pattern_mismatch" and location[-1:] in (["id"], ["name"]):
            message = (
                "must start with a letter or '_' and hold only letters, digits, '_' and '-' "
                "(at most 128 characters)"
            )
        messages = by_pointer.setdefault(join_pointer(location), [])
        if message not in messages:
            messages.append(message)
    return [
        ValidationIssue(pointer, "; ".join(messages), "schema")
        for pointer, messages in by_pointer.items()
    ]


def _partial(
    data: Mapping[str, Any],
) -> tuple[
    list[tuple[int, StepDefinition]], list[tuple[int, ParameterDefinition]], dict[str, list[str]]
]:
    """The steps and parameters that parse on their own, and the others' ids and depends_on."""
    steps: list[tuple[int, StepDefinition]] = []
    extra_steps: dict[str, list[str]] = {}
    raw_steps = data.get("steps")
    for index, raw in enumerate(
        cast("list[object]", raw_steps) if isinstance(raw_steps, list) else []
    ):
        try:
            steps.append((index, StepDefinition.model_validate(raw)))
        except ValidationError:
            if isinstance(raw, Mapping):
                raw_step = cast("Mapping[str, object]", raw)
                step_id, depends_on = raw_step.get("id"), raw_step.get("depends_on")
                if isinstance(step_id, str):
                    deps = cast("list[object]", depends_on) if isinstance(depends_on, list) else []
                    extra_steps[step_id] = [d for d in deps if isinstance(d, str)]
    parameters: list[tuple[int, ParameterDefinition]] = []
    raw_parameters = data.get("parameters")
    raw_list = cast("list[object]", raw_parameters) if isinstance(raw_parameters, list) else []
    for index, raw in enumerate(raw_list):
        try:
            parameters.append((index, ParameterDefinition.model_validate(raw)))
        except ValidationError:
            if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):  # pyright: ignore[reportUnknownMemberType] -- JSON data
                name = cast("str", raw["name"])  # pyright: ignore[reportUnknownArgumentType] -- JSON data
                # Declared all the same (templates that use it are not reported twice); not
                # validated, since the name itself may be what is wrong.
                parameters.append((index, ParameterDefinition.model_construct(name=name)))
    return steps, parameters, extra_steps


class _Checker:
    """The semantic checks over the steps and parameters that parsed."""

    def __init__(
        self,
        registry: ActionRegistry,
        steps: list[tuple[int, StepDefinition]],
        parameters: list[tuple[int, ParameterDefinition]],
        extra_steps: Mapping[str, list[str]],
    ) -> None:
        self.registry = registry
        self.steps = steps
        self.parameters = parameters
        self.issues: list[ValidationIssue] = []
        self.first_index: dict[str, int] = {}
        for index, step in steps:
            self.first_index.setdefault(step.id, index)
        self.known_ids = set(self.first_index) | set(extra_steps)
        self.declared = {p.name for _, p in parameters}
        self.graph = {
            step.id: [d for d in step.depends_on if d in self.first_index]
            for index, step in steps
            if self.first_index[step.id] == index
        }
        # Steps that did not parse still count for "runs before" (no false alarms about them).
        full_graph = {step.id: list(step.depends_on) for _, step in reversed(steps)}
        self.ancestors = ancestors({**extra_steps, **full_graph})

    def add(self, pointer: str, message: str, code: str) -> None:
        self.issues.append(ValidationIssue(pointer, message, code))

    def check(self, outputs: Mapping[str, Any]) -> list[ValidationIssue]:
        self.check_parameters()
        self.check_ids_and_dependencies()
        self.check_cycles()
        for index, step in self.steps:
            self.check_step(index, step)
        self.check_templates(outputs, "/outputs", owner=None)
        return self.issues

    def check_parameters(self) -> None:
        seen: dict[str, int] = {}
        for index, parameter in self.parameters:
            if parameter.name in seen:
                self.add(
                    f"/parameters/{index}/name",
                    f"duplicate parameter {parameter.name!r} (first at /parameters/"
                    f"{seen[parameter.name]})",
                    "duplicate_parameter",
                )
            seen.setdefault(parameter.name, index)
            default = parameter.default
            if default is not None and not type_matches(parameter.type, default):
                self.add(
                    f"/parameters/{index}/default",
                    f"the default does not have the declared type {parameter.type}",
                    "invalid_default",
                )

    def check_ids_and_dependencies(self) -> None:
        for index, step in self.steps:
            first = self.first_index[step.id]
            if first != index:
                self.add(
                    f"/steps/{index}/id",
                    f"duplicate step id {step.id!r} (first at /steps/{first})",
                    "duplicate_id",
                )
            for position, dependency in enumerate(step.depends_on):
                pointer = f"/steps/{index}/depends_on/{position}"
                if dependency == step.id:
                    self.add(pointer, f"step {step.id!r} depends on itself", "self_dependency")
                elif dependency not in self.known_ids:
                    self.add(
                        pointer,
                        f"unknown step {dependency!r}{_known(self.known_ids)}",
                        "unknown_dependency",
                    )
                elif dependency in step.depends_on[:position]:
                    self.add(pointer, f"{dependency!r} is listed twice", "duplicate_dependency")

    def check_cycles(self) -> None:
        graph = {node: [d for d in deps if d != node] for node, deps in self.graph.items()}
        for cycle in find_cycles(graph):
            start, following = cycle[0], cycle[1]
            index = self.first_index[start]
            step = next(s for i, s in self.steps if i == index)
            position = step.depends_on.index(following)
            self.add(
                f"/steps/{index}/depends_on/{position}",
                f"dependency cycle: {' -> '.join(cycle)}",
                "cycle",
            )

    def check_step(self, index: int, step: StepDefinition) -> None:
        base = f"/steps/{index}"
        action = self.registry.get(step.action)
        if action is None:
            self.add(
                f"{base}/action",
                f"unknown action {step.action!r}{_known(self.registry.names())}",
                "unknown_action",
            )
        else:
            for pointer, message in self.registry.validate_params(step.action, step.params):
                code = "missing_action_param" if message.startswith("required") else "action_params"
                self.add(f"{base}/params{pointer}", message, code)
        self.check_templates(step.params, f"{base}/params", owner=step)
        self.check_templates(as_template(step.condition), f"{base}/condition", owner=step)
        if step.action == "conditional":
            self.check_conditional_targets(index, step)

    def check_templates(self, value: object, base: str, *, owner: StepDefinition | None) -> None:
        for pointer, message in check_syntax(value):
            self.add(f"{base}{pointer}", f"template error: {message}", "template_syntax")
        for pointer, message in check_constants(value):
            self.add(f"{base}{pointer}", f"template always fails: {message}", "template_error")
        try:
            templates = list(iter_templates(value))
        except TemplateError:
            return  # too deep: check_syntax above has reported it
        for pointer, source in templates:
            for reference in find_references(source):
                self.check_reference(reference, f"{base}{pointer}", owner)

    def check_reference(
        self, reference: Sequence[str], pointer: str, owner: StepDefinition | None
    ) -> None:
        root = reference[0]
        text = ".".join(reference)
        if root not in CONTEXT_ROOTS:
            self.add(
                pointer,
                f"template reads {root!r}, which does not exist (use params, steps or execution)",
                "unknown_name",
            )
        elif root == "params" and len(reference) > 1 and reference[1] not in self.declared:
            self.add(
                pointer,
                f"template reads {text}, but {reference[1]!r} is not a declared parameter"
                f"{_known(self.declared, 'declared')}",
                "undeclared_parameter",
            )
        elif root == "steps" and len(reference) > 1:
            self.check_step_reference(reference, pointer, owner)

    def check_step_reference(
        self, reference: Sequence[str], pointer: str, owner: StepDefinition | None
    ) -> None:
        step_id = reference[1]
        text = ".".join(reference)
        if step_id not in self.known_ids:
            self.add(
                pointer,
                f"template reads {text}, but there is no step {step_id!r}{_known(self.known_ids)}",
                "unknown_step",
            )
        elif owner is not None and step_id == owner.id:
            self.add(pointer, f"step {owner.id!r} reads its own {text}", "self_reference")
        elif owner is not None and step_id not in self.ancestors.get(owner.id, set()):
            self.add(
                pointer,
                f"template reads {text}, but {step_id!r} does not run before {owner.id!r}: "
                f"add it to depends_on",
                "not_ancestor",
            )
        elif len(reference) > 2 and reference[2] not in STEP_FIELDS:
            self.add(
                pointer,
                f"template reads {text}; a step has {', '.join(sorted(STEP_FIELDS))}",
                "unknown_step_field",
            )

    def check_branch_condition(self, pointer: str, condition: object) -> None:
        """A plain string is read as text by ``conditional`` (always true): say so."""
        if (
            isinstance(condition, str)
            and not is_templated(condition)
            and condition.strip().lower() not in _BOOLEAN_WORDS
        ):
            self.add(
                pointer,
                f"{condition!r} is plain text, not an expression; write it as a template: "
                f"'{{{{ {condition} }}}}'",
                "plain_condition",
            )

    def check_conditional_targets(self, index: int, step: StepDefinition) -> None:
        params = step.params
        self.check_branch_condition(f"/steps/{index}/params/condition", params.get("condition"))
        targets: list[tuple[str, object]] = []
        for key in ("then", "else", "otherwise"):
            value = params.get(key)
            if isinstance(value, list):
                targets.extend(
                    (f"/{key}/{i}", t) for i, t in enumerate(cast("list[object]", value))
                )
        branches = params.get("branches")
        if isinstance(branches, list):
            for b, branch in enumerate(cast("list[object]", branches)):
                ids = (
                    cast("Mapping[str, object]", branch).get("steps")
                    if isinstance(branch, Mapping)
                    else None
                )
                if isinstance(branch, Mapping):
                    when = cast("Mapping[str, object]", branch).get("when")
                    self.check_branch_condition(f"/steps/{index}/params/branches/{b}/when", when)
                if isinstance(ids, list):
                    targets.extend(
                        (f"/branches/{b}/steps/{i}", t)
                        for i, t in enumerate(cast("list[object]", ids))
                    )
        for suffix, target in targets:
            if not isinstance(target, str) or is_templated(target):
                continue
            pointer = f"/steps/{index}/params{suffix}"
            if target not in self.known_ids:
                self.add(
                    pointer, f"unknown step {target!r}{_known(self.known_ids)}", "unknown_step"
                )
            elif step.id not in self.ancestors.get(target, set()):
                self.add(
                    pointer,
                    f"conditional target {target!r} must depend on {step.id!r} "
                    "(otherwise it may run before the branch is chosen)",
                    "conditional_target",
                )


_BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "0", "1", ""})


def _known(names: Iterable[str], label: str = "known") -> str:
    ordered = sorted(names)
    if not ordered:
        return f" ({label}: none)"
    shown = ", ".join(ordered[:20]) + (", ..." if len(ordered) > 20 else "")
    return f" ({label}: {shown})"


def ancestors(graph: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
    """Every node's transitive dependencies (cycles tolerated).

    Args:
        graph: node -> the nodes it depends on.
    """
    result: dict[str, set[str]] = {}
    for start in graph:
        seen: set[str] = set()
        stack = list(graph.get(start, ()))
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(graph.get(node, ()))
        result[start] = seen
    return result


def find_cycles(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The dependency cycles of ``graph``, each as a path ``[a, b, a]``, each reported once.

    Args:
        graph: node -> the nodes it depends on.
    """
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    cycles: list[list[str]] = []
    seen_cycles: set[frozenset[str]] = set()
    for root in graph:
        if colour[root] != white:
            continue
        path: list[str] = [root]
        iterators = [iter(graph.get(root, ()))]
        colour[root] = grey
        while iterators:
            following = next(iterators[-1], None)
            if following is None:
                colour[path.pop()] = black
                iterators.pop()
                continue
            state = colour.get(following, black)
            if state == grey:
                cycle = [*path[path.index(following) :], following]
                key = frozenset(cycle)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    cycles.append(cycle)
            elif state == white:
                colour[following] = grey
                path.append(following)
                iterators.append(iter(graph.get(following, ())))
    return cycles


def topological_order(defn: PipelineDefinition) -> list[str]:
    """The step ids in an order where every step comes after its dependencies.

    Among steps that are ready at the same time, definition order is kept.

    Raises:
        CycleError: the dependencies form a cycle.
    """
    order_index = {step.id: i for i, step in enumerate(defn.steps)}
    remaining = {step.id: {d for d in step.depends_on if d in order_index} for step in defn.steps}
    dependents: dict[str, list[str]] = {step.id: [] for step in defn.steps}
    for step_id, dependencies in remaining.items():
        for dependency in dependencies:
            dependents[dependency].append(step_id)
    ready = sorted((s for s, d in remaining.items() if not d), key=order_index.__getitem__)
    order: list[str] = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        newly_ready: list[str] = []
        for dependent in dependents[current]:
            remaining[dependent].discard(current)
            if not remaining[dependent]:
                newly_ready.append(dependent)
        ready = sorted([*ready, *newly_ready], key=order_index.__getitem__)
    if len(order) < len(remaining):
        graph = {s: sorted(d) for s, d in remaining.items() if d}
        cycles = find_cycles(graph)
        raise CycleError(cycles[0] if cycles else sorted(graph))
    return order
