"""The exact HTTP request a case stands for: URL, query, headers and body.

Pure: no transport. The path comes from the document (`Operation.render_path`), the API key
goes where its security scheme says, and a case's raw body is sent byte for byte.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from conformance import __version__
from conformance.config import Target
from conformance.model import Case, SentRequest, accept_header
from conformance.spec import Operation

ACCEPT_ENCODING = "gzip, deflate"
"""The codings `conformance.decoding` undoes within bounds (sent explicitly: httpx would
offer br and zstd too when their libraries happen to be installed)."""


def build_request(target: Target, op: Operation, case: Case) -> SentRequest:
    """The exact request `case` stands for, sent to `target`."""
    deployment = case.deployment if case.deployment is not None else target.deployment
    path = op.render_path(deployment, target.path)
    url = target.base_url.rstrip("/") + path
    query: list[str] = []
    version = case.api_version if case.api_version is not None else target.api_version
    if version and not case.omit_api_version and target.send_api_version:
        query.append("api-version=" + quote(version, safe=""))
    key = op.key
    if target.api_key and key.location == "query" and not target.bearer:
        query.append(f"{quote(key.name, safe='')}={quote(target.api_key, safe='')}")
    url += "?" + "&".join(query) if query else ""
    body = case.raw_body if case.raw_body is not None else json.dumps(case.body).encode()
    headers = {
        "content-type": case.content_type,
        **accept_header(case),
        "accept-encoding": ACCEPT_ENCODING,
        "user-agent": f"gateway-conformance/{__version__}",
    }
    if target.api_key and (target.bearer or key.location == "bearer"):
        headers["authorization"] = f"Bearer {target.api_key}"
    elif target.api_key and key.location == "header":
        headers[key.name.lower()] = target.api_key
    headers.update(target.extra_headers(deployment, version))
    return SentRequest(op.method.upper(), url, headers, body)
