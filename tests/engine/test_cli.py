"""``loom db`` and ``loom serve`` as a user runs them (real subprocesses)."""

from __future__ import annotations

import subprocess

from loom.engine.db.session import HEAD_REVISION

from .conftest import PYTHON, REPO_ROOT, subprocess_env
from .engine_process import run_db_command


def test_db_commands_upgrade_report_and_downgrade_when_run(database_url: str) -> None:
    current = run_db_command(database_url, "current")
    assert current.returncode == 0, current.stderr
    assert "database at base" in current.stdout
    upgraded = run_db_command(database_url, "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"database at {HEAD_REVISION}" in upgraded.stdout
    downgraded = run_db_command(database_url, "downgrade", "base")
    assert downgraded.returncode == 0, downgraded.stderr
    assert "database at base" in downgraded.stdout


def test_serve_exits_with_a_clear_message_when_the_database_url_is_unsupported() -> None:
    result = subprocess.run(
        [PYTHON, "-m", "loom", "serve", "--port", "0"],
        cwd=REPO_ROOT,
        env=subprocess_env("mysql://root@localhost/loom"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "supports sqlite and postgresql only" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_fails_without_traceback_when_the_database_is_unreachable() -> None:
    result = run_db_command("postgresql://postgres@127.0.0.1:1/nowhere", "upgrade")
    assert result.returncode == 1
    assert result.stderr.startswith("loom db upgrade:")
    assert "Traceback" not in result.stderr
