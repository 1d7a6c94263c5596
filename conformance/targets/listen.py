"""The listening socket every server of the project is started on.

asyncio turns Nagle's algorithm off on the connections it accepts only when the socket says it
is TCP (`proto == IPPROTO_TCP`); a socket made with the default protocol (0) is left with it
on. uvicorn writes a response's head and body apart, so on a kept-alive connection the body then
waited for the client's delayed ACK: about 40 ms for every request after a connection's first
(the SDK's probes, a gateway's calls to the fake upstream, any keep-alive client).
"""

from __future__ import annotations

import socket


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A TCP socket bound to `host`:`port` (0: a free port), not yet listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited on accept
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
