"""User hooks: real hook files in a temporary folder, run in order, failures named."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from loom.codegen.hooks import CONTEXT_KEYS, HookError, discover_hooks, run_hooks


def _write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


@pytest.fixture
def context(tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "out"
    out.mkdir()
    bundled = tmp_path / "bundled.json"
    bundled.write_text(json.dumps({"openapi": "3.0.3", "paths": {}}))
    return {
        "out_dir": str(out),
        "spec_path": str(tmp_path / "api.yaml"),
        "bundled_spec_path": str(bundled),
        "config_path": str(tmp_path / "loom.toml"),
        "generator": "loom 0.1.0",
    }


_RECORDER = """
from pathlib import Path

def run(context: dict[str, str]) -> None:
    log = Path(context["out_dir"]) / "log.txt"
    with log.open("a") as f:
        f.write(Path(__file__).name + "\\n")
"""


def test_hooks_run_in_lexicographic_order_when_the_folder_has_several(
    tmp_path: Path, context: dict[str, str]
) -> None:
    hooks = tmp_path / "hooks"
    for name in ("0010_last.py", "0001_first.py", "0002_second.py"):
        _write(hooks, name, _RECORDER)
    ran = run_hooks(hooks, context, stage="post")
    assert ran == ["0001_first.py", "0002_second.py", "0010_last.py"]
    log = (Path(context["out_dir"]) / "log.txt").read_text().split()
    assert log == ran


def test_hooks_receive_every_context_key_when_run(tmp_path: Path, context: dict[str, str]) -> None:
    hooks = tmp_path / "hooks"
    _write(
        hooks,
        "0001_dump.py",
        """
        import json
        from pathlib import Path

        def run(context):
            Path(context["out_dir"], "context.json").write_text(json.dumps(context))
            context["out_dir"] = "changed by the first hook"
        """,
    )
    _write(
        hooks,
        "0002_check.py",
        """
        def run(context):
            assert context["out_dir"] != "changed by the first hook", "context leaked"
        """,
    )
    run_hooks(hooks, context, stage="pre")
    seen = json.loads((Path(context["out_dir"]) / "context.json").read_text())
    assert seen == context
    assert set(seen) == set(CONTEXT_KEYS)


def test_pre_hook_can_rewrite_the_bundled_document_when_run(
    tmp_path: Path, context: dict[str, str]
) -> None:
    hooks = tmp_path / "pre"
    _write(
        hooks,
        "0001_add_server.py",
        """
        import json
        from pathlib import Path

        def run(context: dict[str, str]) -> None:
            path = Path(context["bundled_spec_path"])
            document = json.loads(path.read_text())
            document["servers"] = [{"url": "https://api.example.com"}]
            path.write_text(json.dumps(document))
        """,
    )
    run_hooks(hooks, context, stage="pre")
    document = json.loads(Path(context["bundled_spec_path"]).read_text())
    assert document["servers"] == [{"url": "https://api.example.com"}]


def test_post_hook_can_edit_generated_files_when_run(
    tmp_path: Path, context: dict[str, str]
) -> None:
    generated = Path(context["out_dir"]) / "README.md"
    generated.write_text("# SDK\n")
    hooks = tmp_path / "post"
    _write(
        hooks,
        "0001_badge.py",
        """
        from pathlib import Path

        def run(context):
            readme = Path(context["out_dir"]) / "README.md"
            readme.write_text(readme.read_text() + "\\nInternal build.\\n")
        """,
    )
    assert run_hooks(hooks, context, stage="post") == ["0001_badge.py"]
    assert generated.read_text() == "# SDK\n\nInternal build.\n"


def test_error_names_the_hook_and_line_when_run_raises(
    tmp_path: Path, context: dict[str, str]
) -> None:
    hooks = tmp_path / "hooks"
    _write(hooks, "0001_fine.py", _RECORDER)
    _write(
        hooks,
        "0002_rename.py",
        """
        def run(context):
            raise ValueError("model Pet has no field 'name'\\nsecond line")
        """,
    )
    _write(hooks, "0003_never.py", _RECORDER)
    with pytest.raises(HookError) as caught:
        run_hooks(hooks, context, stage="pre")
    assert str(caught.value) == (
        "hook 0002_rename.py failed: ValueError: model Pet has no field 'name' second line "
        "(0002_rename.py:3)"
    )
    assert caught.value.hook == "0002_rename.py"
    assert (Path(context["out_dir"]) / "log.txt").read_text().split() == ["0001_fine.py"]


def test_error_names_the_hook_when_it_cannot_be_imported(
    tmp_path: Path, context: dict[str, str]
) -> None:
    hooks = tmp_path / "hooks"
    _write(hooks, "0001_broken.py", "def run(context)\n    pass\n")
    with pytest.raises(HookError) as caught:
        run_hooks(hooks, context, stage="pre")
    message = str(caught.value)
    assert message.startswith("hook 0001_broken.py failed while loading: SyntaxError:")
    assert "(0001_broken.py:1)" in message


def test_error_names_the_hook_when_it_imports_a_missing_module(
    tmp_path: Path, context: dict[str, str]
) -> None:
    hooks = tmp_path / "hooks"
    _write(hooks, "0001_deps.py", "import not_installed_anywhere_42\n\ndef run(context): ...\n")
    with pytest.raises(HookError, match=r"^hook 0001_deps.py failed while loading: ModuleNotFound"):
        run_hooks(hooks, context, stage="post")


def test_error_when_a_hook_has_no_run_function(tmp_path: Path, context: dict[str, str]) -> None:
    hooks = tmp_path / "hooks"
    _write(hooks, "0001_empty.py", "VALUE = 1\n")
    with pytest.raises(HookError, match=r"hook 0001_empty.py has no run\(context\) function"):
        run_hooks(hooks, context, stage="post")


def test_system_exit_in_a_hook_becomes_a_hook_error_when_run(
    tmp_path: Path, context: dict[str, str]
) -> None:
    hooks = tmp_path / "hooks"
    _write(hooks, "0001_exit.py", "import sys\n\ndef run(context):\n    sys.exit(3)\n")
    with pytest.raises(HookError, match=r"^hook 0001_exit.py failed: SystemExit: 3"):
        run_hooks(hooks, context, stage="post")


def test_misnamed_python_file_is_an_error_when_discovering(tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    _write(hooks, "0001_ok.py", _RECORDER)
    _write(hooks, "rename.py", _RECORDER)
    with pytest.raises(HookError, match=r"must be named NNNN_name\.py") as caught:
        discover_hooks(hooks)
    assert caught.value.hook == "rename.py"


@pytest.mark.parametrize("name", ["1_short.py", "00001_five.py", "0001-dash.py", "0001_.py"])
def test_names_outside_the_pattern_are_refused_when_discovering(tmp_path: Path, name: str) -> None:
    _write(tmp_path, name, _RECORDER)
    with pytest.raises(HookError):
        discover_hooks(tmp_path)


def test_other_files_are_ignored_when_discovering(tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    _write(hooks, "0001_ok.py", _RECORDER)
    _write(hooks, "README.md", "notes\n")
    _write(hooks, "__init__.py", "")
    _write(hooks, ".0002_hidden.py", _RECORDER)
    _write(hooks / "helpers", "0003_nested.py", _RECORDER)
    assert [p.name for p in discover_hooks(hooks)] == ["0001_ok.py"]


def test_missing_folder_is_an_error_when_running(tmp_path: Path, context: dict[str, str]) -> None:
    with pytest.raises(HookError, match="does not exist"):
        run_hooks(tmp_path / "nope", context, stage="pre")


def test_empty_folder_runs_nothing_when_running(tmp_path: Path, context: dict[str, str]) -> None:
    assert run_hooks(tmp_path, context, stage="pre") == []


def test_incomplete_context_is_a_caller_bug_when_running(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bundled_spec_path"):
        run_hooks(tmp_path, {"out_dir": "x"}, stage="pre")


def test_no_bytecode_is_written_into_the_hook_folder_when_running(
    tmp_path: Path, context: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    hooks = tmp_path / "hooks"
    _write(hooks, "0001_ok.py", _RECORDER)
    run_hooks(hooks, context, stage="post")
    assert not (hooks / "__pycache__").exists()


def test_same_file_names_in_two_folders_stay_separate_when_running(
    tmp_path: Path, context: dict[str, str]
) -> None:
    body = """
    from pathlib import Path

    def run(context):
        Path(context["out_dir"], "who.txt").write_text({who!r})
    """
    _write(tmp_path / "pre", "0001_same.py", body.format(who="pre"))
    _write(tmp_path / "post", "0001_same.py", body.format(who="post"))
    who = Path(context["out_dir"]) / "who.txt"
    run_hooks(tmp_path / "pre", context, stage="pre")
    assert who.read_text() == "pre"
    run_hooks(tmp_path / "post", context, stage="pre")
    assert who.read_text() == "post"


def test_hook_can_use_dataclasses_when_loaded_from_a_file(
    tmp_path: Path, context: dict[str, str]
) -> None:
    hooks = tmp_path / "hooks"
    _write(
        hooks,
        "0001_dc.py",
        """
        from dataclasses import dataclass
        from pathlib import Path

        @dataclass
        class Rename:
            old: str
            new: str

        def run(context):
            Path(context["out_dir"], "dc.txt").write_text(Rename("a", "b").new)
        """,
    )
    run_hooks(hooks, context, stage="post")
    assert (Path(context["out_dir"]) / "dc.txt").read_text() == "b"
