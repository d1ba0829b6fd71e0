"""Configuration: precedence table, .env parsing, Camunda variables, clear errors, the docs."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, ClassVar

import pytest

from loom.runtime.client import SyncAPIClient
from loom.runtime.config import SETTINGS, env_names_for, render_configuration_md, resolve_settings
from loom.runtime.dotenv import parse_env_text
from loom.runtime.errors import ConfigurationError
from loom.runtime.operation import SdkInfo, SecurityScheme

from .helpers import TEST_SDK, Client

ROOT = Path(__file__).resolve().parents[2]
CAMUNDA_TOML = tomllib.loads((ROOT / "examples/camunda/loom.toml").read_text())["runtime"]

CAMUNDA_SDK = SdkInfo(
    name="camunda-sdk",
    version="0.1.0",
    env_prefix="CAMUNDA",
    default_base_url="http://localhost:8080/v2",
    env_names=CAMUNDA_TOML["env_names"],
    env_aliases={
        "base_url": ("ZEEBE_REST_ADDRESS",),
        "client_id": ("CAMUNDA_CLIENT_AUTH_CLIENTID",),
        "client_secret": ("CAMUNDA_CLIENT_AUTH_CLIENTSECRET",),
    },
    setting_defaults={
        "oauth_url": "https://login.cloud.camunda.io/oauth/token",
        "audience": "zeebe.camunda.io",
    },
    base_url_suffix="/v2",
    security_schemes={
        "bearerAuth": SecurityScheme(kind="http", scheme="bearer"),
        "basicAuth": SecurityScheme(kind="http", scheme="basic"),
    },
)


# -- precedence ------------------------------------------------------------------------------

# (explicit, environment, .env file, expected max_retries)
PRECEDENCE: list[tuple[int | None, str | None, str | None, int]] = [
    (None, None, None, 2),  # default
    (None, None, "4", 4),  # .env over default
    (None, "5", "4", 5),  # environment over .env
    (6, "5", "4", 6),  # explicit over everything
    (0, "5", None, 0),  # an explicit 0 is a value, not "not given"
]


@pytest.mark.parametrize(("explicit", "env", "file", "expected"), PRECEDENCE)
def test_precedence_is_explicit_env_file_default_when_layers_overlap(
    tmp_path: Path, explicit: int | None, env: str | None, file: str | None, expected: int
) -> None:
    env_file = tmp_path / ".env"
    if file is not None:
        env_file.write_text(f"TESTSDK_MAX_RETRIES={file}\n")
    environ = {} if env is None else {"TESTSDK_MAX_RETRIES": env}
    given: dict[str, object] = {} if explicit is None else {"max_retries": explicit}
    settings = resolve_settings(TEST_SDK, given, environ=environ, env_file=env_file)
    assert settings.max_retries == expected


def test_env_file_is_ignored_when_not_opted_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("TESTSDK_MAX_RETRIES=7\n")
    assert resolve_settings(TEST_SDK, {}, environ={}).max_retries == 2
    opted = resolve_settings(TEST_SDK, {}, environ={"TESTSDK_LOAD_ENVFILE": "true"})
    assert opted.max_retries == 7
    assert resolve_settings(TEST_SDK, {}, environ={}, env_file=True).max_retries == 7


def test_load_envfile_variable_accepts_a_path_when_set(tmp_path: Path) -> None:
    file = tmp_path / "custom.env"
    file.write_text("export TESTSDK_TENANT_ID='tenant a'\n")
    settings = resolve_settings(TEST_SDK, {}, environ={"TESTSDK_LOAD_ENVFILE": str(file)})
    assert settings.tenant_id == "tenant a"


def test_client_reads_environment_when_no_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESTSDK_BASE_URL", "http://env.example/api/")
    monkeypatch.setenv("TESTSDK_TIMEOUT_SECONDS", "12.5")
    client = Client()
    assert client.base_url == "http://env.example/api"
    assert client.settings.timeout_seconds == 12.5
    assert Client(base_url="http://arg.example").base_url == "http://arg.example"


# -- .env parsing ----------------------------------------------------------------------------


def test_env_parser_handles_quotes_comments_and_export_when_parsing() -> None:
    text = "\n".join(
        [
            "# a comment",
            "",
            "PLAIN=value  # trailing comment",
            "export EXPORTED=yes",
            "EMPTY=",
            "SINGLE='no $expansion # here'",
            'DOUBLE="line1\\nline2 \\"q\\""',
            'MULTI="first',
            'second"',
            "SPACED = around ",
            "HASH=a#b",
        ]
    )
    assert parse_env_text(text) == {
        "PLAIN": "value",
        "EXPORTED": "yes",
        "EMPTY": "",
        "SINGLE": "no $expansion # here",
        "DOUBLE": 'line1\nline2 "q"',
        "MULTI": "first\nsecond",
        "SPACED": "around",
        "HASH": "a#b",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [("JUST TEXT", ".env:1: expected KEY=value"), ("A=1\nB='open", ".env:2: B: the ' quote")],
)
def test_env_parser_names_the_line_when_malformed(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_env_text(text)


# -- errors ----------------------------------------------------------------------------------


def test_missing_secret_names_both_variables_when_only_client_id_set() -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_settings(TEST_SDK, {}, environ={"TESTSDK_CLIENT_ID": "abc"})
    assert "TESTSDK_CLIENT_ID is set but TESTSDK_CLIENT_SECRET is not" in str(info.value)
    assert info.value.variables == ("TESTSDK_CLIENT_ID", "TESTSDK_CLIENT_SECRET")


def test_ambiguous_credentials_ask_for_strategy_when_oauth_and_basic_set() -> None:
    environ = {
        "TESTSDK_CLIENT_ID": "a",
        "TESTSDK_CLIENT_SECRET": "b",
        "TESTSDK_USERNAME": "u",
        "TESTSDK_PASSWORD": "p",
    }
    with pytest.raises(
        ConfigurationError, match="set TESTSDK_AUTH_STRATEGY to one of OAUTH, BASIC"
    ):
        resolve_settings(TEST_SDK, {}, environ=environ)
    explicit = resolve_settings(
        TEST_SDK,
        {},
        environ={**environ, "TESTSDK_AUTH_STRATEGY": "basic", "TESTSDK_OAUTH_URL": "x"},
    )
    assert explicit.auth_strategy == "BASIC"


def test_all_problems_are_reported_at_once_when_several_settings_are_wrong() -> None:
    environ = {
        "TESTSDK_AUTH_STRATEGY": "OAUTH",
        "TESTSDK_CLIENT_CERT": "/nonexistent/cert.pem",
        "TESTSDK_MAX_RETRIES": "lots",
    }
    with pytest.raises(ConfigurationError) as info:
        resolve_settings(TEST_SDK, {}, environ=environ)
    assert "TESTSDK_MAX_RETRIES" in str(info.value)
    assert "lots" not in str(info.value)  # values are not echoed (they may be secrets)


def test_strategy_requirements_are_listed_when_strategy_lacks_credentials() -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_settings(TEST_SDK, {}, environ={"TESTSDK_AUTH_STRATEGY": "OAUTH"})
    message = str(info.value)
    for variable in ("TESTSDK_CLIENT_ID", "TESTSDK_CLIENT_SECRET", "TESTSDK_OAUTH_URL"):
        assert f"{variable} is required when TESTSDK_AUTH_STRATEGY=OAUTH" in message


def test_unknown_strategy_is_rejected_with_choices_when_misspelt() -> None:
    with pytest.raises(ConfigurationError, match="TESTSDK_AUTH_STRATEGY"):
        resolve_settings(TEST_SDK, {}, environ={"TESTSDK_AUTH_STRATEGY": "OAUTH2"})


def test_mtls_needs_cert_and_key_together_when_one_is_set(tmp_path: Path) -> None:
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    with pytest.raises(ConfigurationError, match="incomplete mutual TLS configuration"):
        resolve_settings(TEST_SDK, {"client_cert": str(cert)}, environ={})


def test_client_raises_configuration_error_when_constructed_badly() -> None:
    with pytest.raises(ConfigurationError, match="TESTSDK_PASSWORD"):
        Client(username="only-user")


def test_secret_values_are_masked_when_settings_are_printed() -> None:
    settings = resolve_settings(
        TEST_SDK,
        {"client_id": "id", "client_secret": "hunter2", "oauth_url": "http://t"},
        environ={},
    )
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings)
    assert settings.client_secret is not None
    assert settings.client_secret.get_secret_value() == "hunter2"


# -- Camunda compatibility -------------------------------------------------------------------


class CamundaClient(SyncAPIClient):
    """What the generated Camunda client declares."""

    sdk_info: ClassVar[SdkInfo] = CAMUNDA_SDK


def test_camunda_variables_configure_oauth_when_set_like_camunda_sdk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    variables = {
        "CAMUNDA_REST_ADDRESS": "https://cluster.example/abc",
        "CAMUNDA_OAUTH_URL": "https://login.example/oauth/token",
        "CAMUNDA_CLIENT_ID": "cid",
        "CAMUNDA_CLIENT_SECRET": "csecret",
        "CAMUNDA_TOKEN_AUDIENCE": "zeebe.example",
        "CAMUNDA_TOKEN_CACHE_DIR": str(tmp_path),
        "CAMUNDA_TENANT_ID": "t1",
        "CAMUNDA_SDK_LOG_LEVEL": "warn",
    }
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    settings = CamundaClient().settings
    assert settings.base_url == "https://cluster.example/abc/v2"  # /v2 appended like camunda's
    assert settings.auth_strategy == "OAUTH"  # inferred from id + secret
    assert settings.oauth_url == "https://login.example/oauth/token"
    assert settings.audience == "zeebe.example"
    assert settings.token_cache_dir == str(tmp_path)
    assert settings.tenant_id == "t1"
    assert settings.log_level == "warn"


def test_camunda_defaults_apply_when_only_credentials_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMUNDA_CLIENT_ID", "cid")
    monkeypatch.setenv("CAMUNDA_CLIENT_SECRET", "csecret")
    settings = CamundaClient().settings
    assert settings.base_url == "http://localhost:8080/v2"
    assert settings.oauth_url == "https://login.cloud.camunda.io/oauth/token"
    assert settings.audience == "zeebe.camunda.io"


def test_camunda_basic_auth_variables_infer_basic_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMUNDA_BASIC_AUTH_USERNAME", "demo")
    monkeypatch.setenv("CAMUNDA_BASIC_AUTH_PASSWORD", "demo")
    monkeypatch.setenv("CAMUNDA_REST_ADDRESS", "http://localhost:8080/v2/")
    settings = CamundaClient().settings
    assert settings.auth_strategy == "BASIC"
    assert settings.base_url == "http://localhost:8080/v2"


def test_camunda_basic_strategy_names_missing_variable_when_password_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAMUNDA_AUTH_STRATEGY", "BASIC")
    monkeypatch.setenv("CAMUNDA_BASIC_AUTH_USERNAME", "demo")
    with pytest.raises(ConfigurationError) as info:
        CamundaClient()
    assert "CAMUNDA_BASIC_AUTH_PASSWORD is required when CAMUNDA_AUTH_STRATEGY=BASIC" in str(
        info.value
    )


def test_camunda_aliases_conflict_when_set_to_different_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAMUNDA_REST_ADDRESS", "http://a:8080")
    monkeypatch.setenv("ZEEBE_REST_ADDRESS", "http://b:8080")
    with pytest.raises(ConfigurationError, match="CAMUNDA_REST_ADDRESS and ZEEBE_REST_ADDRESS"):
        CamundaClient()
    monkeypatch.delenv("CAMUNDA_REST_ADDRESS")
    assert CamundaClient().base_url == "http://b:8080/v2"


def test_camunda_exact_address_is_kept_when_exact_flag_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMUNDA_REST_ADDRESS", "http://gw.example/custom")
    monkeypatch.setenv("CAMUNDA_REST_ADDRESS_EXACT", "true")
    assert CamundaClient().base_url == "http://gw.example/custom"


def test_camunda_mtls_variables_map_to_tls_settings_when_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAMUNDA_MTLS_CERT", "-----BEGIN CERTIFICATE-----")
    monkeypatch.setenv("CAMUNDA_MTLS_KEY", "-----BEGIN PRIVATE KEY-----")
    monkeypatch.setenv("CAMUNDA_MTLS_KEY_PASSPHRASE", "pp")
    monkeypatch.setenv("CAMUNDA_MTLS_CA", "-----BEGIN CERTIFICATE-----")
    settings = CamundaClient().settings
    assert settings.client_cert_pem is not None
    assert settings.client_key_pem is not None
    assert settings.client_key_password is not None
    assert settings.ca_pem is not None
    assert "BEGIN" not in repr(settings)


def test_camunda_envfile_is_read_when_load_envfile_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CAMUNDA_TENANT_ID=from-file\nCAMUNDA_SDK_LOG_LEVEL=debug\n")
    monkeypatch.setenv("CAMUNDA_LOAD_ENVFILE", "true")
    monkeypatch.setenv("CAMUNDA_SDK_LOG_LEVEL", "error")
    settings = CamundaClient().settings
    assert settings.tenant_id == "from-file"
    assert settings.log_level == "error"  # the environment wins over the file


def test_every_camunda_variable_maps_to_a_setting_when_listed() -> None:
    names = {spec.name for spec in SETTINGS}
    assert set(CAMUNDA_TOML["env_names"]) <= names
    mapped = {env_names_for(CAMUNDA_SDK, n)[0] for n in names}
    for variable in (
        "CAMUNDA_REST_ADDRESS",
        "CAMUNDA_AUTH_STRATEGY",
        "CAMUNDA_OAUTH_URL",
        "CAMUNDA_CLIENT_ID",
        "CAMUNDA_CLIENT_SECRET",
        "CAMUNDA_TOKEN_AUDIENCE",
        "CAMUNDA_BASIC_AUTH_USERNAME",
        "CAMUNDA_BASIC_AUTH_PASSWORD",
        "CAMUNDA_TOKEN_CACHE_DIR",
        "CAMUNDA_TENANT_ID",
        "CAMUNDA_SDK_LOG_LEVEL",
        "CAMUNDA_MTLS_CERT_PATH",
        "CAMUNDA_MTLS_KEY_PATH",
        "CAMUNDA_MTLS_CA_PATH",
        "CAMUNDA_MTLS_CERT",
        "CAMUNDA_MTLS_KEY",
        "CAMUNDA_MTLS_CA",
        "CAMUNDA_MTLS_KEY_PASSPHRASE",
        "CAMUNDA_LOAD_ENVFILE",
    ):
        assert variable in mapped, variable


# -- CONFIGURATION.md ------------------------------------------------------------------------


def test_configuration_md_lists_every_setting_deterministically_when_rendered() -> None:
    first = render_configuration_md(CAMUNDA_SDK)
    assert first == render_configuration_md(CAMUNDA_SDK)
    for spec in SETTINGS:
        assert f"`{env_names_for(CAMUNDA_SDK, spec.name)[0]}`" in first
    assert "`CAMUNDA_REST_ADDRESS`<br>`ZEEBE_REST_ADDRESS` (aliases)" in first
    assert "`zeebe.camunda.io`" in first
    assert first.endswith("\n")


def test_configuration_md_is_plain_for_default_names_when_no_overrides() -> None:
    text: Any = render_configuration_md(TEST_SDK)
    assert "`TESTSDK_MAX_RETRIES`" in text
    assert "`X-Api-Key`" not in text
