"""How a hostile or broken gateway answers the image route: one function per misbehaviour.

Each behaviour gets the connected socket, the request and the server's stop event. Bodies of
any size are generated on the fly and never held in memory; every loop ends when the client
goes away or the server stops.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
import zlib

from hostile.server import Behaviour, Request, response_head, send_response

GiB = 1024**3
CHUNK = 64 * 1024
SCRIPT = (
    "<script>document.title='PWNED';"
    "document.documentElement.appendChild(document.createElement('pwned-marker'))</script>"
    "<img src=x onerror=\"document.title='PWNED'\">"
)


def silent(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """Reads the request, then never answers."""
    stop.wait(120)


def slow(delay_s: float) -> Behaviour:
    """Answers an empty JSON object after `delay_s` seconds."""

    def behaviour(sock: socket.socket, request: Request, stop: threading.Event) -> None:
        if not stop.wait(delay_s):
            send_response(sock, 200, b"{}")

    return behaviour


def trickled_headers(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """Sends a status line, then one header line every 100 ms, forever."""
    sock.sendall(b"HTTP/1.1 200 OK\r\n")
    n = 0
    while not stop.wait(0.1):
        sock.sendall(f"x-trickle-{n}: {n}\r\n".encode())
        n += 1


def trickled_body(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """Promises a 1 MiB JSON body and sends one byte of it every 100 ms."""
    sock.sendall(
        response_head(
            200, "OK", (("content-type", "application/json"), ("content-length", str(1024 * 1024)))
        )
    )
    while not stop.wait(0.1):
        sock.sendall(b" ")


def endless_sse(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """A 200 event stream that never ends: small events as fast as the client reads them."""
    sock.sendall(
        response_head(
            200, "OK", (("content-type", "text/event-stream"), ("cache-control", "no-cache"))
        )
    )
    n = 0
    while not stop.is_set():
        batch = []
        for _ in range(100):
            data = json.dumps({"type": "keep.going", "sequence_number": n})
            batch.append(f": heartbeat\nevent: keep.going\ndata: {data}\n\n")
            n += 1
        sock.sendall("".join(batch).encode())


def trickled_sse(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """A 200 event stream that never ends: one small event every 50 ms."""
    sock.sendall(response_head(200, "OK", (("content-type", "text/event-stream"),)))
    n = 0
    while not stop.wait(0.05):
        data = json.dumps({"type": "keep.going", "sequence_number": n})
        sock.sendall(f"data: {data}\n\n".encode())
        n += 1


def huge_body(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """Declares and streams a 1 GiB JSON-looking body, generated chunk by chunk."""
    sock.sendall(
        response_head(
            200, "OK", (("content-type", "application/json"), ("content-length", str(GiB)))
        )
    )
    chunk = b"A" * CHUNK
    sent = 0
    sock.sendall(b'{"data": "')
    while sent < GiB - CHUNK and not stop.is_set():
        sock.sendall(chunk)
        sent += CHUNK


def gzip_bomb(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """A gzip body that inflates to 1 GiB of zeros, compressed on the fly."""
    sock.sendall(
        response_head(
            200, "OK", (("content-type", "application/json"), ("content-encoding", "gzip"))
        )
    )
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1024 * 1024)
    for _ in range(1024):
        if stop.is_set():
            return
        piece = packer.compress(zeros)
        if piece:
            sock.sendall(piece)
    sock.sendall(packer.flush())


def fixed(
    status: int,
    body: bytes,
    content_type: str = "application/json",
    reason: str = "OK",
    headers: tuple[tuple[str, str], ...] = (),
) -> Behaviour:
    """Always the same complete response."""

    def behaviour(sock: socket.socket, request: Request, stop: threading.Event) -> None:
        send_response(sock, status, body, content_type, reason, headers)

    return behaviour


garbage = fixed(200, random.Random(7).randbytes(4096))
invalid_utf8 = fixed(200, b'{"created": 1700000000, "data": [{"url": "\xff\xfe\xc3\x28"}]}')
truncated_json = fixed(200, b'{"created": 1700000000, "data": [{"b64_json": "iVBORw0KGgoAAA')
html_502 = fixed(
    502,
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>",
    content_type="text/html",
    reason="Bad Gateway",
)
bad_gzip = fixed(200, b"this was never gzip" * 8, headers=(("content-encoding", "gzip"),))


def overlong_body(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """Sends more body bytes than its Content-Length declares."""
    body = json.dumps({"created": int(time.time()), "data": [{"url": "x" * 200}]}).encode()
    head = response_head(
        200, "OK", (("content-type", "application/json"), ("content-length", "16"))
    )
    sock.sendall(head + body)


def reset_mid_body(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """Promises 4 KiB, sends 100 bytes, then resets the connection (RST, not FIN)."""
    head = response_head(
        200, "OK", (("content-type", "application/json"), ("content-length", "4096"))
    )
    sock.sendall(head + b'{"created": 1700000000, "data": [' + b" " * 66)
    time.sleep(0.05)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def rate_limited(retry_after: str) -> Behaviour:
    """Every request: 429 with the given Retry-After."""
    body = json.dumps({"error": {"message": "Rate limit exceeded", "code": "429"}}).encode()
    return fixed(429, body, reason="Too Many Requests", headers=(("retry-after", retry_after),))


def echo_secrets(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """A 500 whose error message and headers echo markup and every credential it was sent."""
    secrets = [v for k, v in request.headers.items() if k in ("api-key", "x-bf-vk")]
    echoed = " ".join(secrets)
    message = f"{SCRIPT} upstream refused key {echoed}"
    body = json.dumps({"error": {"message": message, "type": "server_error", "code": "500"}})
    headers = (("x-echo", f"{SCRIPT} {echoed}"), ("x-api-key-seen", echoed))
    send_response(sock, 500, body.encode(), reason="Internal Server Error", headers=headers)


def echo_key_at(status: int, offset: int) -> Behaviour:
    """An error body that echoes the api key starting `offset` characters into the body.

    Placed where an excerpt or a message is cut, the key straddles the cut.
    """

    def behaviour(sock: socket.socket, request: Request, stop: threading.Event) -> None:
        head = '{"error": {"message": "'
        pad = ("x " * offset)[: max(0, offset - len(head))]
        body = f'{head}{pad}{request.headers.get("api-key", "")} was refused"}}}}'
        send_response(sock, status, body.encode(), reason="Refused")

    return behaviour


def rotating(*behaviours: Behaviour) -> Behaviour:
    """The n-th image request gets the (n mod k)-th behaviour: one run meets all of them."""
    lock = threading.Lock()
    count = [0]

    def behaviour(sock: socket.socket, request: Request, stop: threading.Event) -> None:
        with lock:
            chosen = behaviours[count[0] % len(behaviours)]
            count[0] += 1
        chosen(sock, request, stop)

    return behaviour


# -- bounds: answers built to exhaust memory or CPU, or to break the writers ---------------


def _png(width: int, height: int) -> bytes:
    """A PNG whose header declares `width` x `height` (one tiny, truncated row of data):
    decoding it would allocate width * height pixels."""
    import zlib as _z

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", _z.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", _z.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


PIXEL_BOMB = _png(30_000, 30_000)


def _b64_images(image: bytes, n: int = 1) -> bytes:
    import base64

    item = {"b64_json": base64.b64encode(image).decode(), "revised_prompt": "a cat"}
    return json.dumps({"created": 1700000000, "data": [item] * n}).encode()


pixel_bomb = fixed(200, _b64_images(PIXEL_BOMB))
wide_json = fixed(
    200, json.dumps({"created": 1700000000, "data": [{"url": "x"}] * 300_000}).encode()
)
deep_json = fixed(200, b'{"created": 1700000000, "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
deep_json_parsable = fixed(
    200, b'{"created": 1700000000, "data": [' + b"[" * 500 + b"]" * 500 + b"]}"
)
huge_created = fixed(
    200,
    b'{"created": 1' + b"7" * 5000 + b', "data": [{"url": "https://example.invalid/a.png"}]}',
)
huge_float = fixed(200, b'{"created": 1e99999, "data": [{"url": "http://x/' + b"9" * 5000 + b'"}]}')
lone_surrogate = fixed(
    500,
    b'{"error": {"message": "bad \\ud800 char \\udfff", "type": "server_error", '
    b'"code": "\\ud800"}}',
    reason="Internal Server Error",
)
ESCAPES = "\x1b]0;PWNED\x07\x1b]52;c;cHduZWQ=\x07\x1b]8;;http://evil.invalid\x07link\x1b[2J\x9b1m"
terminal_escapes = fixed(
    200,
    json.dumps(
        {"created": ESCAPES + "~" * 20_000, "data": [{"url": "http://x.invalid/" + ESCAPES}]}
    ).encode(),
)


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


_STACKED: list[bytes] = []


def stacked_gzip_body() -> bytes:
    """gzip(gzip(256 MiB of zeros)): about 3 KiB, built once (call it before serving: building
    takes a few seconds on a loaded machine)."""
    if not _STACKED:
        packer = zlib.compressobj(1, zlib.DEFLATED, 31)
        zeros = b"\0" * (1024 * 1024)
        inner = b"".join(packer.compress(zeros) for _ in range(256)) + packer.flush()
        _STACKED.append(_gzip(inner))
    return _STACKED[0]


def stacked_gzip_bomb(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """`Content-Encoding: gzip, gzip`: a few kilobytes that inflate to 256 MiB of zeros."""
    send_response(sock, 200, stacked_gzip_body(), headers=(("content-encoding", "gzip, gzip"),))


triple_gzip = fixed(
    200,
    _gzip(_gzip(_gzip(b'{"created": 1700000000, "data": []}'))),
    headers=(("content-encoding", "gzip, gzip, gzip"),),
)


def fat_sse(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """A stream of 200 events whose name, id and data fields are 40 KiB each."""
    sock.sendall(response_head(200, "OK", (("content-type", "text/event-stream"),)))
    field = "z" * 40_000
    for n in range(200):
        if stop.is_set():
            return
        data = json.dumps({"type": field, "sequence_number": n, "pad": field})
        sock.sendall(f"event: {field}\nid: {field}\ndata: {data}\n\n".encode())


def fat_headers(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """A 500 with 80 headers of 8000 characters each (as large as HTTP parsers take)."""
    headers = tuple((f"x-fat-{i}", "h" * 8000) for i in range(80))
    body = json.dumps({"error": {"message": "m" * 100_000, "type": "x", "code": "500"}})
    send_response(sock, 500, body.encode(), reason="Internal Server Error", headers=headers)


# -- independence and containment ----------------------------------------------------------


def sets_cookie(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """Answers 500 with a Set-Cookie (the suite must never send it back)."""
    send_response(
        sock,
        500,
        b'{"error": {"message": "x", "type": "x", "code": "500"}}',
        reason="Internal Server Error",
        headers=(("set-cookie", "session=tracked; Path=/"),),
    )


def image_urls(*urls: str) -> Behaviour:
    """A 200 whose data holds the given image URLs (`{base}` is the server's own URL)."""

    def behaviour(sock: socket.socket, request: Request, stop: threading.Event) -> None:
        base = "http://" + request.headers.get("host", "127.0.0.1")
        data = [{"url": u.replace("{base}", base), "revised_prompt": "a cat"} for u in urls]
        body = json.dumps({"created": int(time.time()), "data": data}).encode()
        send_response(sock, 200, body)

    return behaviour


def by_path(routes: dict[str, Behaviour], default: Behaviour) -> Behaviour:
    """The behaviour of the first path substring that matches (serve with `route=""`)."""

    def behaviour(sock: socket.socket, request: Request, stop: threading.Event) -> None:
        chosen = next((b for key, b in routes.items() if key in request.path), default)
        chosen(sock, request, stop)

    return behaviour


def redirect_loop(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """Redirects every request to the next hop of an endless chain."""
    n = int(request.path.rsplit("/", 1)[-1] or 0) if request.path[-1:].isdigit() else 0
    send_response(sock, 302, b"", headers=(("location", f"/hop/{n + 1}"),), reason="Found")


def echo_key_forms(sock: socket.socket, request: Request, stop: threading.Event) -> None:
    """A 500 whose message echoes the api key in every encoded form a log or proxy gives it."""
    import base64
    from urllib.parse import quote

    key = request.headers.get("api-key", "")
    vk = request.headers.get("x-bf-vk", "")
    auth = request.headers.get("authorization", "")
    forms = [
        "".join(f"\\u{ord(c):04x}" for c in key[:4]) + key[4:],
        quote(key, safe="").replace("-", "%2D"),
        quote(key, safe="").replace("-", "%2d"),
        *(base64.b64encode(b"x" * k + key.encode() + b"yy").decode() for k in range(3)),
        *(base64.b64encode(b"p" * k + vk.encode()).decode() for k in range(3)),
        auth,
    ]
    body = json.dumps({"error": {"message": " | ".join(forms), "type": "x", "code": "500"}})
    # `ensure_ascii` JSON of the escaped form doubles its backslashes: one more encoding layer.
    send_response(
        sock, 500, body.encode(), reason="Internal Server Error", headers=(("x-echo", forms[1]),)
    )
