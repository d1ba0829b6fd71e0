"""Session fixtures of the end-to-end tests: the generated Camunda SDK and Prism serving its schema.

Prism starts first and loads the schema while the SDK is generated, so the two slow steps
overlap. Both are session-scoped; the tests that use them are in one xdist group, so one
worker pays for them once.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from loom.codegen.config import load_config
from loom.codegen.diagnostics import Severity
from loom.codegen.ir.model import Api
from loom.codegen.pipeline import generate
from tests.e2e.prism import PRISM_BIN, REPO_ROOT, prism_server

CAMUNDA_SPEC = REPO_ROOT / "examples" / "camunda" / "rest-api.bundle.json"
CAMUNDA_CONFIG = REPO_ROOT / "examples" / "camunda" / "loom.toml"
# A package name of its own, so the SDK cannot collide with another test's generated
# ``camunda_sdk`` in the same interpreter; everything else is the example's configuration.
CONTRACT_PACKAGE = "camunda_contract_sdk"


@dataclass(frozen=True)
class CamundaUnderTest:
    """The generated SDK, its IR and schema, and the Prism mock serving that schema.

    Attributes:
        api: the IR the SDK was generated from.
        document: the OpenAPI document (as loaded from the bundle file).
        package: the imported SDK package.
        base_url: Prism's root URL.
        prism_log: Prism's output, for failure messages.
        env_prefix: the SDK's environment variable prefix (``CAMUNDA``).
        base_url_exact_env: the variable of the ``base_url_exact`` setting.
    """

    api: Api
    document: dict[str, Any]
    package: ModuleType
    base_url: str
    prism_log: Path
    env_prefix: str
    base_url_exact_env: str

    def module(self, name: str) -> ModuleType:
        """A submodule of the SDK (``errors``, ``models``)."""
        return importlib.import_module(f"{self.package.__name__}.{name}")

    def client(self, *, asynchronous: bool = False, **settings: Any) -> Any:
        """A ``Client`` (or ``AsyncClient``) pointed at Prism, with no retries.

        The environment is fixed while the client reads it: the developer's own
        ``CAMUNDA_*`` settings are hidden, and the base URL is used as it is, because Prism
        serves the schema's paths at its root, without the server's ``/v2``.
        """
        cls = getattr(self.package, "AsyncClient" if asynchronous else "Client")
        with pytest.MonkeyPatch.context() as env:
            for name in list(os.environ):
                if name.startswith(f"{self.env_prefix}_"):
                    env.delenv(name)
            env.setenv(self.base_url_exact_env, "true")
            return cls(base_url=self.base_url, max_retries=0, env_file=False, **settings)


def _missing_tools() -> str | None:
    if not PRISM_BIN.exists():
        return f"{PRISM_BIN} is missing; run `make install` (npm ci installs Prism)"
    if shutil.which("node") is None:
        return "node is not on PATH; Prism needs Node.js"
    return None


@pytest.fixture(scope="session")
def camunda(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CamundaUnderTest]:
    """Generate the Camunda SDK, start Prism on the same schema, and import the SDK."""
    missing = _missing_tools()
    if missing is not None:
        pytest.skip(missing)
    root = tmp_path_factory.mktemp("camunda-contract")
    config = dataclasses.replace(load_config(CAMUNDA_CONFIG), package=CONTRACT_PACKAGE)
    with prism_server(CAMUNDA_SPEC, root / "prism.log") as prism:
        result = generate(CAMUNDA_SPEC, root / "sdk", config)
        assert result.api is not None
        errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
        assert not errors, f"generation reported errors: {errors}"
        sys.path.insert(0, str(root / "sdk"))
        try:
            package = importlib.import_module(CONTRACT_PACKAGE)
            runtime_config = importlib.import_module(f"{CONTRACT_PACKAGE}._runtime.config")
            exact = runtime_config.env_names_for(package.Client.sdk_info, "base_url_exact")[0]
            prism.wait_until_listening(timeout_seconds=60.0)
            yield CamundaUnderTest(
                api=result.api,
                document=json.loads(CAMUNDA_SPEC.read_text(encoding="utf-8")),
                package=package,
                base_url=prism.base_url,
                prism_log=prism.log_path,
                env_prefix=config.prefix,
                base_url_exact_env=exact,
            )
        finally:
            sys.path.remove(str(root / "sdk"))
            for name in [m for m in sys.modules if m.split(".", 1)[0] == CONTRACT_PACKAGE]:
                del sys.modules[name]
