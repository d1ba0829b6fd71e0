"""``loom serve`` and ``loom db upgrade|downgrade|current``.

Cheap to import: FastAPI, SQLAlchemy and uvicorn are imported inside the command functions.
"""

from __future__ import annotations

import argparse
import gc
import sys


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:  # pyright: ignore[reportPrivateUsage]
    """Add ``serve`` and ``db`` to the ``loom`` command."""
    serve = sub.add_parser(
        "serve",
        help="run the pipeline engine (API + scheduler)",
        description="Run the pipeline engine. The database is LOOM_DATABASE_URL "
        "(default: a SQLite file, migrated at start).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--database-url", help="overrides LOOM_DATABASE_URL")
    serve.set_defaults(func=_run_serve)

    db = sub.add_parser("db", help="database migrations of the engine")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, help_text in (
        ("upgrade", "apply migrations up to REVISION (default head)"),
        ("downgrade", "revert migrations down to REVISION (default -1)"),
        ("current", "print the database's revision and the shipped head"),
    ):
        p = db_sub.add_parser(name, help=help_text, description=help_text)
        if name != "current":
            p.add_argument("revision", nargs="?", default="head" if name == "upgrade" else "-1")
        p.add_argument("--database-url", help="overrides LOOM_DATABASE_URL")
        p.set_defaults(func=_run_db)


def _settings(args: argparse.Namespace) -> object:
    from loom.engine.settings import EngineSettings, SettingsError

    try:
        if getattr(args, "database_url", None):
            return EngineSettings.from_env(database_url=args.database_url)
        return EngineSettings.from_env()
    except SettingsError as exc:
        return str(exc)


def _run_serve(args: argparse.Namespace) -> int:
    from loom.engine.settings import EngineSettings

    settings = _settings(args)
    if not isinstance(settings, EngineSettings):
        print(f"loom serve: {settings}", file=sys.stderr)
        return 2
    # Importing FastAPI, SQLAlchemy, uvicorn and the engine makes ~800,000 objects that live as
    # long as the process: the cyclic collector's passes over them while they are being made
    # find nothing and cost ~0.1 s of the start-up. Frozen afterwards, they are also left out
    # of every later collection (shorter pauses while serving).
    gc.disable()
    try:
        import uvicorn

        from loom.engine.app import create_app
        from loom.engine.logging import configure_logging

        configure_logging(
            level=settings.log_level,
            json_lines=settings.log_json,
            secret_patterns=settings.secret_patterns,
        )
        app = create_app(settings)
    finally:
        gc.freeze()
        gc.enable()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    except OSError as exc:
        print(f"loom serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


async def _db(action: str, url: str, revision: str | None) -> str:
    from loom.engine.db.session import create_engine, current_revision, head_revision, migrate

    engine = create_engine(url)
    try:
        if action in {"upgrade", "downgrade"}:
            await migrate(engine, action=action, revision=revision or "head")
        current = await current_revision(engine)
    finally:
        await engine.dispose()
    return f"database at {current or 'base'} (shipped head: {head_revision()})"


def _run_db(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from loom.engine.settings import EngineSettings

    settings = _settings(args)
    if not isinstance(settings, EngineSettings):
        print(f"loom db: {settings}", file=sys.stderr)
        return 2
    try:
        import asyncio

        line = asyncio.run(
            _db(args.db_command, settings.database_url, getattr(args, "revision", None))
        )
    except (SQLAlchemyError, OSError) as exc:
        print(
            f"loom db {args.db_command}: {type(exc).__name__}: {exc}".splitlines()[0],
            file=sys.stderr,
        )
        return 1
    except Exception as exc:  # alembic's CommandError for an unknown revision, and friends
        print(f"loom db {args.db_command}: {exc}", file=sys.stderr)
        return 1
    print(line)
    return 0
