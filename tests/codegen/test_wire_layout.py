"""Layout and names users live with (issue 17, items 10 and 11)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import loom
from loom.codegen.config import GeneratorConfig, derive_names
from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.ir.build import build_api
from loom.codegen.ir.names import api_name
from loom.codegen.sources import load_document
from tests.codegen.support import generate_sdk

FIXTURE = Path(__file__).parent.parent / "fixtures" / "wire" / "layout.yaml"


def _api(config: GeneratorConfig | None = None) -> dict[str, list[str]]:
    sink = DiagnosticSink()
    api = build_api(load_document(FIXTURE, sink=sink).document, config or GeneratorConfig(), sink)
    return {r.attr: [op.method_name for op in r.operations] for r in api.resources}


def test_untagged_operations_group_by_the_first_segment_that_is_not_a_version() -> None:
    assert _api() == {
        "customers": ["list", "create", "get_customer"],
        "invoices": ["list"],
        "accounts": ["list"],
        "things": ["get"],  # the tag "1" names nothing: grouped by its path
    }


def test_configuration_regroups_operations_when_a_pattern_matches() -> None:
    grouped = _api(
        GeneratorConfig(groups={"/v1/customers/{customer}": "people", "listInvoices": "billing"})
    )
    assert grouped["people"] == ["get_customers_customer"]
    assert grouped["billing"] == ["list_invoices"]


def test_docstrings_carry_text_not_html_when_the_schema_writes_html(tmp_path: Path) -> None:
    _, sdk = generate_sdk(FIXTURE, tmp_path)
    doc = sdk.Client(base_url="http://x").customers.list.__doc__ or ""
    assert "Returns a list of your ``customers``." in doc
    assert "Newest first & paged." in doc
    assert "<p>" not in doc
    assert (sdk.models.Customer.__doc__ or "").startswith("A customer of yours.")


def test_package_and_settings_are_named_after_the_title_when_not_configured(
    tmp_path: Path,
) -> None:
    result, sdk = generate_sdk(FIXTURE, tmp_path)
    assert result.package == "acme_payments_client"
    assert sdk.__name__ == "acme_payments_client"
    assert sdk.Client.sdk_info.env_prefix == "ACME_PAYMENTS"
    named = derive_names(GeneratorConfig(package="mine", env_prefix="MINE"), {"info": {}})
    assert (named.package, named.prefix) == ("mine", "MINE")


@pytest.mark.parametrize(
    ("title", "server", "expected"),
    [
        ("Stripe API", "https://api.stripe.com/", "stripe"),
        ("GitHub v3 REST API", "https://api.github.com", "github"),
        ("Twilio - Api", "https://api.twilio.com", "twilio"),
        ("API", "https://api.example.co.uk/v1", "example"),
        ("Ünïcode ☃ API", "http://localhost:8080", "unicode"),
        ("", "http://localhost", ""),
    ],
)
def test_api_name_is_derived_deterministically_from_title_or_host(
    title: str, server: str, expected: str
) -> None:
    assert api_name(title, server) == expected


def _loom(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loom", *map(str, args)], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("api.yaml", "", "the file is empty; loom expected an OpenAPI 3.0 or 3.1 document"),
        ("api.yaml", '{\n  "openapi": \n', "named .yaml but starts with `{`"),
        (
            "apidata.js",
            'const apiSchema = [\n   {\n      "children" : [],\n      "path" : "/cluster"\n',
            # the Proxmox source reads it (issue 13) and says where the truncated array breaks
            "apidata.js:5: the apiSchema array is not JSON",
        ),
    ],
    ids=["empty", "brace-in-yaml", "proxmox-apidata"],
)
def test_unreadable_inputs_say_what_the_file_is_and_what_loom_expected(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    schema = tmp_path / name
    schema.write_text(text)
    proc = _loom("generate", schema, "-o", tmp_path / "out")
    assert proc.returncode == 2
    [line] = [ln for ln in proc.stderr.splitlines() if ln.startswith("loom: error:")]
    assert expected in line


def test_version_flag_prints_the_version() -> None:
    proc = _loom("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"loom {loom.__version__}"
