"""Read a Starlette request into a `GatewayRequest` and list what makes it invalid per the spec."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from urllib.parse import unquote

from jsonschema import ValidationError
from starlette.requests import Request

from conformance.spec import Operation
from conformance.targets.messages import GatewayRequest, Issue


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


async def read(request: Request, op: Operation, params: dict[str, str]) -> GatewayRequest:
    raw = await request.body()
    req = GatewayRequest(
        op=op,
        method=request.method,
        path=request.url.path,
        query=dict(request.query_params),
        headers={k.lower(): v for k, v in request.headers.items()},
        raw=raw,
        base_url=str(request.base_url).rstrip("/"),
        deployment=next(iter(params.values()), None),
    )
    with contextlib.suppress(UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        req.body, req.parsed = json.loads(raw.decode("utf-8")), True
    return req


def issues(req: GatewayRequest, params: dict[str, str]) -> list[Issue]:
    """Every way the request breaks the spec, most basic first (empty = valid)."""
    op = req.op
    found = _parameter_issues(op, req, params)
    media = req.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != op.request_media_type:
        shown = media or "none"
        message = f"Content-Type must be {op.request_media_type}, got {shown}"
        return [*found, Issue("content-type", message, "content-type", "unsupported_media_type")]
    if not req.raw.strip():
        if op.request_required:
            return [*found, Issue("body", "request body is required", "required", "missing_body")]
        return found
    if not req.parsed:
        return [*found, Issue("body", "request body is not valid JSON", "json", "invalid_json")]
    errors = sorted(op.request_validator().iter_errors(req.body), key=_error_order)
    missing = iter(
        name for name in op.required_fields if isinstance(req.body, dict) and name not in req.body
    )
    return [*found, *(_issue(err, missing) for err in errors)]


def _parameter_issues(op: Operation, req: GatewayRequest, params: dict[str, str]) -> list[Issue]:
    found: list[Issue] = []
    for param in op.parameters:
        source = params if param.location == "path" else req.query
        if param.location not in ("path", "query"):
            continue
        if param.name not in source:
            if param.required:
                found.append(Issue(param.name, f"{param.name} is required", "required", "missing"))
            continue
        error = next(op.validator(param.schema).iter_errors(source[param.name]), None)
        if error is not None:
            found.append(Issue(param.name, f"{param.name}: {error.message}", str(error.validator)))
    return found


def _error_order(error: ValidationError) -> tuple[int, str]:
    return (len(error.absolute_path), str(list(error.absolute_path)))


def _issue(error: ValidationError, missing: Iterator[str]) -> Issue:
    keyword = str(error.validator)
    if error.absolute_path:
        param = ".".join(str(p) for p in error.absolute_path)
    elif keyword == "required":
        param = next(missing, "body")
    else:
        param = "body"
    code = "missing_required_parameter" if keyword == "required" else "invalid_value"
    return Issue(param, error.message, keyword, code)
