"""``loom diff`` reports: text, Markdown, JSON; and the next version the changes call for."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict

from loom.codegen.diff.compare import Change


def next_version(version: str, changes: Sequence[Change]) -> str:
    """Semver from the changes: a break bumps the major, an addition or any other change the
    minor, nothing at all keeps the version (aliased renames are not breaks).

    A version that is not ``X.Y.Z`` is returned as it is.
    """
    parts = _parts(version)
    if parts is None or not changes:
        return version
    major, minor, _ = parts
    if any(c.breaking for c in changes):
        return f"{major + 1}.0.0"
    return f"{major}.{minor + 1}.0"


def _parts(version: str) -> tuple[int, int, int] | None:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    return None if match is None else (int(match[1]), int(match[2]), int(match[3]))


def later_version(a: str, b: str) -> str:
    """The later of two ``X.Y.Z`` versions (``b`` when either is not ``X.Y.Z``)."""
    pa, pb = _parts(a), _parts(b)
    return a if pa is not None and pb is not None and pa > pb else b


def summary(changes: Sequence[Change]) -> str:
    """``12 changes, 3 breaking, 2 kept by aliases``."""
    broken = sum(1 for c in changes if c.breaking)
    aliased = sum(1 for c in changes if c.aliased)
    text = f"{len(changes)} changes, {broken} breaking"
    return text + (f", {aliased} kept by aliases" if aliased else "")


def _detail(c: Change) -> str:
    text = c.message
    if c.old is not None and c.new is not None:
        text += f": {c.old} → {c.new}"
    elif c.old is not None:
        text += f": {c.old}"
    elif c.new is not None:
        text += f": {c.new}"
    return text


def as_text(changes: Sequence[Change], old: str, new: str, version: str | None) -> str:
    """One line per change, breaking ones first, then the summary line."""
    lines = [f"loom diff {old} → {new}"]
    for c in changes:
        mark = "BREAKING" if c.breaking else "aliased " if c.aliased else "ok      "
        lines.append(f"  {mark} {c.kind:<26} {c.python}: {_detail(c)}  [{c.pointer}]")
    tail = f"loom diff: {summary(changes)}"
    if version:
        tail += f"; next version {version}"
    lines.append(tail)
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(changes: Sequence[Change], old: str, new: str, version: str | None) -> str:
    """A Markdown table per group (breaking, not breaking), for a pull request or changelog."""
    out = [f"# API changes: `{_md(old)}` → `{_md(new)}`", "", summary(changes) + "."]
    if version:
        out[-1] += f" Next version: **{version}**."
    for title, group in (
        ("Breaking", [c for c in changes if c.breaking]),
        ("Not breaking", [c for c in changes if not c.breaking]),
    ):
        if not group:
            continue
        out += ["", f"## {title}", "", "| change | Python | what | schema |", "|---|---|---|---|"]
        out += [
            f"| {c.kind} | `{_md(c.python)}` | {_md(_detail(c))} | `{_md(c.pointer)}` |"
            for c in group
        ]
    return "\n".join(out) + "\n"


def as_json(changes: Sequence[Change], old: str, new: str, version: str | None) -> str:
    """``{"old", "new", "breaking", "next_version", "changes": [...]}``."""
    data = {
        "old": old,
        "new": new,
        "breaking": sum(1 for c in changes if c.breaking),
        "next_version": version,
        "changes": [asdict(c) for c in changes],
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


FORMATS = {"text": as_text, "markdown": as_markdown, "json": as_json}
