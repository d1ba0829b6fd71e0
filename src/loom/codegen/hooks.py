"""User hooks: numbered Python files that transform the document or the generated files.

A hook folder holds files named ``NNNN_name.py`` (four digits, an underscore, a name of letters,
digits and underscores), run in lexicographic order. Each exports ``run(context)``, where
``context`` is a ``dict[str, str]`` with the keys ``out_dir``, ``spec_path``,
``bundled_spec_path``, ``config_path`` and ``generator``:

- pre-generation hooks may rewrite the file at ``bundled_spec_path`` (the pipeline writes the
  bundled document there before they run and reads it back afterwards);
- post-generation hooks may edit the files under ``out_dir`` (before ``--check`` compares).

Rules for the folder: a ``.py`` file whose name does not match the pattern is an error (a hook
that silently never runs is worse than a refusal), except ``__init__.py``; other files, dotfiles
and sub-folders are ignored, so a README or helper data may sit beside the hooks. Each hook gets
its own copy of the context. Hooks are loaded with importlib under a unique module name and
never write bytecode into the user's folder. Any exception in a hook (at import or in ``run``)
becomes a ``HookError`` whose one-line message names the hook file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Final, Literal, cast

__all__ = ["CONTEXT_KEYS", "HookError", "discover_hooks", "run_hooks"]

logger = logging.getLogger(__name__)

CONTEXT_KEYS: Final = ("out_dir", "spec_path", "bundled_spec_path", "config_path", "generator")
"""The keys every hook's context has."""

HOOK_NAME: Final = re.compile(r"^\d{4}_[A-Za-z0-9_]+\.py$")

_MAX_MESSAGE = 500


class HookError(Exception):
    """A hook folder or a hook failed; ``str()`` is one line that names the hook file.

    Attributes:
        hook: the hook's file name, or ``None`` when the folder itself is the problem.
    """

    def __init__(self, message: str, *, hook: str | None = None) -> None:
        self.hook = hook
        super().__init__(message)


def discover_hooks(folder: Path) -> list[Path]:
    """The hook files of a folder, in the order they run.

    Args:
        folder: the hook folder.

    Returns:
        The ``NNNN_name.py`` files, sorted by name.

    Raises:
        HookError: the folder does not exist, or holds a ``.py`` file with another name.
    """
    if not folder.is_dir():
        raise HookError(
            f"hook folder {folder} does not exist or is not a folder; create it or fix the "
            "path in the configuration"
        )
    hooks: list[Path] = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        name = path.name
        if name.startswith(".") or not path.is_file() or not name.endswith(".py"):
            continue
        if name == "__init__.py":
            continue
        if not HOOK_NAME.match(name):
            raise HookError(
                f"{folder / name}: a hook file must be named NNNN_name.py (four digits, an "
                "underscore, letters/digits/underscores), e.g. 0001_rename_models.py; rename it "
                "or move it out of the hook folder",
                hook=name,
            )
        hooks.append(path)
    return hooks


def run_hooks(
    folder: Path, context: Mapping[str, str], *, stage: Literal["pre", "post"]
) -> list[str]:
    """Run every hook in ``folder`` in lexicographic order.

    Args:
        folder: the hook folder.
        context: the values hooks receive; must have every key in ``CONTEXT_KEYS``.
        stage: ``"pre"`` (before the IR is built) or ``"post"`` (after files are rendered);
            used in log lines and module names.

    Returns:
        The file names of the hooks that ran, in order.

    Raises:
        HookError: the folder is invalid, or a hook failed (the message names the hook).
        ValueError: ``context`` lacks one of ``CONTEXT_KEYS`` (a bug in the caller).
    """
    missing = [key for key in CONTEXT_KEYS if key not in context]
    if missing:
        raise ValueError(f"hook context lacks {', '.join(missing)}")
    ran: list[str] = []
    folder_id = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    for path in discover_hooks(folder):
        logger.info("running %s-generation hook %s", stage, path.name)
        _run_one(path, dict(context), module_name=f"_loom_hooks_{stage}_{folder_id}_{path.stem}")
        ran.append(path.name)
    return ran


def _run_one(path: Path, context: dict[str, str], *, module_name: str) -> None:
    name = path.name
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise HookError(f"hook {name} cannot be loaded as a Python module", hook=name)
    module = importlib.util.module_from_spec(spec)
    previous_flag = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # never leave __pycache__ in the user's hook folder
    sys.modules[module_name] = module  # dataclasses and pickling look their module up here
    try:
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as exc:
            raise HookError(_failure(name, path, exc, when="while loading"), hook=name) from None
        run = _run_function(module, name)
        try:
            result = run(context)
        except (Exception, SystemExit) as exc:
            raise HookError(_failure(name, path, exc), hook=name) from None
        if result is not None:
            logger.warning("hook %s returned a value; run(context) should return None", name)
    finally:
        sys.modules.pop(module_name, None)
        sys.dont_write_bytecode = previous_flag


def _run_function(module: ModuleType, name: str) -> Callable[[dict[str, str]], object]:
    run = getattr(module, "run", None)
    if not callable(run):
        raise HookError(
            f"hook {name} has no run(context) function; define `def run(context: dict[str, str])"
            " -> None`",
            hook=name,
        )
    return cast("Callable[[dict[str, str]], object]", run)


def _failure(name: str, path: Path, exc: BaseException, *, when: str = "") -> str:
    detail = " ".join(str(exc).split())
    if len(detail) > _MAX_MESSAGE:
        detail = detail[: _MAX_MESSAGE - 1] + "…"
    kind = type(exc).__name__
    line = _hook_line(path, exc)
    at = f" ({name}:{line})" if line is not None else ""
    during = f" {when}" if when else ""
    return (
        f"hook {name} failed{during}: {kind}: {detail}{at}"
        if detail
        else f"hook {name} failed{during}: {kind}{at}"
    )


def _hook_line(path: Path, exc: BaseException) -> int | None:
    """The last line of the hook file in the traceback: where the user should look."""
    target = str(path)
    line: int | None = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == target:
            line = frame.lineno
    if line is None and isinstance(exc, SyntaxError) and exc.filename == target:
        line = exc.lineno
    return line
