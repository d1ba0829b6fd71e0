"""Engine settings from the environment: a bad value is an error naming the variable."""

from __future__ import annotations

import pytest

from loom.engine.settings import EngineSettings, SettingsError


def test_settings_read_every_variable_when_values_are_valid() -> None:
    s = EngineSettings.from_env(
        {
            "LOOM_LEASE_SECONDS": "12.5",
            "LOOM_MAX_CONCURRENT_STEPS": "8",
            "LOOM_ALLOW_PRIVATE_NETWORKS": "Yes",
            "LOOM_RUN_SCHEDULER": "0",
            "LOOM_LOG_LEVEL": "debug",
            "LOOM_TEST_PG_HOST": "elsewhere",  # not a setting, and not close to one
        }
    )
    assert (s.lease_seconds, s.max_concurrent_steps) == (12.5, 8)
    assert (s.allow_private_networks, s.run_scheduler, s.log_level) == (True, False, "DEBUG")


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LOOM_MAX_CONCURRENT_STEPS", "2.7", "is not a whole number"),
        ("LOOM_MAX_CONCURRENT_STEPS", "0", "at least 1"),
        ("LOOM_LEASE_SECONDS", "soon", "is not a number"),
        ("LOOM_LEASE_SECONDS", "nan", "positive number of seconds"),
        ("LOOM_POLL_INTERVAL_SECONDS", "-1", "positive number of seconds"),
        ("LOOM_RUN_SCHEDULER", "ture", "is not a boolean"),
        ("LOOM_LOG_LEVEL", "verbose", "is not a log level"),
    ],
)
def test_settings_error_names_the_variable_when_a_value_is_invalid(
    name: str, value: str, says: str
) -> None:
    with pytest.raises(SettingsError, match=says) as info:
        EngineSettings.from_env({name: value})
    assert str(info.value).startswith(f"{name}={value!r}")


def test_settings_error_suggests_the_setting_when_a_variable_is_misspelt() -> None:
    with pytest.raises(SettingsError, match="did you mean LOOM_LEASE_SECONDS"):
        EngineSettings.from_env({"LOOM_LEASE_SECOND": "5"})
