"""Every server the project starts accepts connections with Nagle's algorithm off.

With it on, uvicorn's response head and body were two writes, and on a kept-alive connection
the body waited for the client's delayed ACK (about 40 ms a request after the first): every
SDK probe, every call a gateway made to the fake upstream over a pooled connection.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from conformance.targets.listen import listening_socket

TARGETS = Path(__file__).resolve().parents[1] / "conformance" / "targets"


def _accepted_no_delay(sock: socket.socket) -> int:
    """TCP_NODELAY on the transport asyncio makes for a connection accepted on `sock`."""

    async def main() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Protocol(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                raw = transport.get_extra_info("socket")
                seen.set_result(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Protocol, sock=sock)
        port = sock.getsockname()[1]
        async with server:
            _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            try:
                return await asyncio.wait_for(seen, 5)
            finally:
                writer.close()

    return asyncio.run(main())


def test_an_accepted_connection_has_nagle_off() -> None:
    assert _accepted_no_delay(listening_socket()) != 0


def test_a_default_protocol_socket_would_have_it_on() -> None:
    """The defect the helper exists for: asyncio leaves a socket of protocol 0 alone."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    assert _accepted_no_delay(sock) == 0


def test_the_targets_make_their_sockets_through_the_helper() -> None:
    makers = [
        path.relative_to(TARGETS).as_posix()
        for path in TARGETS.rglob("*.py")
        if "socket.socket(" in path.read_text().replace("socket.socket(fileno=", "")
    ]
    assert makers == ["listen.py"]
