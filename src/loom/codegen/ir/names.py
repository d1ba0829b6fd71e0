"""Python names for things in a schema: decided once, here, and deterministic.

Every name that reaches generated code is built from ASCII letters, digits and underscores
only, so nothing from a schema can inject code through a name.
"""

from __future__ import annotations

import builtins
import functools
import keyword
import re
import unicodedata
from collections.abc import Iterable

_WORD_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9]|\b|_|$)|[A-Z]?[a-z0-9]+|[A-Z]+|[0-9]+")

# Names a generated module or class must not shadow: Python keywords, builtins and the names
# generated code itself uses (typing helpers, pydantic, runtime names).
RESERVED_ATTRIBUTES = frozenset(
    {
        "model_config",
        "model_fields",
        "model_extra",
        "model_dump",
        "model_dump_json",
        "model_validate",
        "model_validate_json",
        "model_copy",
        "model_construct",
        "model_json_schema",
        "model_post_init",
        "model_rebuild",
        "model_fields_set",
        "model_computed_fields",
        "model_parametrized_name",
        "model_validate_strings",
        "to_dict",
        "to_json",
        "copy",
        "dict",
        "json",
        "schema",
        "schema_json",
        "construct",
        "validate",
        "parse_obj",
        "parse_raw",
        "parse_file",
        "from_orm",
        "update_forward_refs",
        "fields",
        "register",
        "mro",
    }
)
_RESERVED_TYPE_NAMES = frozenset(
    {
        "Any",
        "Annotated",
        "BaseModel",
        "Field",
        "Literal",
        "Mapping",
        "NotGiven",
        "NOT_GIVEN",
        "Optional",
        "TypeAlias",
        "Union",
        "Client",
        "AsyncClient",
        "Operation",
        "Param",
        "Body",
        "Headers",
        "Query",
        "JsonBody",
        "FileTypes",
        "TimeoutLike",
        "RawResponse",
        "Consistency",
        "SyncPager",
        "AsyncPager",
        "SyncResource",
        "AsyncResource",
        "OpenStrEnum",
        "OpenIntEnum",
        "NewType",
        "Tag",
        "Discriminator",
        "RootModel",
        "ClassVar",
        "IO",
        "Self",
        "TYPE_CHECKING",
        "deprecated",
        "cached_property",
        "date",
        "datetime",
        "time",
        "timedelta",
        "UUID",
        "Decimal",
    }
)
_BUILTINS = frozenset(dir(builtins))


def ascii_fold(text: str) -> str:
    """Fold unicode to ASCII: accents dropped, other letters spelled by their code point."""
    if text.isascii():
        return text  # NFKD leaves ASCII as it is
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", text):
        if ch.isascii():
            out.append(ch)
        elif unicodedata.combining(ch):
            continue
        elif ch.isalnum():
            out.append(f" u{ord(ch):04x} ")
        else:
            out.append(" ")
    return "".join(out)


@functools.lru_cache(maxsize=8192)
def words(text: str) -> tuple[str, ...]:
    """Split an identifier-ish string into lower-case words (camel, snake, kebab, spaces).

    Cached: a schema names the same properties and types thousands of times.
    """
    folded = ascii_fold(text)
    return tuple(w.lower() for w in _WORD_RE.findall(folded))


def snake(text: str) -> str:
    """``createProcessInstance`` → ``create_process_instance``; never empty, never a keyword."""
    ws = words(text)
    name = "_".join(ws) if ws else "value"
    if name[0].isdigit():
        name = "n" + name if text[:1] in "+-" else "field_" + name
    if text.startswith("-") and not name.startswith("minus_"):
        name = "minus_" + name if text[1:2].isdigit() else name
    if text.startswith("$"):
        name = "dollar_" + name if ws else "dollar"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        name += "_"
    return name


def pascal(text: str) -> str:
    """``process instance`` → ``ProcessInstance``; never empty, never starts with a digit."""
    ws = words(text)
    name = "".join(w[:1].upper() + w[1:] for w in ws) if ws else "Model"
    if name[0].isdigit():
        name = "M" + name
    return name


def upper_snake(text: str) -> str:
    """An enum member name: ``in-progress`` → ``IN_PROGRESS``."""
    ws = words(text)
    name = "_".join(ws).upper() if ws else "EMPTY"
    if name[0].isdigit():
        name = "VALUE_" + name
    if text.startswith("-") and text[1:2].isdigit():
        name = "MINUS_" + name
    if keyword.iskeyword(name.lower()) and name.lower() == name:
        name += "_"
    return name


def safe_attribute(name: str, *, taken: Iterable[str] = ()) -> str:
    """A field/parameter name that shadows nothing pydantic or the SDK relies on."""
    if name in RESERVED_ATTRIBUTES or name.startswith("model_") or name.startswith("_"):
        name = name.lstrip("_") + "_"
        if name == "_":
            name = "field_"
    if name in _BUILTINS and name not in {"id", "type", "format", "filter", "input", "hash"}:
        name += "_"
    return dedupe(name, set(taken))


def safe_class_name(name: str) -> str:
    """A class name that does not collide with names the generated modules import."""
    if name in _RESERVED_TYPE_NAMES or name in _BUILTINS or keyword.iskeyword(name):
        return name + "Model"
    return name


def safe_method(name: str, *, taken: Iterable[str] = ()) -> str:
    """A method name: builtins are fine (``list``), keywords and private names are not."""
    if name.startswith("_") or name in RESERVED_ATTRIBUTES or keyword.iskeyword(name):
        name = name.lstrip("_") + "_"
    return dedupe(name, set(taken))


def dedupe(name: str, taken: set[str]) -> str:
    """``name``, or ``name2``, ``name3``… — the first that is not taken."""
    if name not in taken:
        return name
    sep = "_" if name.endswith(tuple("0123456789")) else ""
    i = 2
    while f"{name}{sep}{i}" in taken:
        i += 1
    return f"{name}{sep}{i}"


def module_name(text: str) -> str:
    """A module file name (without ``.py``)."""
    name = snake(text).rstrip("_")
    if keyword.iskeyword(name) or name in {"types", "errors", "models", "resources", "typing"}:
        name += "_"
    return name or "module_"


def singular(word: str) -> str:
    """A rough English singular used only to match tag words against operation names."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def short_method_name(operation_words: tuple[str, ...], tag_words: tuple[str, ...]) -> str | None:
    """Drop the tag's words from an operation name: ``search process instances`` → ``search``.

    Returns None when the tag's words do not appear together, or nothing would remain.
    """
    if not tag_words:
        return None
    tw = [singular(w) for w in tag_words]
    ow = [singular(w) for w in operation_words]
    n = len(tw)
    for i in range(len(ow) - n + 1):
        if ow[i : i + n] == tw:
            rest = operation_words[:i] + operation_words[i + n :]
            if not rest:
                return None
            return "_".join(rest)
    return None


# Words of an API title that say nothing about which API it is.
_GENERIC_TITLE_WORDS = frozenset(
    {
        "api",
        "apis",
        "rest",
        "restful",
        "http",
        "json",
        "openapi",
        "swagger",
        "service",
        "services",
        "spec",
        "specification",
        "interface",
        "the",
        "server",
        "web",
        "public",
        "v",
    }
)


def _ascii(text: str) -> str:
    """``Ünïcode`` → ``Unicode``: accents dropped, other non-ASCII characters removed."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def api_name(title: str, server_url: str = "") -> str:
    """A short snake-case name for an API, or ``""``: up to three distinctive ASCII words of
    ``title`` (``GitHub v3 REST API`` → ``github``), else the server's host without ``api``,
    ``www`` and the top-level domain (``https://api.stripe.com`` → ``stripe``)."""
    words = [
        w
        for w in re.findall(r"[a-z0-9]+", _ascii(title).lower())
        if w not in _GENERIC_TITLE_WORDS and not re.fullmatch(r"v?\d+[a-z]?\d*", w)
    ][:3]
    if not words:
        host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", server_url.lower()).split("/", 1)[0]
        labels = [x for x in host.split(":", 1)[0].split(".") if x and x not in {"api", "www"}]
        if len(labels) > 1:
            labels = labels[:-1]  # the top-level domain, and a second-level one (``.co.uk``)
            while len(labels) > 1 and labels[-1] in {"co", "com", "org", "net", "gov", "ac", "edu"}:
                labels = labels[:-1]
        words = [w for label in labels[-1:] for w in re.findall(r"[a-z0-9]+", label)][:3]
        if labels == ["localhost"]:
            words = []
    name = "_".join(words)
    if name and name[0].isdigit():
        name = "api_" + name
    return name
