"""Engine settings, read from ``LOOM_*`` environment variables.

Every duration is a ``*_seconds`` float. ``LOOM_DATABASE_URL`` accepts the plain forms
(``sqlite:///path``, ``postgresql://user@host/db``) and the async driver forms
(``sqlite+aiosqlite://``, ``postgresql+asyncpg://``); it is normalised to the async driver.
"""

from __future__ import annotations

import difflib
import math
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///loom-engine.db"
DEFAULT_SECRET_PATTERNS: tuple[str, ...] = (
    r"pass(word)?",
    r"secret",
    r"token",
    r"api[-_]?key",
    r"authorization",
    r"credential",
    r"private[-_]?key",
)


class SettingsError(ValueError):
    """An environment variable holds a value the engine cannot use."""


def normalize_database_url(url: str) -> str:
    """Return ``url`` with the async driver loom uses for its dialect.

    Args:
        url: a SQLAlchemy URL, with or without a driver.

    Returns:
        The URL with ``+aiosqlite`` or ``+asyncpg``.

    Raises:
        SettingsError: for a dialect other than SQLite or PostgreSQL.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise SettingsError(f"LOOM_DATABASE_URL {url!r} is not a URL (expected sqlite:///file.db)")
    dialect = scheme.split("+", 1)[0].lower()
    if dialect == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if dialect in {"postgresql", "postgres"}:
        return f"postgresql+asyncpg://{rest}"
    raise SettingsError(
        f"LOOM_DATABASE_URL uses {dialect!r}; loom supports sqlite and postgresql only"
    )


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
# Every variable ``from_env`` reads; a ``LOOM_*`` variable close to one of these is a typo.
KNOWN_VARIABLES = (
    "LOOM_DATABASE_URL",
    "LOOM_ENGINE_ID",
    "LOOM_LEASE_SECONDS",
    "LOOM_POLL_INTERVAL_SECONDS",
    "LOOM_MAX_CONCURRENT_STEPS",
    "LOOM_ALLOW_PRIVATE_NETWORKS",
    "LOOM_HTTP_TIMEOUT_SECONDS",
    "LOOM_SECRET_PATTERNS",
    "LOOM_AUTO_MIGRATE",
    "LOOM_RUN_SCHEDULER",
    "LOOM_LOG_LEVEL",
    "LOOM_LOG_JSON",
)


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name}={raw!r} must be a positive number of seconds")
    return value


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number (for example 64)") from None
    if value < 1:
        raise SettingsError(f"{name}={raw!r} must be at least 1")
    return value


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (use true or false, 1 or 0)")


def _env_level(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    level = raw.strip().upper()
    if level not in _LEVELS:
        raise SettingsError(f"{name}={raw!r} is not a log level (one of {', '.join(_LEVELS)})")
    return level


def _check_spelling(env: Mapping[str, str]) -> None:
    """A ``LOOM_*`` variable that is one typo away from a setting is an error, not ignored."""
    for name in env:
        if not name.startswith("LOOM_") or name in KNOWN_VARIABLES:
            continue
        close = difflib.get_close_matches(name, KNOWN_VARIABLES, n=1, cutoff=0.85)
        if close:
            raise SettingsError(f"{name} is not a loom setting; did you mean {close[0]}?")


def _default_engine_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineSettings:
    """Settings of one engine process.

    Attributes:
        database_url: async SQLAlchemy URL of the database.
        engine_id: identifies this process in step leases.
        lease_seconds: how long a claimed step stays owned without a heartbeat.
        poll_interval_seconds: how often the scheduler looks for work written by other processes.
        max_concurrent_steps: steps this process runs at once, over all executions.
        claim_batch_size: steps claimed per scheduler round.
        allow_private_networks: let ``http_request`` reach private, loopback and link-local hosts.
        http_timeout_seconds: default timeout of ``http_request``.
        secret_patterns: regexes of keys whose values are masked in logs and responses.
        auto_migrate: apply migrations at start (default on for SQLite, off for PostgreSQL).
        run_scheduler: run the scheduler loop in this process (off for an API-only replica).
        log_level: root log level of ``loom serve``.
        log_json: structured JSON log lines (default) or plain text.
    """

    database_url: str = DEFAULT_DATABASE_URL
    engine_id: str = field(default_factory=_default_engine_id)
    lease_seconds: float = 30.0
    poll_interval_seconds: float = 0.2
    max_concurrent_steps: int = 64
    claim_batch_size: int = 64
    allow_private_networks: bool = False
    http_timeout_seconds: float = 30.0
    secret_patterns: tuple[str, ...] = DEFAULT_SECRET_PATTERNS
    auto_migrate: bool | None = None
    run_scheduler: bool = True
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite."""
        return self.database_url.startswith("sqlite")

    @property
    def should_migrate(self) -> bool:
        """Whether start-up applies migrations."""
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> EngineSettings:
        """Read the settings from ``LOOM_*`` variables; ``overrides`` win over the environment.

        Args:
            env: the environment (``os.environ`` by default).
            **overrides: field values that replace what the environment says.

        Returns:
            The settings.

        Raises:
            SettingsError: when a variable cannot be parsed.
        """
        env = os.environ if env is None else env
        _check_spelling(env)
        patterns_raw = env.get("LOOM_SECRET_PATTERNS")
        auto_raw = env.get("LOOM_AUTO_MIGRATE")
        values: dict[str, object] = {
            "database_url": normalize_database_url(
                env.get("LOOM_DATABASE_URL") or DEFAULT_DATABASE_URL
            ),
            "lease_seconds": _env_float(env, "LOOM_LEASE_SECONDS", 30.0),
            "poll_interval_seconds": _env_float(env, "LOOM_POLL_INTERVAL_SECONDS", 0.2),
            "max_concurrent_steps": _env_int(env, "LOOM_MAX_CONCURRENT_STEPS", 64),
            "allow_private_networks": _env_bool(env, "LOOM_ALLOW_PRIVATE_NETWORKS", False),
            "http_timeout_seconds": _env_float(env, "LOOM_HTTP_TIMEOUT_SECONDS", 30.0),
            "secret_patterns": (
                tuple(p.strip() for p in patterns_raw.split(",") if p.strip())
                if patterns_raw
                else DEFAULT_SECRET_PATTERNS
            ),
            "auto_migrate": None if not auto_raw else _env_bool(env, "LOOM_AUTO_MIGRATE", False),
            "run_scheduler": _env_bool(env, "LOOM_RUN_SCHEDULER", True),
            "log_level": _env_level(env, "LOOM_LOG_LEVEL", "INFO"),
            "log_json": _env_bool(env, "LOOM_LOG_JSON", True),
        }
        if env.get("LOOM_ENGINE_ID"):
            values["engine_id"] = env["LOOM_ENGINE_ID"]
        values.update(overrides)
        if "database_url" in overrides:
            values["database_url"] = normalize_database_url(str(overrides["database_url"]))
        return cls(**values)  # pyright: ignore[reportArgumentType]  # validated field by field above
