"""The environment line names what happened: a wrong route, TLS to plain HTTP, credentials,
quota, DNS, a refused connection."""

from __future__ import annotations

import errno
import socket

from conformance.environment import environment_lines, unreachable
from conformance.results import EnvironmentProblem


def problems(*statuses: int) -> list[EnvironmentProblem]:
    return [EnvironmentProblem(f"case-{i}", status, "") for i, status in enumerate(statuses)]


def test_each_kind_of_answer_is_named_for_what_it_is() -> None:
    lines = environment_lines(problems(404, 404, 405, 401, 429, 0))
    assert (
        "3 answers were 404/405: route not found: check --base-url, --profile and --deployment"
        in lines
    )
    assert "1 answer was 401: credentials refused: check --api-key / --header" in lines
    assert "1 answer was 429: rate limited or out of quota" in lines
    assert any(line.startswith("1 requests failed: TLS handshake failed") for line in lines)
    assert not any("401/403/429" in line for line in environment_lines(problems(404)))


def test_an_unreachable_target_says_dns_or_refused() -> None:
    dns = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert "does not resolve (DNS" in unreachable("http://nowhere.invalid", dns)
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    assert "connection refused" in unreachable("http://127.0.0.1:1", refused)


def test_a_real_refused_connection_is_named(tmp_path: object) -> None:
    from conformance.cli import main

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = main(["run", "--base-url", f"http://127.0.0.1:{port}", "--report-dir", str(tmp_path)])
    assert code == 3
