"""End-to-end tests: generated SDKs against real servers (Prism serving their schema)."""

import pytest

# Helper modules with asserts get pytest's detailed assertion messages too; this must run
# before they are imported, and this package is imported before its conftest and tests.
pytest.register_assert_rewrite("tests.e2e.contract")
