"""Fixtures for worker tests: the fake Camunda server in a thread, and a client to drive it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.runtime.worker.fake_camunda import FakeCamunda
from tests.runtime.worker.helpers import Control


@pytest.fixture
def fake() -> Iterator[FakeCamunda]:
    """A started fake Camunda job server (stopped after the test)."""
    server = FakeCamunda()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def control(fake: FakeCamunda) -> Iterator[Control]:
    """Creates jobs on the fake and reads them back."""
    with Control(fake.url) as ctl:
        yield ctl
