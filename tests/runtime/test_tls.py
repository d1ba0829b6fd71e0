"""TLS and proxies against real loopback servers: CA bundles, mutual TLS, passphrases, proxy."""

from __future__ import annotations

import logging
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from loom.runtime.errors import APIConnectionError, ConfigurationError

from .helpers import GET_THING, Client, thing_server
from .loopback import LoopbackServer, Received, Reply, Script

Serve = Callable[[Script], LoopbackServer]
PASSPHRASE = "key-passphrase"


@dataclass(frozen=True)
class Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (encrypted key)."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    _openssl(
        "req",
        "-x509",
        *ec,
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=loom test CA",
        cwd=d,
    )
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl(
        "req",
        *ec,
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
        cwd=d,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        cwd=d,
    )
    _openssl(
        "req",
        *ec,
        "-nodes",
        "-keyout",
        "client.plain.key",
        "-out",
        "client.csr",
        "-subj",
        "/CN=loom client",
        cwd=d,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "client.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "client.pem",
        "-days",
        "2",
        cwd=d,
    )
    _openssl(
        "pkcs8",
        "-topk8",
        "-in",
        "client.plain.key",
        "-out",
        "client.key",
        "-v2",
        "aes-256-cbc",
        "-passout",
        f"pass:{PASSPHRASE}",
        cwd=d,
    )
    return Pki(d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem", d / "client.key")


def _server_context(pki: Pki, *, require_client_cert: bool) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(pki.ca)
    return ctx


@pytest.fixture
def https_server(pki: Pki) -> Iterator[LoopbackServer]:
    server = LoopbackServer(
        thing_server(), ssl_context=_server_context(pki, require_client_cert=False)
    ).start()
    yield server
    server.stop()


@pytest.fixture
def mtls_server(pki: Pki) -> Iterator[LoopbackServer]:
    server = LoopbackServer(
        thing_server(), ssl_context=_server_context(pki, require_client_cert=True)
    ).start()
    yield server
    server.stop()


def test_ca_file_verifies_server_when_certificate_is_private(
    https_server: LoopbackServer, pki: Pki
) -> None:
    with Client(base_url=https_server.url, ca_file=pki.ca) as client:
        assert client.request(GET_THING, {"id": 1}).id == 7


def test_unknown_ca_is_refused_without_retries_when_no_bundle_given(
    https_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("test.runtime.tls")
    with (
        caplog.at_level(logging.DEBUG, logger="test.runtime.tls"),
        Client(base_url=https_server.url, max_retries=2, logger=logger) as client,
        pytest.raises(APIConnectionError, match=r"TLS handshake .* failed .*check ca_file"),
    ):
        client.request(GET_THING, {"id": 1})
    assert "retrying cannot help" in caplog.text
    assert caplog.text.count("request: GET") == 1


def test_verification_can_be_switched_off_when_verify_false(https_server: LoopbackServer) -> None:
    with Client(base_url=https_server.url, verify=False) as client:
        assert client.request(GET_THING, {"id": 1}).name == "seven"


def test_mutual_tls_presents_client_certificate_when_key_has_passphrase(
    mtls_server: LoopbackServer, pki: Pki
) -> None:
    with Client(
        base_url=mtls_server.url,
        ca_file=pki.ca,
        client_cert=pki.client_cert,
        client_key=pki.client_key,
        client_key_password=PASSPHRASE,
    ) as client:
        assert client.request(GET_THING, {"id": 1}).id == 7


def test_mutual_tls_fails_when_no_client_certificate(mtls_server: LoopbackServer, pki: Pki) -> None:
    with (
        Client(base_url=mtls_server.url, ca_file=pki.ca, max_retries=0) as client,
        pytest.raises(APIConnectionError),
    ):
        client.request(GET_THING, {"id": 1})


def test_inline_pem_settings_work_when_given_through_environment(
    mtls_server: LoopbackServer, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESTSDK_CA_PEM", pki.ca.read_text())
    monkeypatch.setenv("TESTSDK_CLIENT_CERT_PEM", pki.client_cert.read_text())
    monkeypatch.setenv("TESTSDK_CLIENT_KEY_PEM", pki.client_key.read_text())
    monkeypatch.setenv("TESTSDK_CLIENT_KEY_PASSWORD", PASSPHRASE)
    with Client(base_url=mtls_server.url) as client:
        assert client.request(GET_THING, {"id": 1}).id == 7


def test_wrong_passphrase_names_the_setting_not_the_secret_when_loading(
    mtls_server: LoopbackServer, pki: Pki
) -> None:
    client = Client(
        base_url=mtls_server.url,
        client_cert=pki.client_cert,
        client_key=pki.client_key,
        client_key_password="not-the-passphrase",
    )
    with pytest.raises(ConfigurationError) as info:
        client.request(GET_THING, {"id": 1})
    assert "client_key_password" in str(info.value)
    assert "not-the-passphrase" not in str(info.value)


def test_requests_go_through_proxy_when_proxy_set(serve: Serve) -> None:
    target = serve(thing_server())
    seen: list[Received] = []

    def proxy_script(req: Received) -> Reply:
        seen.append(req)
        return Reply(json={"id": 9, "name": "via proxy"})

    proxy = serve(proxy_script)
    with Client(base_url=target.url, proxy=proxy.url) as client:
        assert client.request(GET_THING, {"id": 1}).name == "via proxy"
    assert seen[0].path == f"{target.url}/things/1"  # absolute-form request line (RFC 9112 §3.2.2)
    assert target.count() == 0
