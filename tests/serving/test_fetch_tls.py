"""https fetching: the certificate is verified against the URL's host name (SNI) even though the
connection goes to a pre-checked IP address. A throwaway CA and server certificate are made
with `cryptography` (installed with moto) for a loopback HTTPS server."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from inference.errors import RequestError
from inference.fetch import fetch_image
from tests.serving.loopback import CT_PNG

LOOPBACK = frozenset({ipaddress.ip_address("127.0.0.1")})


def certificate(subject: str, issuer_key, issuer_name, public_key, *, ca: bool, names=()):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(  # Python 3.13 verifies strictly (VERIFY_X509_STRICT): AKI required
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = certificate("test CA", ca_key, ca_name, ca_key.public_key(), ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(
        "images.test", ca_key, ca_name, key.public_key(), ca=False, names=["images.test"]
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder


class ImageHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(CT_PNG)))
        self.end_headers()
        self.wfile.write(CT_PNG)


@pytest.fixture(scope="module")
def https_port(tls_files):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ImageHandler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files / "cert.pem", tls_files / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def resolve_to_loopback(monkeypatch):
    """Make every host name resolve to 127.0.0.1 (the checked address the fetch connects to)."""
    import socket

    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, port, *a, **k: real("127.0.0.1", port, *a, **k)
    )


def test_a_certificate_for_the_host_name_is_accepted(
    tls_files, https_port, resolve_to_loopback, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files / "ca.pem"))
    fetched = fetch_image(
        f"https://images.test:{https_port}/ct.png", trusted_addresses=LOOPBACK, deadline_s=5
    )
    assert fetched.body == CT_PNG


def test_a_certificate_for_another_name_is_refused(
    tls_files, https_port, resolve_to_loopback, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files / "ca.pem"))
    with pytest.raises(RequestError) as caught:
        fetch_image(
            f"https://other.test:{https_port}/ct.png", trusted_addresses=LOOPBACK, deadline_s=5
        )
    assert (caught.value.status, caught.value.code) == (502, "upstream_tls_error")


def test_an_untrusted_certificate_is_refused(https_port, resolve_to_loopback, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(RequestError) as caught:
        fetch_image(
            f"https://images.test:{https_port}/ct.png", trusted_addresses=LOOPBACK, deadline_s=5
        )
    assert (caught.value.status, caught.value.code) == (502, "upstream_tls_error")
