"""An image URL's name is resolved once: the fetch connects to the address the policy vetted
(DNS rebinding cannot reach another), with the name in the Host header and as the TLS server
name, so certificates are still checked against it (`--ca-bundle` names the CA to trust)."""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme

from conformance.client import Client
from conformance.config import Bounds, Target, run_config
from conformance.errors import UsageError
from conformance.model import TransportErrorKind
from conformance.spec import Spec
from conformance.urlpolicy import FetchPolicy

NAME = "images.pinning.test"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class _Handler(http.server.BaseHTTPRequestHandler):
    hosts: list[str]

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.hosts.append(self.headers.get("host", ""))
        self.send_response(200)
        self.send_header("content-type", "image/png")
        self.send_header("content-length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def _serving(context: ssl.SSLContext | None = None) -> Iterator[tuple[int, list[str]]]:
    hosts: list[str] = []
    handler = type("Handler", (_Handler,), {"hosts": hosts})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hosts
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """NAME resolves to 127.0.0.1 the first time and to 127.0.0.3 (nothing listens) after."""
    real = socket.getaddrinfo
    answers: list[str] = []

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == NAME:
            answers.append("127.0.0.1" if not answers else "127.0.0.3")
            return real(answers[-1], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return answers


def _client(spec: Spec, ca_bundle: str | None = None) -> Client:
    target = Target(base_url="http://127.0.0.1:9", ca_bundle=ca_bundle)
    return Client(target, spec.operation, Bounds(connect_timeout=2, total_timeout=10))


def test_the_fetch_connects_to_the_address_that_was_vetted(
    spec: Spec, rebinding: list[str]
) -> None:
    policy = FetchPolicy("http://127.0.0.1:9")
    with _serving() as (port, hosts), _client(spec) as client:
        result = client.fetch(f"http://{NAME}:{port}/image.png", admit=policy.admission)
    assert result.error is None and result.status == 200 and result.body == PNG
    assert rebinding == ["127.0.0.1"]  # resolved once: the second answer was never asked for
    assert hosts == [f"{NAME}:{port}"]


def test_a_name_vetted_to_link_local_is_never_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        address = "169.254.169.254" if host == NAME else host
        return real(address, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    admission = FetchPolicy("http://127.0.0.1:9").admission(f"http://{NAME}/latest/meta-data")
    assert "link-local" in (admission.refusal or "")


def test_a_name_that_does_not_resolve_is_a_connect_error_without_a_connect(
    spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    policy = FetchPolicy("http://127.0.0.1:9")
    with _client(spec) as client:
        result = client.fetch(f"http://{NAME}/image.png", admit=policy.admission)
    assert result.error == TransportErrorKind.CONNECT and "does not resolve" in result.detail


def test_tls_checks_the_certificate_against_the_name_not_the_address(
    spec: Spec, rebinding: list[str], tmp_path: Path
) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(NAME).configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    policy = FetchPolicy("http://127.0.0.1:9")
    url_path = "/image.png"
    with _serving(context) as (port, hosts):
        with _client(spec, str(bundle)) as client:
            trusted = client.fetch(f"https://{NAME}:{port}{url_path}", admit=policy.admission)
        rebinding.clear()
        with _client(spec) as client:  # the default bundle does not know this CA
            untrusted = client.fetch(f"https://{NAME}:{port}{url_path}", admit=policy.admission)
    assert trusted.error is None and trusted.status == 200, trusted.detail
    assert hosts == [f"{NAME}:{port}"]
    assert untrusted.error is not None and "certificate" in untrusted.detail.lower()


def test_a_certificate_for_another_name_is_refused(
    spec: Spec, rebinding: list[str], tmp_path: Path
) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("someone-else.test").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    policy = FetchPolicy("http://127.0.0.1:9")
    with _serving(context) as (port, hosts), _client(spec, str(bundle)) as client:
        result = client.fetch(f"https://{NAME}:{port}/image.png", admit=policy.admission)
    assert result.error is not None and hosts == []


def test_ca_bundle_must_be_a_pem_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(UsageError, match="--ca-bundle"):
        run_config({"ca_bundle": str(junk)})
    with pytest.raises(UsageError, match="--ca-bundle"):
        run_config({"ca_bundle": str(tmp_path / "missing.pem")})


def test_an_invalid_url_or_redirect_is_a_failure_of_the_fetch_not_a_crash(spec: Spec) -> None:
    class _Redirecting(_Handler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(302)
            self.send_header("location", "//[::1")
            self.send_header("content-length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with _client(spec) as client:
            redirected = client.fetch(f"http://127.0.0.1:{server.server_address[1]}/x.png")
            invalid = client.fetch("http://\x00/x.png")
    finally:
        server.shutdown()
        server.server_close()
    assert redirected.error == TransportErrorKind.PROTOCOL
    assert "invalid url" in redirected.detail.lower()
    assert invalid.error == TransportErrorKind.PROTOCOL and "not a valid URL" in invalid.detail
