"""Render ``CONFIGURATION.md`` for a generated SDK from ``SdkInfo`` (deterministic output)."""

from __future__ import annotations

from .operation import SdkInfo
from .settings_spec import SETTINGS, env_names_for

__all__ = ["render"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(sdk: SdkInfo, name: str, fallback: str) -> str:
    if name == "base_url":
        return f"`{sdk.default_base_url}`"
    value = sdk.setting_defaults.get(name)
    if value is None:
        return fallback
    if isinstance(value, tuple | list):
        items: list[object] = list(value)  # pyright: ignore[reportUnknownArgumentType]
        return "`" + " ".join(str(v) for v in items) + "`"
    return f"`{value}`"


def render(sdk: SdkInfo) -> str:
    """The Markdown text of ``CONFIGURATION.md``.

    Args:
        sdk: the SDK's description.

    Returns:
        The document, ending with a newline.
    """
    lines = [
        f"# Configuring {sdk.name}",
        "",
        "Every setting can be given as a keyword argument of `Client(...)` / `AsyncClient(...)`,",
        "as an environment variable, or in a `.env` file. Precedence, highest first: arguments >",
        (
            "environment > `.env` (read only when `env_file=` is passed or "
            f"`{env_names_for(sdk, 'load_envfile')[0]}` is set) > defaults."
        ),
        "Missing or conflicting settings raise one `ConfigurationError` naming the variables.",
        "",
        "| argument | variable | default | meaning |",
        "|---|---|---|---|",
    ]
    for spec in SETTINGS:
        names = env_names_for(sdk, spec.name)
        variable = "<br>".join(f"`{n}`" for n in names)
        if len(names) > 1:
            variable += " (aliases)"
        argument = "—" if spec.name == "load_envfile" else f"`{spec.argument or spec.name}`"
        meaning = spec.meaning + (" Secret: never logged." if spec.secret else "")
        lines.append(
            f"| {argument} | {variable} | {_cell(_default(sdk, spec.name, spec.default))} | "
            f"{_cell(meaning)} |"
        )
    schemes = sorted(sdk.security_schemes.items())
    lines += ["", "## Authentication", ""]
    if schemes:
        lines.append("Security schemes declared by the API:")
        lines.append("")
        for name, scheme in schemes:
            detail = scheme.scheme or scheme.location or ""
            extra = f" ({detail})" if detail else ""
            lines.append(f"- `{name}`: {scheme.kind}{extra}")
        lines.append("")
    strategy = env_names_for(sdk, "auth_strategy")[0]
    lines += [
        (
            f"`{strategy}` selects NONE, BASIC, OAUTH (client credentials; the token is cached, "
            "refreshed before expiry and renewed once on a 401), BEARER or API_KEY. When it is "
            "unset it is inferred from the credentials present. A custom `httpx.Auth` passed as "
            "`auth=` replaces all of this."
        ),
        "",
        "## Retries and timeouts",
        "",
        (
            "Connection errors and statuses 408, 429, 500, 502, 503 and 504 are retried "
            "(`max_retries`, default 2) with exponential back-off and jitter, honouring "
            "`Retry-After` and `retry-after-ms`. POST and PATCH are retried only when the request "
            "carries an `Idempotency-Key` header. Per call: `timeout=`, `extra_headers=`, "
            "`extra_query=`, `extra_body=`; per client copy: "
            "`client.with_options(timeout=..., max_retries=...)`."
        ),
        "",
    ]
    return "\n".join(lines)
