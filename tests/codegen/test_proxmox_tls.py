"""Certificate checks of the Proxmox client against a loopback HTTPS server with a self-signed
certificate (made by the ``openssl`` command, as ``pvecm`` makes a node's)."""

from __future__ import annotations

import hashlib
import ssl
import subprocess
from collections.abc import Generator
from pathlib import Path
from types import ModuleType

import pytest

from tests.codegen.support import RecordingServer, Reply

TOKEN = {"user": "root@pam", "token_id": "ci", "token_secret": "s"}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "node.pem", folder / "node.key"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run(
        [*command, "-subj", "/CN=pve1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    digest = hashlib.sha256(der).hexdigest().upper()
    return cert, key, ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


@pytest.fixture
def tls_server(certificate: tuple[Path, Path, str]) -> Generator[RecordingServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate[0], certificate[1])
    server = RecordingServer(tls=context).start()
    server.routes[("GET", "/nodes")] = Reply(200, {"data": [{"node": "pve1", "status": "online"}]})
    try:
        yield server
    finally:
        server.stop()


def test_pinned_fingerprint_accepts_the_self_signed_node(
    pve: tuple[Path, ModuleType], tls_server: RecordingServer, certificate: tuple[Path, Path, str]
) -> None:
    client = pve[1].Client(base_url=tls_server.url, fingerprint=certificate[2], **TOKEN)
    assert client.nodes.get()[0].node == "pve1"


def test_wrong_fingerprint_stops_before_any_request_is_sent(
    pve: tuple[Path, ModuleType], tls_server: RecordingServer
) -> None:
    client = pve[1].Client(base_url=tls_server.url, fingerprint="AB:" * 31 + "AB", **TOKEN)
    with pytest.raises(pve[1].APIConnectionError, match="pinned fingerprint"):
        client.nodes.get()
    assert tls_server.requests == []


def test_certificates_are_verified_by_default(
    pve: tuple[Path, ModuleType], tls_server: RecordingServer
) -> None:
    client = pve[1].Client(base_url=tls_server.url, max_retries=3, **TOKEN)
    with pytest.raises(pve[1].APIConnectionError, match="TLS handshake"):
        client.nodes.get()
    assert tls_server.requests == []


def test_the_node_ca_bundle_verifies_it(
    pve: tuple[Path, ModuleType], tls_server: RecordingServer, certificate: tuple[Path, Path, str]
) -> None:
    url = tls_server.url.replace("127.0.0.1", "localhost")
    client = pve[1].Client(base_url=url, ca_file=str(certificate[0]), **TOKEN)
    with pytest.raises(pve[1].APIConnectionError, match="TLS handshake"):
        client.nodes.get()  # the certificate names pve1, not localhost: still refused
    assert tls_server.requests == []
