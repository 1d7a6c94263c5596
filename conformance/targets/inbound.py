"""Read a Starlette request into a `GatewayRequest`: route match, path parameters, JSON body."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request

from conformance.spec import Operation
from conformance.targets.messages import GatewayRequest


def path_pattern(op: Operation) -> re.Pattern[str]:
    """A regex for the operation's path template; each `{name}` becomes one path segment."""
    parts = re.split(r"(\{[^}]+\})", op.path)
    regex = "".join(
        f"(?P<p{i}>[^/]+)" if part.startswith("{") else re.escape(part)
        for i, part in enumerate(parts)
    )
    return re.compile(f"^{regex}/?$")


def path_params(op: Operation, pattern: re.Pattern[str], raw_path: str) -> dict[str, str] | None:
    """The decoded path parameters of a still percent-encoded path, or None when it is not
    the operation's path (an encoded `/` stays inside its parameter)."""
    match = pattern.match(raw_path)
    if match is None:
        return None
    names = re.findall(r"\{([^}]+)\}", op.path)
    groups = sorted(match.groupdict().items(), key=lambda kv: int(kv[0][1:]))
    return dict(zip(names, (unquote(v) for _, v in groups), strict=True))


def raw_path(request: Request) -> str:
    """The request path as sent, before percent-decoding."""
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path


def parse_json(raw: bytes) -> tuple[bool, Any]:
    """`(True, value)` when `raw` is one UTF-8 JSON document, else `(False, None)`."""
    try:
        return True, json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return False, None


async def read(request: Request, op: Operation, params: dict[str, str]) -> GatewayRequest:
    raw = await request.body()
    parsed, body = parse_json(raw)
    return GatewayRequest(
        op=op,
        method=request.method,
        path=request.url.path,
        query=dict(request.query_params),
        headers={k.lower(): v for k, v in request.headers.items()},
        raw=raw,
        base_url=str(request.base_url).rstrip("/"),
        deployment=next(iter(params.values()), None),
        body=body,
        parsed=parsed,
    )
