"""Tokenizer and parser of the template language (no Python ``eval``, no Jinja).

A template is text with ``{{ expression }}`` parts. The grammar, loosest binding first::

    expression  := or_expr ["if" or_expr "else" expression]
    or_expr     := and_expr ("or" and_expr)*
    and_expr    := not_expr ("and" not_expr)*
    not_expr    := "not" not_expr | comparison
    comparison  := additive [("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in")
                   additive | "is" ["not"] NAME]
    additive    := term (("+" | "-" | "~") term)*
    term        := unary (("*" | "/" | "//" | "%") unary)*
    unary       := ("-" | "+") unary | postfix
    postfix     := primary ("." NAME | "[" expression "]" | "|" NAME ["(" arguments ")"])*
    primary     := NUMBER | STRING | true | false | null | NAME | "(" expression ")"
                 | "[" [expression ("," expression)* [","]] "]"
                 | "{" [expression ":" expression ("," ...)* [","]] "}"

Filters bind tighter than arithmetic, as in Jinja (``a + b | upper`` upper-cases ``b`` only).
Names are looked up as keys of the context and ``.name`` reads a key of a mapping: there is
no attribute access, no call and no import, and dunder names are refused outright.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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
    Template,
    Test,
    Unary,
)
from loom.engine.templates._errors import TemplateError
from loom.engine.templates._filters import FILTER_ARITY

__all__ = [
    "MAX_AST_DEPTH",
    "MAX_TEMPLATE_LENGTH",
    "TESTS",
    "parse_expression",
    "parse_template",
]

MAX_TEMPLATE_LENGTH = 65_536
MAX_AST_DEPTH = 48
MAX_NUMBER_LITERAL_DIGITS = 64
MAX_CACHED_LENGTH = 4096

TESTS = frozenset({"defined", "undefined", "none", "number", "string", "mapping", "sequence"})

_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "if", "else"})
_CONSTANTS: dict[str, object] = {
    "true": True,
    "false": False,
    "null": None,
    "none": None,
    "True": True,
    "False": False,
    "None": None,
}
_OPERATORS = (
    "==", "!=", "<=", ">=", "//", "<", ">", "+", "-", "*", "/", "%", "~",
    "(", ")", "[", "]", "{", "}", ",", ":", ".", "|",
)  # fmt: skip
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "num", "str", "name", "op", "end"
    value: object
    pos: int


def _depth(*children: Node) -> int:
    depth = 1 + max((child.depth for child in children), default=0)
    if depth > MAX_AST_DEPTH:
        raise TemplateError(f"expression is nested too deeply (more than {MAX_AST_DEPTH} levels)")
    return depth


def _tokenize(source: str, start: int, *, in_template: bool) -> tuple[list[_Token], int]:
    """Tokens from ``start``; in a template, stop at the ``}}`` that closes the expression.

    Returns:
        The tokens (ending with an ``end`` token) and the position after the expression.
    """
    tokens: list[_Token] = []
    open_brackets: list[str] = []
    i = start
    n = len(source)
    while True:
        while i < n and source[i] in " \t\r\n":
            i += 1
        if i >= n:
            if in_template:
                raise TemplateError(f"'{{{{' at position {start - 2} is never closed by '}}}}'")
            tokens.append(_Token("end", None, i))
            return tokens, i
        char = source[i]
        # ``}}`` ends the expression unless it closes dict literals (``{"a": {"b": 1}}``).
        if (
            in_template
            and source.startswith("}}", i)
            and (not open_brackets or open_brackets[-1] != "{")
        ):
            tokens.append(_Token("end", None, i))
            return tokens, i + 2
        if char.isdigit():
            i = _read_number(source, i, tokens)
        elif char in "'\"":
            i = _read_string(source, i, tokens)
        elif char.isalpha() or char == "_":
            j = i + 1
            while j < n and (source[j].isalnum() or source[j] == "_"):
                j += 1
            tokens.append(_Token("name", source[i:j], i))
            i = j
        else:
            for op in _OPERATORS:
                if source.startswith(op, i):
                    break
            else:
                raise TemplateError(f"unexpected character {char!r} at position {i}")
            if op in "([{":
                open_brackets.append(op)
            elif op in ")]}" and open_brackets:
                open_brackets.pop()
            tokens.append(_Token("op", op, i))
            i += len(op)


def _read_number(source: str, i: int, tokens: list[_Token]) -> int:
    j = i
    n = len(source)
    while j < n and source[j].isdigit():
        j += 1
    is_float = False
    if j + 1 < n and source[j] == "." and source[j + 1].isdigit():
        is_float = True
        j += 1
        while j < n and source[j].isdigit():
            j += 1
    if j < n and source[j] in "eE":
        k = j + 1
        if k < n and source[k] in "+-":
            k += 1
        if k < n and source[k].isdigit():
            is_float = True
            j = k
            while j < n and source[j].isdigit():
                j += 1
    text = source[i:j]
    if len(text) > MAX_NUMBER_LITERAL_DIGITS:
        raise TemplateError(f"number literal at position {i} is too long")
    tokens.append(_Token("num", float(text) if is_float else int(text), i))
    return j


def _read_string(source: str, i: int, tokens: list[_Token]) -> int:
    quote = source[i]
    j = i + 1
    n = len(source)
    chars: list[str] = []
    while j < n:
        char = source[j]
        if char == quote:
            tokens.append(_Token("str", "".join(chars), i))
            return j + 1
        if char == "\\" and j + 1 < n:
            escaped = source[j + 1]
            if escaped == "u" and j + 6 <= n:
                try:
                    chars.append(chr(int(source[j + 2 : j + 6], 16)))
                except ValueError:
                    raise TemplateError(f"bad \\u escape at position {j}") from None
                j += 6
                continue
            chars.append(_ESCAPES.get(escaped, "\\" + escaped))
            j += 2
            continue
        chars.append(char)
        j += 1
    raise TemplateError(f"string starting at position {i} is never closed")


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.nesting = 0

    # -- token helpers -------------------------------------------------------------------
    def peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def at_op(self, *ops: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.value in ops

    def at_name(self, *names: str) -> bool:
        token = self.peek()
        return token.kind == "name" and token.value in names

    def advance(self) -> _Token:
        token = self.peek()
        self.pos += 1
        return token

    def expect_op(self, op: str) -> None:
        if not self.at_op(op):
            raise TemplateError(f"expected {op!r} {self.describe()}")
        self.pos += 1

    def describe(self) -> str:
        token = self.peek()
        if token.kind == "end":
            return "at the end of the expression"
        return f"but found {token.value!r} at position {token.pos}"

    def enter(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_AST_DEPTH:
            raise TemplateError(
                f"expression is nested too deeply (more than {MAX_AST_DEPTH} levels)"
            )

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise TemplateError("empty expression")
        node = self.expression()
        if self.peek().kind != "end":
            token = self.peek()
            if token.kind == "op" and token.value == "(":
                raise TemplateError("calls are not allowed; use filters such as 'x | upper'")
            raise TemplateError(f"unexpected {token.value!r} at position {token.pos}")
        return node

    def expression(self) -> Node:
        self.enter()
        try:
            node = self.or_expr()
            if self.at_name("if"):
                self.advance()
                test = self.or_expr()
                if not self.at_name("else"):
                    raise TemplateError(f"expected 'else' {self.describe()}")
                self.advance()
                otherwise = self.expression()
                node = Cond(_depth(test, node, otherwise), test, node, otherwise)
            return node
        finally:
            self.nesting -= 1

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.at_name("or"):
            self.advance()
            right = self.and_expr()
            node = BoolOp(_depth(node, right), "or", node, right)
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.at_name("and"):
            self.advance()
            right = self.not_expr()
            node = BoolOp(_depth(node, right), "and", node, right)
        return node

    def not_expr(self) -> Node:
        if self.at_name("not"):
            self.advance()
            self.enter()
            try:
                operand = self.not_expr()
            finally:
                self.nesting -= 1
            return Not(_depth(operand), operand)
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        op: str | None = None
        if self.at_op("==", "!=", "<", "<=", ">", ">="):
            op = str(self.advance().value)
        elif self.at_name("in"):
            self.advance()
            op = "in"
        elif self.at_name("not") and self.peek(1).kind == "name" and self.peek(1).value == "in":
            self.pos += 2
            op = "not in"
        elif self.at_name("is"):
            self.advance()
            negated = False
            if self.at_name("not"):
                self.advance()
                negated = True
            token = self.advance()
            test_name = str(token.value) if token.kind == "name" else ""
            if test_name not in TESTS:
                known = ", ".join(sorted(TESTS))
                raise TemplateError(f"unknown test {token.value!r} after 'is' (known: {known})")
            return Test(_depth(node), node, test_name, negated)
        if op is None:
            return node
        right = self.additive()
        if self.at_op("==", "!=", "<", "<=", ">", ">=") or self.at_name("in"):
            raise TemplateError("chained comparisons are not supported; combine with 'and'")
        return Binary(_depth(node, right), op, node, right)

    def additive(self) -> Node:
        node = self.term()
        while self.at_op("+", "-", "~"):
            op = str(self.advance().value)
            right = self.term()
            node = Binary(_depth(node, right), op, node, right)
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.at_op("*", "/", "//", "%"):
            op = str(self.advance().value)
            right = self.unary()
            node = Binary(_depth(node, right), op, node, right)
        return node

    def unary(self) -> Node:
        if self.at_op("-", "+"):
            op = str(self.advance().value)
            self.enter()
            try:
                operand = self.unary()
            finally:
                self.nesting -= 1
            return Unary(_depth(operand), op, operand)
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.at_op("."):
                self.advance()
                token = self.advance()
                if token.kind != "name":
                    raise TemplateError(
                        f"expected a key name after '.' at position {token.pos}; "
                        "use [0] for list items"
                    )
                key = str(token.value)
                _refuse_dunder(key)
                node = Attr(_depth(node), node, key)
            elif self.at_op("["):
                self.advance()
                index = self.expression()
                self.expect_op("]")
                if isinstance(index, Const) and isinstance(index.value, str):
                    _refuse_dunder(index.value)
                node = Index(_depth(node, index), node, index)
            elif self.at_op("|"):
                self.advance()
                node = self.filter(node)
            elif self.at_op("("):
                raise TemplateError("calls are not allowed; use filters such as 'x | upper'")
            else:
                return node

    def filter(self, node: Node) -> Node:
        token = self.advance()
        if token.kind != "name":
            raise TemplateError(f"expected a filter name after '|' at position {token.pos}")
        name = str(token.value)
        if name not in FILTER_ARITY:
            known = ", ".join(sorted(FILTER_ARITY))
            raise TemplateError(f"unknown filter {name!r} (known: {known})")
        args: list[Node] = []
        if self.at_op("("):
            self.advance()
            while not self.at_op(")"):
                args.append(self.expression())
                if not self.at_op(","):
                    break
                self.advance()
            self.expect_op(")")
        low, high = FILTER_ARITY[name]
        if not low <= len(args) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            raise TemplateError(f"filter {name!r} takes {expected} argument(s), {len(args)} given")
        return Filter(_depth(node, *args), node, name, tuple(args))

    def primary(self) -> Node:
        token = self.advance()
        if token.kind in ("num", "str"):
            return Const(1, token.value)
        if token.kind == "name":
            name = str(token.value)
            if name in _CONSTANTS:
                return Const(1, _CONSTANTS[name])
            if name in _KEYWORDS:
                raise TemplateError(f"unexpected keyword {name!r} at position {token.pos}")
            _refuse_dunder(name)
            return Name(1, name)
        if token.kind == "op" and token.value == "(":
            if self.at_op(")"):
                raise TemplateError(f"empty parentheses at position {token.pos}")
            node = self.expression()
            self.expect_op(")")
            return node
        if token.kind == "op" and token.value == "[":
            items: list[Node] = []
            while not self.at_op("]"):
                items.append(self.expression())
                if not self.at_op(","):
                    break
                self.advance()
            self.expect_op("]")
            return ListLit(_depth(*items), tuple(items))
        if token.kind == "op" and token.value == "{":
            pairs: list[tuple[Node, Node]] = []
            while not self.at_op("}"):
                key = self.expression()
                self.expect_op(":")
                value = self.expression()
                pairs.append((key, value))
                if not self.at_op(","):
                    break
                self.advance()
            self.expect_op("}")
            return DictLit(_depth(*(n for pair in pairs for n in pair)), tuple(pairs))
        if token.kind == "end":
            raise TemplateError("the expression ends too early")
        raise TemplateError(f"unexpected {token.value!r} at position {token.pos}")


def _refuse_dunder(name: str) -> None:
    if name.startswith("__") or name.endswith("__"):
        raise TemplateError(f"access to {name!r} is not allowed")


def _check_length(source: str) -> None:
    if len(source) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(
            f"template is too long ({len(source)} characters, at most {MAX_TEMPLATE_LENGTH})"
        )


def parse_expression(source: str) -> Node:
    """Parse a bare expression (no ``{{ }}``), e.g. a condition; small ones are cached.

    Raises:
        TemplateError: a syntax error, a refused name, or a bound exceeded.
    """
    if len(source) <= MAX_CACHED_LENGTH:
        return _parse_expression_cached(source)
    return _parse_expression(source)


def parse_template(source: str) -> Template:
    """Parse text with ``{{ expression }}`` parts; small templates are cached.

    Raises:
        TemplateError: a syntax error, a refused name, or a bound exceeded.
    """
    if len(source) <= MAX_CACHED_LENGTH:
        return _parse_template_cached(source)
    return _parse_template(source)


def _parse_expression(source: str) -> Node:
    _check_length(source)
    tokens, _ = _tokenize(source, 0, in_template=False)
    return _Parser(tokens).parse()


def _parse_template(source: str) -> Template:
    _check_length(source)
    parts: list[str | Node] = []
    i = 0
    while True:
        start = source.find("{{", i)
        if start < 0:
            if i < len(source):
                parts.append(source[i:])
            break
        if start > i:
            parts.append(source[i:start])
        tokens, i = _tokenize(source, start + 2, in_template=True)
        parts.append(_Parser(tokens).parse())
    expressions = [part for part in parts if isinstance(part, Node)]
    single: Node | None = None
    if len(expressions) == 1 and all(isinstance(p, Node) or not p.strip() for p in parts):
        single = expressions[0]
    return Template(tuple(parts), single)


# The caches hold at most 4096 entries of at most 4 KiB of source each (bounded memory).
_parse_expression_cached = lru_cache(maxsize=4096)(_parse_expression)
_parse_template_cached = lru_cache(maxsize=4096)(_parse_template)
