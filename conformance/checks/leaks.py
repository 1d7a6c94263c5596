"""Finding a client's credential in what reached the upstream, in any place and any form.

The client's key never goes upstream (rulings, Gateways and their upstream): not in a header,
the query, or any body value at any depth (`user` included), not base64- or percent-encoded,
and not in part. A part is any run of `PART_CHARS` characters of the key; a run that the
gateway's own upstream credential also holds (a shared prefix such as `sk-proj-`) or that the
client itself sent outside its credential is not evidence, so it is not counted.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from conformance.secret_forms import base64_cores

CREDENTIAL_HEADERS = ("api-key", "authorization", "x-api-key", "proxy-authorization")
MIN_CREDENTIAL_CHARS = 6
PART_CHARS = 8
KEY_WORDS = ("key", "auth", "token", "secret", "signature", "password", "code")
"""A header or query parameter whose name holds one of these carries a key."""
MAX_DEPTH = 32
MIN_CORE_CHARS = 8
"""A base64 core of the key shorter than this could be ordinary text."""


@dataclass(frozen=True)
class Leak:
    """Where a form of the credential was found upstream, and which form."""

    place: str
    form: str


def credentials(headers: dict[str, str]) -> list[str]:
    """The secrets of the client's credential headers (a Bearer/Basic scheme word dropped)."""
    found = []
    for name, value in headers.items():
        if name.lower() not in CREDENTIAL_HEADERS:
            continue
        scheme, _, rest = value.partition(" ")
        secret = rest.strip() if rest and scheme.lower() in ("bearer", "basic") else value.strip()
        if len(secret) >= MIN_CREDENTIAL_CHARS:
            found.append(secret)
    return found


def encoded_forms(secret: str) -> dict[str, str]:
    """form name -> text: the secret as sent, base64 (standard and URL-safe, padded or not,
    whole or at any byte offset inside a longer encoded value) and percent-encoded."""
    raw = secret.encode()
    forms = {"the credential": secret}
    for label, text in (
        ("base64", base64.b64encode(raw).decode()),
        ("base64url", base64.urlsafe_b64encode(raw).decode()),
    ):
        forms[f"its {label} form"] = text
        forms[f"its unpadded {label} form"] = text.rstrip("=")
    forms["its percent-encoded form"] = quote(secret, safe="")
    for number, core in enumerate(sorted(base64_cores(secret, MIN_CORE_CHARS)), start=1):
        forms[f"its base64 form inside a longer encoded value ({number})"] = core
    return {
        form: text for form, text in forms.items() if form == "the credential" or text != secret
    }


def parts(secret: str, innocent: list[str]) -> set[str]:
    """The runs of `PART_CHARS` characters of `secret` that no `innocent` text holds."""
    if len(secret) <= PART_CHARS:
        return set()
    runs = {secret[i : i + PART_CHARS] for i in range(len(secret) - PART_CHARS + 1)}
    return {run for run in runs if not any(run in text for text in innocent)}


def places(record: dict[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """(place, text, holds a key) of everything an upstream request carried: each header, each
    query value, each body key and string or number at any depth (or the body as text).
    A header or query parameter named like a credential holds a key (the gateway's own)."""
    for name, value in (record.get("headers") or {}).items():
        yield f"the {name} header", str(value), _names_a_key(name)
    for name, value in (record.get("query") or {}).items():
        yield f"the query parameter {name}", str(value), _names_a_key(name)
    body = record.get("body")
    if body is None and isinstance(record.get("body_text"), str):
        yield "the body", record["body_text"], False
    else:
        for place, text in _values(body, "", 0):
            yield place, text, False


def find_leaks(secret: str, record: dict[str, Any], sent_elsewhere: list[str]) -> list[Leak]:
    """Each place of `record` holding the secret in a form or in part (one finding a place).

    Places that hold a key (the gateway's own) are matched on whole forms only, and a part
    they share with the client's key (a common prefix) is no evidence anywhere.
    `sent_elsewhere`: what the client sent besides its credential (a part found there proves
    nothing)."""
    forms = encoded_forms(secret)
    found = list(places(record))
    own_keys = [text for _place, text, holds_key in found if holds_key]
    pieces = parts(secret, [*own_keys, *sent_elsewhere])
    leaks = []
    for place, text, holds_key in found:
        form = next((label for label, shown in forms.items() if shown in text), None)
        if form is None and not holds_key:
            form = next((f"a part of it ({run!r})" for run in pieces if run in text), None)
        if form is not None:
            leaks.append(Leak(place, form))
    return leaks


def _names_a_key(name: str) -> bool:
    lowered = str(name).lower()
    return lowered in CREDENTIAL_HEADERS or any(word in lowered for word in KEY_WORDS)


def _values(value: Any, path: str, depth: int) -> Iterator[tuple[str, str]]:
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            yield f"the body's key {where}", str(key)
            yield from _values(inner, where, depth + 1)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _values(inner, f"{path}[{index}]", depth + 1)
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield f"the body's {path or 'value'}", str(value)
